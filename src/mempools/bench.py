"""Benchmarks. Timed loops and trace replays run entirely in C (csrc/bench.c): Python only
loads the workload and reports. Every pool is measured against libc malloc/free in the same
run, as a ratio; space metrics come from a replay of the same trace on the Python pools."""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sysconfig
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.bump import BumpPool
from mempools.embedded import POLICIES, EmbeddedPool
from mempools.errors import OutOfMemory
from mempools.fixed import FixedPool
from mempools.free_list import COALESCING, FITS, FOOTERS, LISTS, FreeListPool
from mempools.malloc import Malloc
from mempools.pool import Pool
from mempools.trace import Op, Trace, replay

POOLS = ("malloc", "BumpPool", "FixedPool", "EmbeddedPool", "EmbeddedPool first fit", "FreeListPool")
_C_POOL = {"malloc": lib.BENCH_MALLOC, "BumpPool": lib.BENCH_BUMP, "FixedPool": lib.BENCH_FIXED,
           "EmbeddedPool": lib.BENCH_EMBEDDED, "EmbeddedPool first fit": lib.BENCH_EMBEDDED_FIRST}


@dataclass
class Row:
    """One tight loop: ns per operation for a pool, for libc, and for the pool's floor (the same
    loop with the bare mechanism and no checks; None when there is none to compare)."""

    workload: str
    pool: str
    pool_ns: float
    libc_ns: float
    floor_ns: float | None = None

    @property
    def speedup(self) -> float:
        return self.libc_ns / self.pool_ns if self.pool_ns > 0 else float("nan")

    @property
    def vs_floor(self) -> float | None:
        """pool / floor: 1.0 means the pool costs nothing over its bare mechanism."""
        if self.floor_ns is None or self.floor_ns <= 0:
            return None
        return self.pool_ns / self.floor_ns


def fixed_vs_malloc(size: int = 32, live: int = 1024, pairs: int = 200_000,
                    repeats: int = 7) -> Row:
    """Churn of alloc+free pairs with `live` blocks kept: FixedPool against malloc/free, and
    against a bare intrusive free list (its floor) in the same loop."""
    return Row(f"alloc+free pair, {size} B, {live} live", "FixedPool",
               lib.bench_fixed_pairs(size, live, pairs, repeats),
               lib.bench_malloc_pairs(size, live, pairs, repeats),
               lib.bench_list_pairs(size, live, pairs, repeats))


def bump_vs_malloc(size: int = 32, count: int = 200_000, repeats: int = 7) -> Row:
    """Phases of 1024 allocations then release-all (free each / one reset): BumpPool against
    malloc and against a bare bump pointer (its floor), per object."""
    return Row(f"alloc then release all, {size} B, rounds of 1024", "BumpPool",
               lib.bench_bump_allocs(size, count, repeats),
               lib.bench_malloc_allocs(size, count, repeats),
               lib.bench_pointer_allocs(size, count, repeats))


def embedded_vs_malloc(size: int = 32, live: int = 64, pairs: int = 20_000,
                       repeats: int = 7, policy: str = "good") -> Row:
    """Churn of alloc+free pairs: EmbeddedPool (handles; good or first fit) against
    malloc/free. Its floor is the bare free list: what a same-size pool without handles costs."""
    name = "EmbeddedPool" if policy == "good" else f"EmbeddedPool {policy} fit"
    return Row(f"alloc+free pair, {size} B, {live} live", name,
               lib.bench_embedded_pairs(size, live, pairs, repeats, POLICIES[policy]),
               lib.bench_malloc_pairs(size, live, pairs, repeats),
               lib.bench_list_pairs(size, live, pairs, repeats))


