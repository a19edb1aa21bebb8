"""The embedded pool's two placement policies: good fit (size-class index, the default) and first
fit. Both run the stateful model of tests/test_pools.py, replay every bundled and seeded trace
with zero errors, and good fit keeps every non-compacting operation within a few steps."""

from pathlib import Path

import pytest
from hypothesis import settings

import mempools as mp
from mempools import bench, workloads
from mempools.c import ffi, lib
from mempools.trace import Op
from tests.test_pools import EmbeddedModel

TRACES = Path(__file__).resolve().parents[1] / "data" / "traces"
POLICIES = ("good", "first")
# a non-compacting operation of good fit: the class lookup, at most two gaps off their lists
# and two on, and the free-slot bitmap's two levels
MAX_STEPS = 8


class FirstFitModel(EmbeddedModel):
    def __init__(self):
        super().__init__()
        self.pool.close()
        self.pool = mp.EmbeddedPool(2048, 12, policy="first")


class GoodFitManySlotsModel(EmbeddedModel):
    """More slots than one bitmap word, so both levels of the free-slot bitmap are used."""

    def __init__(self):
        super().__init__()
        self.pool.close()
        self.pool = mp.EmbeddedPool(4096 + int(lib.embedded_pool_table_bytes(70)), 70)


TestFirstFit = FirstFitModel.TestCase
TestGoodFitManySlots = GoodFitManySlotsModel.TestCase
TestGoodFitManySlots.settings = settings(max_examples=30, deadline=None)


def test_default_policy_is_good_fit():
    assert mp.EmbeddedPool(1024, 4).policy == "good"


@pytest.mark.parametrize("policy", ["best", "", None, 1, "FIRST"])
def test_bad_policy_is_refused_as_misuse(policy):
    with pytest.raises(mp.PoolMisuse):
        mp.EmbeddedPool(1024, 4, policy=policy)


def _pool_for(trace: mp.Trace, policy: str) -> mp.EmbeddedPool:
    s = bench.shape(trace)
    return mp.EmbeddedPool.for_blocks(2 * s.peak_bytes + 8 * s.max_live + s.max_size,
                                      s.max_live, policy=policy)


def _traces() -> dict[str, mp.Trace]:
    out = workloads.bundled_traces(TRACES)
    out |= {f"{name} seed 7": make(7, ops=600) for name, make in workloads.WORKLOADS.items()}
    return out


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", sorted(_traces()))
def test_trace_replays_with_zero_errors(name, policy):
    trace = _traces()[name]
    with _pool_for(trace, policy) as pool:
        # check() after every op; payloads verified when freed or reallocated
        assert mp.replay(trace, pool, verify_all=False).errors == []


def _max_steps(trace: mp.Trace, policy: str) -> tuple[int, int]:
    """Worst last_steps over the non-compacting ops, and how many ops compacted."""
    worst = compacting = 0
    with _pool_for(trace, policy) as pool:
        handles: dict[int, mp.Block] = {}
        for op in trace.ops:
            before = pool.stats["compactions"]
            if op.kind == "a":
                handles[op.id] = pool.alloc(op.size)
            elif op.kind == "r":
                pool.realloc(handles[op.id], op.size)
            else:
                pool.free(handles.pop(op.id))
            s = pool.stats
            if s["compactions"] == before:
                worst = max(worst, s["last_steps"])
            else:
                compacting += 1
    return worst, compacting


@pytest.mark.parametrize("path", sorted(TRACES.glob("*.rep")), ids=lambda p: p.name)
def test_good_fit_steps_are_bounded_on_every_bundled_trace(path):
    trace = mp.Trace.parse(path.read_text())
    good, _ = _max_steps(trace, "good")
    first, _ = _max_steps(trace, "first")
    assert good <= MAX_STEPS
    assert first > MAX_STEPS  # first fit walks the live blocks: the contrast the lesson draws


def test_good_fit_steps_stay_bounded_with_thousands_of_live_blocks():
    resident = [Op("a", 10_000 + i, 8) for i in range(3000)]  # ids the random trace never uses
    worst, _ = _max_steps(mp.Trace(resident + workloads.random_sizes(3, ops=6000).ops), "good")
    assert worst <= MAX_STEPS


def test_first_fit_takes_the_lowest_gap_and_good_fit_the_closest_class():
    placed = {}
    for policy in POLICIES:
        pool = mp.EmbeddedPool.for_blocks(256, 8, policy=policy)
        big, keep, small, tail = pool.alloc(64), pool.alloc(16), pool.alloc(16), pool.alloc(16)
        low, mid = big.offset, small.offset
        pool.free(big)
        pool.free(small)
        placed[policy] = pool.alloc(16).offset
        assert keep.offset < mid < tail.offset
        pool.check()
    assert placed == {"first": low, "good": mid}


@pytest.mark.parametrize("policy", POLICIES)
def test_compaction_runs_only_when_no_gap_fits(policy):
    pool = mp.EmbeddedPool.for_blocks(128, 8, policy=policy)
    blocks = [pool.alloc(16) for _ in range(8)]
    for b in blocks[::2]:
        pool.free(b)
    pool.alloc(16)  # a 16-byte gap exists: no compaction
    assert pool.stats["compactions"] == 0
    pool.alloc(32)  # 48 bytes free in three gaps of 16: only compaction makes room
    assert pool.stats["compactions"] == 1
    pool.check()


def test_lock_count_is_capped_and_the_pool_is_unchanged():
    pool = mp.EmbeddedPool(1024, 4)
    block = pool.alloc(16)
    for _ in range(int(lib.EMBEDDED_POOL_MAX_LOCKS)):
        pool.lock(block)
    with pytest.raises(mp.PoolError):
        pool.lock(block)
    pool.check()
    for _ in range(int(lib.EMBEDDED_POOL_MAX_LOCKS)):
        pool.unlock(block)
    pool.free(block)


def test_table_is_twenty_bytes_per_slot():
    small, large = (int(lib.embedded_pool_table_bytes(n)) for n in (1024, 2048))
    assert (large - small) / 1024 <= 20.2  # 20-byte slots plus the free-slot bitmaps' bits


@pytest.mark.parametrize("slots", [0, int(lib.EMBEDDED_POOL_MAX_SLOTS) + 1])
def test_slot_counts_outside_the_links_range_are_refused(slots):
    assert lib.embedded_pool_table_bytes(slots) == 0
    buffer = ffi.new("unsigned char[]", 1 << 16)
    out = ffi.new("embedded_pool **")
    assert lib.embedded_pool_create_in(out, buffer, 1 << 16, slots, 0) == lib.POOL_EINVAL
