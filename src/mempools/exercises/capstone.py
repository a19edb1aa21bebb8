"""The capstone's driver, run by its checks in the sandboxed child: replay a malloc-lab trace on
the student's mm_malloc/mm_free/mm_realloc (the C driver checks alignment, bounds, overlap,
every live payload, realloc's copy, mm_free(NULL), mm_malloc(0) and mm_check after every op),
score utilisation, shrink a failure to a short sequence that fails the same way, and record the
student's heap (their mm_walk) beside the driver's live payloads, op by op, for the picture.

Light on purpose: the check child imports it, and nothing of `mempools` it would initialise."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mempools.exercises.tester import Regions, Tester

#: points per trace, and the utilisation that earns each: the notebook prints this scale
TRACE_POINTS = 10
FLOOR, TOP = 0.50, 0.90  # utilisation at or below FLOOR earns 1 point (it is correct); TOP, 10
ALIGNMENT = 16
# the C driver's problem codes (CAP_* in capstone_support.h) as the property a report names
PROBLEMS = {1: "mm_init", 2: "out of memory", 3: "misaligned", 4: "outside the heap",
            5: "payload overlap", 6: "payload intact", 7: "realloc keeps data",
            8: "mm_malloc(0)", 9: "mm_check", 10: "trace"}
SHRINK_ATTEMPTS = 120  # replays spent looking for a shorter failing sequence
SHRINK_SECONDS = 1  # CPU seconds one attempt may use (a loop in it is not our failure)
SHOWN_OPS = 16  # a shrunk sequence is shown when it has at most this many ops (and half the prefix)
MAX_BLOCKS = 4096  # blocks of a walk (or live payloads) a picture keeps
TIMING_SECONDS = 0.05  # wall-clock time each throughput measurement replays for


def points(utilisation: float) -> int:
    """Points for a correct trace: 1 at FLOOR or less, TRACE_POINTS at TOP or more, linear
    between (rounded down): a machine-independent score."""
    share = (utilisation - FLOOR) / (TOP - FLOOR)
    return 1 + int((TRACE_POINTS - 1) * min(max(share, 0.0), 1.0) + 1e-9)


def scale() -> list[tuple[str, int]]:
    """The points scale as (utilisation, points) rows, for the notebook."""
    rows = [("correct, any utilisation", 1)]
    for p in range(2, TRACE_POINTS + 1):
        least = FLOOR + (TOP - FLOOR) * (p - 1) / (TRACE_POINTS - 1)
        rows.append((f"{least:.1%} or more", p))
    return rows


@dataclass(frozen=True)
class Trace:
    """A malloc-lab trace: ops as (kind, id, size) with size 0 for frees; ids = 1 + top id."""

    name: str
    ops: list[tuple[str, int, int]]

    @property
    def ids(self) -> int:
        return 1 + max((op[1] for op in self.ops), default=0)

    @classmethod
    def read(cls, path: Path) -> Trace:
        """`a id size`, `r id size`, `f id` lines; the numeric header lines are skipped."""
        ops = []
        for line in path.read_text().splitlines():
            words = line.split()
            if words and words[0] in ("a", "r"):
                ops.append((words[0], int(words[1]), int(words[2])))
            elif words and words[0] == "f":
                ops.append(("f", int(words[1]), 0))
        return cls(path.name, ops)


def example(name: str) -> str:
    """The C of an example allocator shipped with the capstone (catalog/capstone/NAME.c)."""
    return (Path(__file__).parent / "catalog" / "capstone" / f"{name}.c").read_text()


def op_text(op: tuple[str, int, int]) -> str:
    kind, ident, size = op
    if kind == "f":
        return "mm_free(NULL)" if ident < 0 else f"mm_free(id {ident})"
    return f"mm_malloc({size}) as id {ident}" if kind == "a" else f"mm_realloc(id {ident}, {size})"


class Driver:
    """The C driver on one loaded build: replay, time, and read the heap after a replay."""

    def __init__(self, ffi: Any, lib: Any) -> None:
        self.ffi, self.lib = ffi, lib

    def replay(self, ops: list[tuple[str, int, int]], ids: int, report: bool = False) -> Any:
        """Run `ops` from a fresh heap; the cap_verdict. With `report`, a crash names its op."""
        verdict = self.ffi.new("cap_verdict *")
        self.lib.cap_replay(self._ops(ops), len(ops), ids, int(report), verdict)
        return verdict

    def _ops(self, ops: list[tuple[str, int, int]]) -> Any:
        return self.ffi.new("cap_op[]", [(k.encode(), i, s) for k, i, s in ops] or [(b"f", -1, 0)])

    def live(self) -> list[tuple[int, int, int]]:
        """The live payloads after the last replay: (offset, size, id), by offset."""
        out = self.ffi.new("cap_span[]", MAX_BLOCKS)
        n = min(self.lib.cap_live(out, MAX_BLOCKS), MAX_BLOCKS)
        return [(out[i].offset, out[i].size, out[i].id) for i in range(n)]

    def walk(self) -> list[tuple[int, int, int]] | None:
        """What the student's mm_walk reports now: (offset, size, allocated); None without one."""
        out = self.ffi.new("cap_block[]", MAX_BLOCKS)
        n = self.lib.cap_walk(out, MAX_BLOCKS)
        if n == self.ffi.cast("size_t", -1):
            return None
        return [(out[i].offset, out[i].size, out[i].allocated) for i in range(min(n, MAX_BLOCKS))]

    def throughput(self, trace: Trace, libc: bool) -> float:
        """Ops per second of unchecked replays, measured in C (negative on a NULL)."""
        return float(self.lib.cap_throughput(self._ops(trace.ops), len(trace.ops), trace.ids,
                                             TIMING_SECONDS, int(libc)))

    def heapsize(self) -> int:
        return int(self.lib.mem_heapsize())