def micro(repeats: int = 7) -> list[Row]:
    """Every tight loop, libc and the floors measured in the same run, interleaved (one run of
    each loop in turn, `repeats` times) so that a busy moment of the machine hits all of them
    alike; medians."""
    loops = [fixed_vs_malloc, bump_vs_malloc, embedded_vs_malloc,
             lambda repeats: embedded_vs_malloc(repeats=repeats, policy="first")]
    runs = [[loop(repeats=1) for loop in loops] for _ in range(repeats)]

    def mid(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return [Row(first.workload, first.pool, mid([r[k].pool_ns for r in runs]),
                mid([r[k].libc_ns for r in runs]),
                mid([r[k].floor_ns for r in runs if r[k].floor_ns is not None]))
            for k, first in enumerate(runs[0])]


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


def wrapper_vs_cffi(calls: int = 20_000, repeats: int = 5) -> tuple[float, float]:
    """ns per FixedPool alloc+free pair through the wrapper, and per bare cffi malloc+free pair
    on the same extension (the least any Python call into C costs): medians of `repeats`."""
    import time

    def timed(loop: Callable[[], None]) -> float:
        runs = []
        for _ in range(repeats):  # CPU time: on a busy machine the long wrapped loop is
            start = time.thread_time_ns()  # preempted where the short bare one is not
            loop()
            runs.append((time.thread_time_ns() - start) / calls)
        return sorted(runs)[len(runs) // 2]

    with FixedPool(32, 16) as pool:
        def wrapped() -> None:
            for _ in range(calls):
                pool.free(pool.alloc())

        def bare() -> None:
            malloc, free = lib.malloc, lib.free
            for _ in range(calls):
                free(malloc(32))

        return timed(wrapped), timed(bare)


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
    p50_ns: float = math.nan  # per-op latency over the trace: median, 99th percentile, worst
    p99_ns: float = math.nan
    max_ns: float = math.nan

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
    if pool == "FreeListPool":
        return free_list_capacity_of(s)
    if pool.startswith("EmbeddedPool"):
        return (2 * s.peak_bytes + 8 * s.max_live + s.max_size + 7) // 8 * 8
    return 0


def _python_pool(pool: str, s: Shape) -> Pool:
    if pool == "BumpPool":
        return BumpPool(_param(pool, s))
    if pool == "FixedPool":
        return FixedPool(s.max_size, max(s.max_live, 1))
    if pool.startswith("EmbeddedPool"):
        return EmbeddedPool.for_blocks(_param(pool, s), max(s.max_live, 1),
                                       policy="first" if pool.endswith("first fit") else "good")
    if pool == "FreeListPool":
        return FreeListPool(_param(pool, s))
    return Malloc()


def replay_in_c(pool: str, trace: Trace, s: Shape, repeats: int) -> Any:
    """Time `trace` on `pool` inside C (a fresh pool per pass): the bench_result - ns per op,
    steps, refusals and per-op latency percentiles."""
    if pool == "FreeListPool":
        return free_list_replay(trace, repeats=repeats)
    kinds = ffi.new("char[]", "".join(op.kind for op in trace.ops).encode())
    ids = ffi.new("size_t[]", [op.id for op in trace.ops])
    sizes = ffi.new("size_t[]", [op.size or 0 for op in trace.ops])
    out = ffi.new("bench_result *")
    err = lib.bench_replay(_C_POOL[pool], kinds, ids, sizes, s.ops, max(op.id for op in trace.ops) + 1,
                           s.max_live, _param(pool, s), repeats, out)
    if err:
        raise OutOfMemory(f"bench_replay({pool}) could not set up: error {err}")
    return out


# -- the free-list allocator (its own C replay, csrc/free_list_bench.c) --------------------------
@dataclass
class FreeListRun:
    """One free-list configuration on one trace, replayed in C."""

    ns_per_op: float
    mean_steps: float  # blocks or list nodes visited per call
    max_steps: int
    failures: int
    footprint: int  # bytes the heap reached, control block included
    peak_live: int  # the trace's peak live payload
    p50_ns: float  # per-op latency: median, 99th percentile, worst (fastest of the repeats)
    p99_ns: float
    max_ns: float

    @property
    def utilisation(self) -> float:
        """Peak live payload / peak bytes held: the one definition every pool uses."""
        return self.peak_live / self.footprint if self.footprint else 0.0


def free_list_capacity_of(s: Shape) -> int:
    """A region no replay of the trace can outgrow: every call grows the heap by at most one
    block (payload + header + rounding), plus the control block."""
    return s.total_bytes + 48 * s.ops + 4096


def free_list_capacity(trace: Trace) -> int:
    return free_list_capacity_of(shape(trace))


def free_list_replay(trace: Trace, lists: str = "explicit", fit: str = "first",
                     coalesce: str = "immediate", footers: str = "free", split: bool = True,
                     repeats: int = 5, capacity: int | None = None) -> FreeListRun:
    """Replay `trace` on a FreeListPool built in C with these choices; timed in C."""
    s = shape(trace)
    flags = FOOTERS[footers] | (0 if split else lib.FL_NO_SPLIT)
    kinds, ids, sizes, n_ids = _trace_arrays(trace)
    out, footprint = ffi.new("bench_result *"), ffi.new("size_t *")
    err = lib.free_list_bench_replay(kinds, ids, sizes, s.ops, n_ids,
                                     capacity or free_list_capacity_of(s), LISTS[lists],
                                     FITS[fit], COALESCING[coalesce], flags, repeats, out,
                                     footprint)
    if err:
        raise MemoryError(f"free_list_bench_replay could not set up: error {err}")
    return FreeListRun(out.ns_per_op, out.mean_steps, int(out.max_steps), int(out.failures),
                       int(footprint[0]), s.peak_bytes, out.p50_ns, out.p99_ns, out.max_ns)


def _trace_arrays(trace: Trace) -> tuple[object, object, object, int]:
    kinds = ffi.new("char[]", "".join(op.kind for op in trace.ops).encode())
    ids = ffi.new("size_t[]", [op.id for op in trace.ops])
    sizes = ffi.new("size_t[]", [op.size or 0 for op in trace.ops])
    return kinds, ids, sizes, max(op.id for op in trace.ops) + 1


def libc_utilisation(trace: Trace) -> float:
    """Peak live payload / peak bytes of libc's live chunks (headers included), replayed in C:
    what mp.Malloc reports, without the Python loop. An upper bound: free chunks are unseen."""
    kinds, ids, sizes, n_ids = _trace_arrays(trace)
    peak = ffi.new("size_t *")
    err = lib.free_list_bench_libc_peak(kinds, ids, sizes, len(trace.ops), n_ids, peak)
    if err:
        raise MemoryError(f"libc ran out of memory replaying the trace: error {err}")
    return shape(trace).peak_bytes / peak[0] if peak[0] else 0.0


def libc_ns_per_op(trace: Trace, repeats: int = 5) -> float:
    """libc malloc/realloc/free on the trace, timed in C (median of `repeats`)."""
    return float(replay_in_c("malloc", trace, shape(trace), repeats).ns_per_op)


def free_list_fit_table(traces: dict[str, Trace], lists: str = "address") -> str:
    """Utilisation and mean steps per call of each fit on each trace (immediate coalescing)."""
    lines = [f"{'trace':14}" + "".join(f"{fit:>14}" for fit in FITS)]
    for name, trace in traces.items():
        runs = [free_list_replay(trace, lists, fit, repeats=1) for fit in FITS]
        lines.append(f"{name:14}" + "".join(f"{r.utilisation:7.1%} {r.mean_steps:6.1f}"
                                            for r in runs))
    return "\n".join(lines)


def free_list_steps(trace: Trace, kinds: str = "a", **choices: str) -> list[int]:
    """Steps (blocks or list nodes visited) of every call of the given kinds ('a', 'r', 'f'),
    replaying `trace` on a FreeListPool built with `choices` (lists, fit, coalesce, ...)."""
    pool = FreeListPool(free_list_capacity(trace), **choices)
    live: dict[int, Block] = {}
    steps = []
    for op in trace.ops:
        if op.kind == "a":
            live[op.id] = pool.alloc(op.size or 0)
        elif op.kind == "r":
            live[op.id] = pool.realloc(live[op.id], op.size or 0)
        else:
            pool.free(live.pop(op.id))
        if op.kind in kinds:
            steps.append(pool.stats["last_steps"])
    pool.close()
    return steps


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


def _timed(trace: Trace, pools: Iterable[str], repeats: int) -> dict[str, Any]:
    """C replays of every supporting pool, libc first: pool -> bench_result."""
    s = shape(trace)
    runs = {"malloc": replay_in_c("malloc", trace, s, repeats)}
    for pool in pools:
        if pool != "malloc" and supports(pool, s):
            runs[pool] = replay_in_c(pool, trace, s, repeats)
    return {pool: run for pool, run in runs.items() if pool in pools}


def space(pool: str, trace: Trace) -> tuple[float, float, float | None]:
    """Utilisation, internal and external fragmentation of `pool` on `trace` (a replay on the
    Python pool: the same on every machine)."""
    with _python_pool(pool, shape(trace)) as py:
        return _space(py, trace)


def _row(name: str, pool: str, c: Any, libc: float,
         space_metrics: tuple[float, float, float | None]) -> Measurement:
    libc_pool = pool == "malloc"
    return Measurement(name, pool, c.ns_per_op, libc, *space_metrics,
                       None if libc_pool else c.mean_steps,
                       None if libc_pool else int(c.max_steps), int(c.failures),
                       c.p50_ns, c.p99_ns, c.max_ns)


def measure(name: str, trace: Trace, pools: Iterable[str] = POOLS, repeats: int = 5
            ) -> list[Measurement]:
    """Every supporting pool on one trace; libc timed in the same run."""
    pools = list(pools)
    runs = _timed(trace, pools + ["malloc"], repeats)
    libc = runs["malloc"].ns_per_op
    return [_row(name, pool, run, libc, space(pool, trace))
            for pool, run in runs.items() if pool in pools]


def measure_all(traces: dict[str, Trace], repeats: int = 5, jobs: int | None = None,
                progress: Any = None) -> list[Measurement]:
    """measure() on every trace. All C timings first, one after another in this process; then
    the space metrics - replays in Python, the slow part - in `jobs` worker processes (default:
    up to 2 cores), so no timing shares the machine with our own replays. `progress` is a
    tqdm-like object (total, update). Rows come in the order of `traces` and POOLS."""
    import os
    from concurrent.futures import ProcessPoolExecutor

    timings = {}
    for name, trace in traces.items():
        timings[name] = _timed(trace, POOLS, repeats)
        if progress is not None:
            progress.update()
    pairs = [(name, pool) for name in traces for pool in timings[name]]
    if progress is not None:
        progress.total = len(traces) + len(pairs)
    jobs = jobs or min(2, os.cpu_count() or 1)
    if jobs == 1:
        spaces = [space(pool, traces[name]) for name, pool in pairs]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as workers:
            futures = [workers.submit(space, pool, traces[name]) for name, pool in pairs]
            if progress is not None:
                for future in futures:
                    future.add_done_callback(lambda _: progress.update())
            spaces = [future.result() for future in futures]
    return [_row(name, pool, timings[name][pool], timings[name]["malloc"].ns_per_op, metrics)
            for (name, pool), metrics in zip(pairs, spaces)]


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
    """A Markdown table of the tight loops: pool vs its floor and vs libc, per operation."""
    def ratio(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}x"

    lines = ["| loop (timed in C) | pool | pool ns | floor ns | pool / floor | libc ns | "
             "libc / pool |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.workload} | {r.pool} | {r.pool_ns:.1f} | "
              f"{'-' if r.floor_ns is None else f'{r.floor_ns:.1f}'} | {ratio(r.vs_floor)} | "
              f"{r.libc_ns:.1f} | {r.speedup:.2f}x |" for r in rows]
    return "\n".join(lines)


def latency_table(rows: list[Measurement]) -> str:
    """A Markdown table of per-op latency (p50 / p99 / max ns) and steps, per trace and pool."""
    lines = ["| workload | pool | p50 ns | p99 ns | max ns | max steps |", "|---|---|---|---|---|---|"]
    lines += [f"| {r.workload} | {r.pool} | {r.p50_ns:.0f} | {r.p99_ns:.0f} | {r.max_ns:.0f} | "
              f"{'n/a' if r.max_steps is None else r.max_steps} |" for r in rows]
    return "\n".join(lines)


def figure(rows: list[Measurement], path: object) -> None:
    """Left: ns per op of every pool on every workload. Right: the per-op latency distribution
    of every pool over all its traces (p50, p99 and the worst op). Saved to `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r.workload for r in rows))
    fig, (ax, lat) = plt.subplots(1, 2, figsize=(13, 4.5), gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / len(POOLS)
    for k, pool in enumerate(POOLS):
        xs = [i + k * width for i, n in enumerate(names)
              if any(r.workload == n and r.pool == pool for r in rows)]
        ys = [r.ns_per_op for n in names for r in rows if r.workload == n and r.pool == pool]
        ax.bar(xs, ys, width, label=pool)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=25, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("ns per operation (log)")
    ax.set_title("trace replay timed in C (missing: the pool cannot run it)", fontsize=10)
    ax.legend(fontsize=8)
    for k, pool in enumerate(POOLS):
        mine = [r for r in rows if r.pool == pool]
        if not mine:
            continue
        for x, values in enumerate(([r.p50_ns for r in mine], [r.p99_ns for r in mine],
                                    [r.max_ns for r in mine])):
            lat.scatter([x + k * width] * len(values), [max(v, 1.0) for v in values], s=14,
                        color=f"C{k}", label=pool if x == 0 else None)
    lat.set_xticks([0.4 - width / 2 + x for x in range(3)], ["p50", "p99", "worst op"])
    lat.set_yscale("log")
    lat.set_ylabel("ns per operation (log), one dot per trace")
    lat.set_title("per-op latency: the worst case is the embedded pool's point", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def table(rows: list[Measurement], space: bool = True) -> str:
    """A Markdown table of measurements; `space=False` keeps only the time columns."""
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.0%}"

    head = "| workload | pool | ns/op | ops/s | vs libc |"
    rule = "|---|---|---|---|---|"
    if space:
        head += " utilisation | internal frag | external frag | steps/op mean (max) |"
        rule += "---|---|---|---|"
    lines = [head, rule]
    for r in rows:
        line = (f"| {r.workload} | {r.pool} | {r.ns_per_op:.1f} | {r.ops_per_s / 1e6:.1f} M | "
                f"{r.speedup:.1f}x |")
        if space:
            steps = "n/a" if r.mean_steps is None else f"{r.mean_steps:.1f} ({r.max_steps})"
            line += f" {pct(r.utilisation)} | {pct(r.internal)} | {pct(r.external)} | {steps} |"
        lines.append(line)
    return "\n".join(lines)


def to_json(rows: list[Measurement], micro: list[Row],
            wrapper: tuple[float, float] | None = None) -> str:
    data = {"machine": machine(),
            "workloads": [asdict(r) | {"ops_per_s": r.ops_per_s, "speedup": r.speedup}
                          for r in rows],
            "micro": [asdict(r) | {"speedup": r.speedup, "vs_floor": r.vs_floor} for r in micro]}
    if wrapper is not None:
        data["wrapper"] = {"fixed_pair_ns": wrapper[0], "cffi_pair_ns": wrapper[1],
                           "ratio": wrapper[0] / wrapper[1] if wrapper[1] > 0 else None}
    return json.dumps(data, indent=2)
