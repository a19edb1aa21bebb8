"""Benchmarks. Timed loops and trace replays run entirely in C (csrc/bench.c): Python only
loads the workload and reports. Every pool is measured against libc malloc/free in the same
run, as a ratio; space metrics come from a replay of the same trace on the Python pools."""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sysconfig
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from mempools._native import ffi, lib
from mempools.bump import BumpPool
from mempools.embedded import EmbeddedPool
from mempools.errors import OutOfMemory
from mempools.fixed import FixedPool
from mempools.malloc import Malloc
from mempools.pool import Pool
from mempools.trace import Op, Trace, replay

POOLS = ("malloc", "BumpPool", "FixedPool", "EmbeddedPool")
_C_POOL = {"malloc": lib.BENCH_MALLOC, "BumpPool": lib.BENCH_BUMP, "FixedPool": lib.BENCH_FIXED,
           "EmbeddedPool": lib.BENCH_EMBEDDED}


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


def python_overhead(calls: int = 20_000) -> tuple[float, float]:
    """ns per alloc+free pair through the Python wrapper vs the same pair timed in C: what a
    cffi call and the validation cost, measured separately from the allocator."""
    import time

    pool = FixedPool(32, 16)
    start = time.perf_counter_ns()
    for _ in range(calls):
        pool.free(pool.alloc())
    wrapped = (time.perf_counter_ns() - start) / calls
    return wrapped, lib.bench_fixed_pairs(32, 16, calls, 5)


@dataclass
class Measurement:
    """One pool on one workload."""

    workload: str
    pool: str
    ns_per_op: float
    libc_ns_per_op: float
    utilisation: float  # peak live payload / peak bytes the pool used
    internal: float  # padding + headers, as a share of the bytes in blocks, at peak
    external: float | None  # 1 - largest free gap / free bytes, at peak (None: not visible)
    mean_steps: float | None  # machine-independent work per op (None: libc does not say)
    max_steps: int | None
    failures: int

    @property
    def ops_per_s(self) -> float:
        return 1e9 / self.ns_per_op if self.ns_per_op > 0 else math.nan

    @property
    def speedup(self) -> float:
        return self.libc_ns_per_op / self.ns_per_op if self.ns_per_op > 0 else math.nan


@dataclass
class Shape:
    """What a trace asks for: sizes, how many live at once, how it frees."""

    ops: int
    ids: int
    max_live: int
    peak_bytes: int
    total_bytes: int
    min_size: int
    max_size: int
    stack_like: bool  # every free frees the newest live block
    has_realloc: bool


def shape(trace: Trace) -> Shape:
    live: list[int] = []
    sizes: dict[int, int] = {}
    max_live = peak = total = 0
    stack_like, all_sizes = True, []
    for op in trace.ops:
        if op.kind == "a":
            live.append(op.id)
        elif op.kind == "f":
            stack_like &= bool(live) and live[-1] == op.id
            live.remove(op.id)
            sizes.pop(op.id)
            continue
        sizes[op.id] = op.size or 0
        all_sizes.append(op.size or 0)
        total += op.size or 0
        max_live, peak = max(max_live, len(live)), max(peak, sum(sizes.values()))
    return Shape(len(trace.ops), trace.ids, max_live, peak, total, min(all_sizes),
                 max(all_sizes), stack_like, any(op.kind == "r" for op in trace.ops))


def supports(pool: str, s: Shape) -> bool:
    """Whether a pool can run the workload at all: a bump pool needs frees in stack order, a
    fixed pool one size; malloc and the embedded pool take anything."""
    if pool == "BumpPool":
        return s.stack_like and not s.has_realloc
    if pool == "FixedPool":
        return s.min_size == s.max_size and not s.has_realloc
    return True


def _param(pool: str, s: Shape) -> int:
    if pool == "BumpPool":
        return (s.total_bytes + 8 * s.ops + 4096) // 8 * 8
    if pool == "FixedPool":
        return s.max_size
    if pool == "EmbeddedPool":
        return (2 * s.peak_bytes + 8 * s.max_live + s.max_size + 7) // 8 * 8
    return 0


def _python_pool(pool: str, s: Shape) -> Pool:
    if pool == "BumpPool":
        return BumpPool(_param(pool, s))
    if pool == "FixedPool":
        return FixedPool(s.max_size, max(s.max_live, 1))
    if pool == "EmbeddedPool":
        return EmbeddedPool.for_blocks(_param(pool, s), max(s.max_live, 1))
    return Malloc()


def _c_replay(pool: str, trace: Trace, s: Shape, repeats: int) -> object:
    kinds = ffi.new("char[]", "".join(op.kind for op in trace.ops).encode())
    ids = ffi.new("size_t[]", [op.id for op in trace.ops])
    sizes = ffi.new("size_t[]", [op.size or 0 for op in trace.ops])
    out = ffi.new("bench_result *")
    err = lib.bench_replay(_C_POOL[pool], kinds, ids, sizes, s.ops, max(op.id for op in trace.ops) + 1,
                           s.max_live, _param(pool, s), repeats, out)
    if err:
        raise OutOfMemory(f"bench_replay({pool}) could not set up: error {err}")
    return out