# -- pictures ---------------------------------------------------------------------------------
def partition(spans: list[tuple[int, int, str, str | None]], end: int) -> Regions:
    """Regions covering [0, end): the spans (offset, size, kind, owner), clipped to it and in
    address order, and 'untouched' for the bytes no span covers. Spans that overlap stay two
    regions (the memory map draws them stacked, outlined as an overlap), so a collision shows
    at once."""
    clipped = sorted((max(off, 0), min(off + size, end) - max(off, 0), kind, owner)
                     for off, size, kind, owner in spans if off < end and off + size > 0)
    regions: Regions = []
    covered = 0
    for region in clipped:
        if region[0] > covered:
            regions.append((covered, region[0] - covered, "untouched", None))
        regions.append(region)
        covered = max(covered, region[0] + region[1])
    if covered < end:
        regions.append((covered, end - covered, "untouched", None))
    return regions


def driver_regions(live: list[tuple[int, int, int]], end: int) -> Regions:
    """What the driver knows: the live payloads, labelled by trace id."""
    return partition([(off, size, "payload", f"id {ident}") for off, size, ident in live], end)


def walker_regions(blocks: list[tuple[int, int, int]], end: int) -> Regions:
    """What the student's mm_walk reports: allocated blocks and free blocks."""
    return partition([(off, size, "payload" if used else "free",
                       f"{'block' if used else 'free'} {size} B") for off, size, used in blocks],
                     end)


def walk_disagrees(blocks: list[tuple[int, int, int]] | None, live: list[tuple[int, int, int]],
                   end: int) -> str:
    """Why the walk cannot be right, or '': blocks in address order inside the heap, apart,
    and every live payload inside one block the walk calls allocated."""
    if blocks is None:
        return ""
    at = 0
    for off, size, _ in blocks:
        if off < at or off + size > end or size == 0:
            return (f"mm_walk reported a block at offset {off} of {size} bytes: blocks must "
                    f"be in address order, not overlap, and lie inside the {end}-byte heap")
        at = off + size
    for off, size, ident in live:
        if not any(b <= off and off + size <= b + s and used for b, s, used in blocks):
            return (f"id {ident}'s payload [{off}, {off + size}) is not inside any block mm_walk "
                    "reports as allocated")
    return ""


# -- one trace, as a check ----------------------------------------------------------------------
def check_trace(t: Tester, trace: Trace) -> None:
    """Replay `trace`; fail naming the first violation (op, shortest prefix, a shrunk sequence
    and the memory), else award points for its utilisation and record throughput beside."""
    driver = Driver(t.ffi, t.lib)
    t.op(f"replaying {trace.name} ({len(trace.ops)} ops)")
    verdict = driver.replay(trace.ops, trace.ids, report=True)
    if verdict.problem:
        _fail(t, driver, trace, verdict)
    used = int(verdict.peak_heap)
    util = int(verdict.peak_live) / used if used else 0.0
    data = {"trace": trace.name, "ops": len(trace.ops), "peak_live": int(verdict.peak_live),
            "peak_heap": used, "utilisation": util, "mm_check": bool(verdict.has_check),
            "ops_per_second": driver.throughput(trace, libc=False),
            "libc_ops_per_second": driver.throughput(trace, libc=True)}
    t.award(points(util), f"utilisation {util:.1%} (peak live payload {verdict.peak_live} B / "
            f"peak heap {used} B)", data)


