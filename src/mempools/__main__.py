"""Command line: `python -m mempools bench [--json]`."""

from __future__ import annotations

import argparse
import sys

from mempools import bench


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mempools")
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("bench", help="time the pools against libc malloc, inside C")
    b.add_argument("--json", action="store_true", help="print JSON instead of a table")
    b.add_argument("--size", type=int, default=32)
    b.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    rows = bench.run(size=args.size, repeats=args.repeats)
    if args.json:
        print(bench.to_json(rows))
    else:
        print(f"measured on {bench.machine()} (medians of {args.repeats} runs, timed in C)\n")
        print(bench.table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
