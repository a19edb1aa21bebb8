"""Command line: `python -m mempools bench [--json]`, `release SRC DST`, `grade DIR --out CSV`,
`practice TOPIC --seed N [--answer]`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from mempools import practice, workloads
from mempools.resources import traces_dir
from mempools.trace import Trace, TraceError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mempools")
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("bench", help="time the pools against libc malloc, inside C")
    b.add_argument("--json", action="store_true", help="print JSON instead of a table")
    b.add_argument("--repeats", type=int, default=7)
    b.add_argument("--ops", type=int, default=4000, help="ops per seeded workload")
    b.add_argument("--trace", action="append", default=[],
                   help="a malloc-lab .rep file (any dialect: see README) or an OSTEP op string "
                        "to add (repeatable)")
    b.add_argument("--lenient", action="store_true",
                   help="skip trace lines that cannot be read (with a warning) instead of stopping")
    b.add_argument("--figure", type=Path, help="also write a figure of ns/op (PNG or SVG)")
    t = commands.add_parser("make-traces", help="write the seeded malloclab traces to a folder")
    t.add_argument("dir", type=Path)
    r = commands.add_parser("release", help="write the student version of exercise notebooks")
    r.add_argument("src", type=Path)
    r.add_argument("dst", type=Path)
    g = commands.add_parser("grade", help="check every exercise of submitted notebooks into a CSV")
    g.add_argument("dir", type=Path, nargs="?", help="one folder (or notebook) per student")
    g.add_argument("--out", type=Path, default=Path("grades.csv"),
                   help="the grade sheet; per-student totals go to <out>-totals.csv")
    g.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    g.add_argument("--no-sanitize", action="store_true",
                   help="skip AddressSanitizer + UndefinedBehaviorSanitizer (on by default)")
    g.add_argument("--bench", type=int, nargs="?", const=4, metavar="STUDENTS",
                   help="time grading of generated submissions and print seconds per row")
    p = commands.add_parser("practice", help="a seeded problem; --answer reveals its answer")
    p.add_argument("topic", choices=sorted(practice.TOPICS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--answer", action="store_true", help="also print the answer and why")
    args = parser.parse_args(argv)
    if args.command == "practice":
        if args.seed < 0:
            parser.error("--seed must not be negative")
        print(practice.problem(args.topic, args.seed).text(answer=args.answer))
        return 0
    if args.command in ("release", "grade"):
        from mempools.exercises import release  # loads the exercise machinery only when asked
    if args.command == "release":
        for path in release.release(args.src, args.dst):
            print("wrote", path)
        return 0
    if args.command == "grade" and args.bench:
        from mempools.exercises import grading_bench

        print(grading_bench.run(args.bench, args.jobs, sanitize=not args.no_sanitize))
        return 0
    if args.command == "grade":
        if args.dir is None:
            parser.error("grade needs the folder of submissions (or --bench)")
        grades = release.grade(args.dir, args.out, args.jobs, sanitize=not args.no_sanitize)
        students = sorted({g.student for g in grades})
        for student in students:
            mine = [g for g in grades if g.student == student]
            print(f"{student}: {sum(g.score for g in mine)}/{sum(g.max_score for g in mine)}")
        print(f"wrote {args.out} ({len(grades)} rows)")
        return 0
    if args.command == "make-traces":
        for path in workloads.write_traces(args.dir):
            print("wrote", path)
        return 0
    return run_bench(args)


def run_bench(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mempools import bench

    traces = {name: make(1, ops=args.ops) for name, make in workloads.WORKLOADS.items()}
    traces |= workloads.bundled_traces(traces_dir())
    for item in args.trace:
        path = Path(item)
        try:
            # canonical: the C replay knows a/r/f on live ids only, not the dialect forms
            traces[f"trace {path.stem}" if path.exists() else item] = Trace.parse(
                path.read_text() if path.exists() else item, lenient=args.lenient).canonical()
        except TraceError as e:
            print(f"python -m mempools bench: --trace {item}: {e}", file=sys.stderr)
            return 2
    progress = tqdm(total=len(traces) + 2, disable=not sys.stderr.isatty(), desc="measuring",
                    file=sys.stderr)
    micro = bench.micro(repeats=args.repeats)
    progress.update()
    wrapper = bench.wrapper_vs_cffi()
    progress.update()
    rows = bench.measure_all(traces, repeats=args.repeats, progress=progress)
    progress.close()
    if args.figure:
        bench.figure(rows, args.figure)
    if args.json:
        print(bench.to_json(rows, micro, wrapper))
        return 0
    print(f"measured on {bench.machine()}, {date.today()}; medians of {args.repeats} runs, "
          "timed in C; libc and each pool's floor measured in the same run\n")
    print(bench.micro_table(micro))
    print(f"\nthrough the Python wrapper a FixedPool alloc+free pair costs {wrapper[0]:.0f} ns; a "
          f"bare cffi malloc+free pair on the same extension {wrapper[1]:.0f} ns "
          f"({wrapper[0] / wrapper[1]:.1f}x)\n")
    print(bench.table(rows))
    print("\nper-op latency (each op timed alone, fastest of the repeats, clock cost subtracted)\n")
    print(bench.latency_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
