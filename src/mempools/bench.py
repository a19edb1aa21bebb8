"""C-side benchmarks: every timed loop runs inside C (csrc/bench.c); Python only reports.
Each pool is measured against libc malloc/free in the same run, as a ratio."""

from __future__ import annotations

import json
import platform
import sysconfig
from dataclasses import asdict, dataclass

from mempools._native import lib


@dataclass
class Row:
    """One comparison: ns per operation for a pool and for libc, and libc / pool."""

    workload: str
    pool: str
    pool_ns: float
    libc_ns: float

    @property
    def speedup(self) -> float:
        return self.libc_ns / self.pool_ns if self.pool_ns > 0 else float("nan")


def fixed_vs_malloc(size: int = 32, live: int = 1024, pairs: int = 200_000,
                    repeats: int = 7) -> Row:
    """Churn of alloc+free pairs with `live` blocks kept: FixedPool against malloc/free."""
    return Row(f"alloc+free pair, {size} B, {live} live", "FixedPool",
               lib.bench_fixed_pairs(size, live, pairs, repeats),
               lib.bench_malloc_pairs(size, live, pairs, repeats))


def bump_vs_malloc(size: int = 32, count: int = 200_000, repeats: int = 7) -> Row:
    """Phases of 1024 allocations then release-all (free each / one reset): BumpPool against
    malloc, per object."""
    return Row(f"alloc then release all, {size} B, rounds of 1024", "BumpPool",
               lib.bench_bump_allocs(size, count, repeats),
               lib.bench_malloc_allocs(size, count, repeats))


def embedded_vs_malloc(size: int = 32, live: int = 64, pairs: int = 20_000,
                       repeats: int = 7) -> Row:
    """Churn of alloc+free pairs: EmbeddedPool (handles, first fit) against malloc/free."""
    return Row(f"alloc+free pair, {size} B, {live} live", "EmbeddedPool",
               lib.bench_embedded_pairs(size, live, pairs, repeats),
               lib.bench_malloc_pairs(size, live, pairs, repeats))


def run(size: int = 32, repeats: int = 7) -> list[Row]:
    """Every comparison, libc measured in the same run as each pool."""
    return [fixed_vs_malloc(size, repeats=repeats), bump_vs_malloc(size, repeats=repeats),
            embedded_vs_malloc(size, repeats=repeats)]


def machine() -> str:
    """The machine and compiler the numbers come from."""
    return (f"{platform.machine()} {platform.system()} {platform.release()}, Python "
            f"{platform.python_version()}, CC {sysconfig.get_config_var('CC') or '?'}")


def table(rows: list[Row]) -> str:
    """A Markdown table of the rows."""
    lines = ["| workload | pool | pool ns/op | libc ns/op | libc / pool |", "|---|---|---|---|---|"]
    lines += [f"| {r.workload} | {r.pool} | {r.pool_ns:.1f} | {r.libc_ns:.1f} | {r.speedup:.1f}x |"
              for r in rows]
    return "\n".join(lines)


def to_json(rows: list[Row]) -> str:
    return json.dumps({"machine": machine(),
                       "rows": [asdict(r) | {"speedup": r.speedup} for r in rows]}, indent=2)
