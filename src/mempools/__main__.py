"""Command line: `python -m mempools bench [--json]`, `release SRC DST`, `grade DIR --out CSV`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mempools import bench
from mempools.exercises import release


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mempools")
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("bench", help="time the pools against libc malloc, inside C")
    b.add_argument("--json", action="store_true", help="print JSON instead of a table")
    b.add_argument("--size", type=int, default=32)
    b.add_argument("--repeats", type=int, default=7)
    r = commands.add_parser("release", help="write the student version of exercise notebooks")
    r.add_argument("src", type=Path)
    r.add_argument("dst", type=Path)
    g = commands.add_parser("grade", help="check every exercise of submitted notebooks into a CSV")
    g.add_argument("dir", type=Path)
    g.add_argument("--out", type=Path, default=Path("grades.csv"))
    g.add_argument("--jobs", type=int, default=None, help="parallel workers (default: all cores)")
    args = parser.parse_args(argv)
    if args.command == "release":
        for path in release.release(args.src, args.dst):
            print("wrote", path)
        return 0
    if args.command == "grade":
        grades = release.grade(args.dir, args.out, args.jobs)
        students = sorted({g.student for g in grades})
        for student in students:
            mine = [g for g in grades if g.student == student]
            print(f"{student}: {sum(g.score for g in mine)}/{sum(g.max_score for g in mine)}")
        print(f"wrote {args.out} ({len(grades)} rows)")
        return 0
    rows = bench.run(size=args.size, repeats=args.repeats)
    if args.json:
        print(bench.to_json(rows))
    else:
        print(f"measured on {bench.machine()} (medians of {args.repeats} runs, timed in C)\n")
        print(bench.table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