def _fail(t: Tester, driver: Driver, trace: Trace, verdict: Any) -> None:
    problem = int(verdict.problem)
    message = t.ffi.string(verdict.message).decode(errors="replace")
    index = int(verdict.op)
    where = (f"op {index + 1} of {len(trace.ops)} ({op_text(trace.ops[index])})"
             if index < len(trace.ops) else "at the start")
    regions = driver_regions(driver.live(), driver.heapsize())
    prefix = trace.ops[:index + 1]
    shrunk = shrink(driver, prefix, trace.ids, problem)
    text = (f"{trace.name}, {where}: {message}. The shortest failing prefix is ops 1..{index + 1}"
            f" of {trace.name}")
    if len(shrunk) <= min(SHOWN_OPS, len(prefix) // 2):
        text += (f"; these {len(shrunk)} ops alone fail the same way: "
                 + ", ".join(f"{k} {i}" + (f" {s}" if k != "f" else "") for k, i, s in shrunk))
    t.fail(PROBLEMS.get(problem, "driver"), text, regions,
           {"trace": trace.name, "op": index + 1, "prefix": index + 1, "shrunk": shrunk})


def shrink(driver: Driver, ops: list[tuple[str, int, int]], ids: int, problem: int
           ) -> list[tuple[str, int, int]]:
    """A shorter sequence that fails with the same problem: whole ids (all their ops) are
    dropped while the failure stays (delta debugging). Each attempt runs in a forked process
    with a CPU limit, so an attempt that crashes or loops only counts as not failing the same
    way, and the student's allocator here is untouched."""
    last = ops[-1][1]
    keep, chunks, attempts = sorted({op[1] for op in ops} - {last}), 2, 0
    while keep and attempts < SHRINK_ATTEMPTS:
        size = -(-len(keep) // chunks)
        for start in range(0, len(keep), size):
            trial = keep[:start] + keep[start + size:]
            attempts += 1
            if _fails_alike(driver, [op for op in ops if op[1] in {*trial, last}], ids, problem):
                keep, chunks = trial, max(chunks - 1, 2)
                break
            if attempts >= SHRINK_ATTEMPTS:
                break
        else:
            if size == 1:
                break
            chunks = min(chunks * 2, len(keep))
    return [op for op in ops if op[1] in {*keep, last}]


def _fails_alike(driver: Driver, ops: list[tuple[str, int, int]], ids: int, problem: int) -> bool:
    pid = os.fork()
    if pid == 0:  # the attempt: its exit status is the problem it found
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CPU, (SHRINK_SECONDS, SHRINK_SECONDS))
            signal.alarm(SHRINK_SECONDS * 5)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # its output repeats the real run's
            os.dup2(1, 2)
            os._exit(int(driver.replay(ops, ids).problem))
        finally:
            os._exit(255)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == problem


# -- the picture ------------------------------------------------------------------------------
def check_picture(t: Tester, trace: Trace) -> None:
    """Replay each prefix of a short trace and record, after every op, the student's walk and
    the driver's live payloads (frames for the memory map); fail when the walk disagrees with
    the driver, or when the allocator breaks a rule on this trace."""
    driver = Driver(t.ffi, t.lib)
    frames: list[dict] = []
    for step in range(len(trace.ops) + 1):
        ops = trace.ops[:step]
        caption = f"step {step}: " + (op_text(ops[-1]) if ops else "after mm_init()")
        t.op(f"picture of {trace.name}, {caption}")
        verdict = driver.replay(ops, trace.ids, report=True)
        end, blocks, live = driver.heapsize(), driver.walk(), driver.live()
        problem = t.ffi.string(verdict.message).decode(errors="replace") if verdict.problem else ""
        wrong = "" if problem else walk_disagrees(blocks, live, end)
        frames.append({"caption": caption, "heap": end, "live": live, "walk": blocks,
                       "problem": problem or wrong})
        if problem or wrong:
            data = {"trace": trace.name, "frames": frames}
            prop = PROBLEMS.get(int(verdict.problem), "driver") if problem else "walker"
            t.fail(prop, f"{trace.name}, {caption}: {problem or wrong}",
                   driver_regions(live, end), data)
    note = ("no mm_walk yet: write one to see your heap" if frames[-1]["walk"] is None
            else "your mm_walk agrees with the driver after every op")
    t.award(0, note, {"trace": trace.name, "frames": frames})