def _space(pool: Pool, trace: Trace) -> tuple[float, float, float | None]:
    """Utilisation, internal and external fragmentation from walk(), at the peak-live step."""
    best: dict[str, float | None] = {"payload": -1}
    every = max(1, len(trace.ops) // 100)

    def sample(step: int, op: Op, p: Pool) -> None:
        if step % every:
            return
        regions = p.walk()
        payload = sum(r.size for r in regions if r.kind == "payload")
        if payload <= best["payload"]:
            return
        overhead = sum(r.size for r in regions if r.kind in ("padding", "header"))
        free = [r.size for r in regions if r.kind in ("free", "untouched")]
        if isinstance(p, FixedPool):
            external: float | None = 0.0  # any free block fits any request: nothing is cut up
        elif isinstance(p, Malloc):
            external = None  # libc's own free lists are not visible from here
        else:
            external = 1 - max(free) / sum(free) if free else 0.0
        best.update(payload=payload, internal=overhead / max(payload + overhead, 1),
                    external=external)

    result = replay(trace, pool, on_step=sample, check=False, verify_all=False)
    if result.errors:
        raise OutOfMemory(f"{type(pool).__name__}: {result.errors[0].message}")
    return result.utilisation, float(best.get("internal") or 0.0), best.get("external")


def measure(name: str, trace: Trace, pools: Iterable[str] = POOLS, repeats: int = 5
            ) -> list[Measurement]:
    """Every supporting pool on one trace; libc timed in the same run."""
    s = shape(trace)
    libc_run = _c_replay("malloc", trace, s, repeats)
    libc = libc_run.ns_per_op
    rows = []
    for pool in pools:
        if not supports(pool, s):
            continue
        c = libc_run if pool == "malloc" else _c_replay(pool, trace, s, repeats)
        with _python_pool(pool, s) as py:
            utilisation, internal, external = _space(py, trace)
        steps = None if pool == "malloc" else c.mean_steps
        rows.append(Measurement(name, pool, c.ns_per_op, libc, utilisation, internal, external,
                                steps, None if pool == "malloc" else int(c.max_steps),
                                int(c.failures)))
    return rows


def machine() -> str:
    """The machine and compiler the numbers come from."""
    cc = sysconfig.get_config_var("CC") or "cc"
    try:
        version = subprocess.run([cc.split()[0], "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        version = cc
    return (f"{platform.machine()} {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {version}")


def micro_table(rows: list[Row]) -> str:
    """A Markdown table of the tight loops: pool vs libc, per operation."""
    lines = ["| loop (timed in C) | pool | pool ns | libc ns | libc / pool |", "|---|---|---|---|---|"]
    lines += [f"| {r.workload} | {r.pool} | {r.pool_ns:.1f} | {r.libc_ns:.1f} | {r.speedup:.1f}x |"
              for r in rows]
    return "\n".join(lines)


def figure(rows: list[Measurement], path: object) -> None:
    """ns per op of every pool on every workload, grouped by workload, saved to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.workload for r in rows))
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(POOLS)
    for k, pool in enumerate(POOLS):
        xs = [i + k * width for i, n in enumerate(names)
              if any(r.workload == n and r.pool == pool for r in rows)]
        ys = [r.ns_per_op for n in names for r in rows if r.workload == n and r.pool == pool]
        ax.bar(xs, ys, width, label=pool)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=20, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("ns per operation (log)")
    ax.set_title("trace replay timed in C; pools missing where they cannot run the workload")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def table(rows: list[Measurement]) -> str:
    """A Markdown table of measurements."""
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.0%}"

    lines = ["| workload | pool | ns/op | ops/s | vs libc | utilisation | internal frag | "
             "external frag | steps/op mean (max) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        steps = "n/a" if r.mean_steps is None else f"{r.mean_steps:.1f} ({r.max_steps})"
        lines.append(f"| {r.workload} | {r.pool} | {r.ns_per_op:.1f} | {r.ops_per_s / 1e6:.1f} M | "
                     f"{r.speedup:.1f}x | {pct(r.utilisation)} | {pct(r.internal)} | "
                     f"{pct(r.external)} | {steps} |")
    return "\n".join(lines)


def to_json(rows: list[Measurement], micro: list[Row]) -> str:
    return json.dumps({"machine": machine(),
                       "workloads": [asdict(r) | {"ops_per_s": r.ops_per_s, "speedup": r.speedup}
                                     for r in rows],
                       "micro": [asdict(r) | {"speedup": r.speedup} for r in micro]}, indent=2)
