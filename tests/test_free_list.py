"""FreeListPool: a bad-input table (pool unchanged after each refusal), the boundary tags read from
bytes, stateful hypothesis tests against a Python model for every lists x fit x coalescing
combination (end tokens, check() after every step), and every bundled trace replayed."""

import itertools
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import mempools as mp
from mempools import bench
from mempools.free_list import COALESCING, FITS, LISTS, adversarial_trace
from tests.conftest import tokens_intact, write_tokens

SIZE_MAX = 2**64 - 1
WORD = 8
COMBOS = list(itertools.product(LISTS, FITS, COALESCING))
TRACES = {p.stem: mp.Trace.parse(p.read_text())
          for p in sorted((Path(__file__).parents[1] / "data" / "traces").glob("*.rep"))}


def snapshot(pool):
    """What a refused call must leave alone: layout, heap bytes, counters (but the step and
    refusal counters, which count the attempt)."""
    table = pool.stats["table_bytes"]
    stats = {k: v for k, v in pool.stats.items()
             if k not in ("last_steps", "max_steps", "total_steps", "ops", "failed")}
    return pool.walk(), pool.memory()[table:], stats, pool.free_lists()


# -- bad inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"capacity": 0}, mp.BadSize),
        ({"capacity": -1}, mp.BadSize),
        ({"capacity": 2.5}, mp.BadSize),
        ({"capacity": SIZE_MAX + 1}, mp.BadSize),
        ({"capacity": 64}, mp.OutOfMemory),
        ({"capacity": 2**62}, mp.OutOfMemory),
        ({"lists": "linked"}, mp.PoolMisuse),
        ({"lists": 1}, mp.PoolMisuse),
        ({"fit": "good"}, mp.PoolMisuse),
        ({"coalesce": True}, mp.PoolMisuse),
        ({"split": 1}, mp.PoolMisuse),
        ({"footers": "none"}, mp.PoolMisuse),
    ],
)
def test_free_list_create_bad(kwargs, exc):
    with pytest.raises(exc):
        mp.FreeListPool(**{"capacity": 4096, **kwargs})


@pytest.mark.parametrize(
    "call, exc",
    [
        (lambda p: p.alloc(0), mp.BadSize),
        (lambda p: p.alloc(-3), mp.BadSize),
        (lambda p: p.alloc(1.0), mp.BadSize),
        (lambda p: p.alloc(SIZE_MAX), mp.BadSize),
        (lambda p: p.alloc(SIZE_MAX + 1), mp.BadSize),
        (lambda p: p.alloc(4096), mp.OutOfMemory),
        (lambda p: p.free(p.freed), mp.DoubleFree),
        (lambda p: p.free(mp.FreeListPool(1024).alloc(8)), mp.ForeignBlock),
        (lambda p: p.free(16), mp.ForeignBlock),
        (lambda p: p.realloc(p.kept, 0), mp.BadSize),
        (lambda p: p.realloc(p.kept, 5000), mp.OutOfMemory),
        (lambda p: p.realloc(p.freed, 8), mp.StaleHandle),
        (lambda p: p.realloc(p.moved, 8), mp.StaleHandle),
        (lambda p: p.word(4095), mp.BadSize),
        (lambda p: p.block_bytes(0), mp.BadSize),
    ],
)
@pytest.mark.parametrize("coalesce", list(COALESCING))
def test_free_list_bad_calls_leave_pool_unchanged(call, exc, coalesce):
    pool = mp.FreeListPool(4096, coalesce=coalesce)
    pool.kept = pool.alloc(100)
    pool.freed = pool.alloc(40)
    pool.alloc(8)
    pool.free(pool.freed)
    pool.moved = pool.alloc(16)
    pool.alloc(8)
    pool.realloc(pool.moved, 200)  # its neighbour is live: it moves, the old Block goes stale
    before = snapshot(pool)
    with pytest.raises(exc):
        call(pool)
    assert snapshot(pool) == before
    pool.check()


def test_free_list_closed_pool_refuses():
    pool = mp.FreeListPool(1024)
    block = pool.alloc(8)
    pool.close()
    for call in (lambda: pool.alloc(8), pool.walk, pool.check, pool.free_lists,
                 lambda: pool.stats, block.read):
        with pytest.raises(mp.UseAfterClose):
            call()
    assert not block.live


# -- the layout, read from bytes ----------------------------------------------------------------
def test_free_list_tags_decoded_from_bytes():
    pool = mp.FreeListPool(2048, lists="explicit")
    a, b, c = pool.alloc(24), pool.alloc(40), pool.alloc(8)
    assert [pool.header_offset(x) + WORD for x in (a, b, c)] == [a.offset, b.offset, c.offset]
    assert all(x.offset % 16 == 0 for x in (a, b, c))
    assert pool.tag(pool.header_offset(a)) == (32, True, True, 32 | 3)
    assert pool.tag(pool.header_offset(b)) == (48, True, True, 48 | 3)
    pool.free(b)
    head = pool.header_offset(c) - 48
    assert pool.tag(head) == (48, False, True, 48 | 2)
    assert pool.tag(head + 48 - WORD) == pool.tag(head)  # the footer repeats the header
    assert pool.tag(pool.header_offset(c)).prev_allocated is False
    assert pool.free_lists() == [[head]]
    kinds = [r.kind for r in pool.walk() if head <= r.offset < head + 48]
    assert kinds == ["header", "free", "footer"]
    padding = [r for r in pool.walk() if r.owner == c.label]
    assert [r.kind for r in padding] == ["header", "payload", "padding"]
    assert padding[2].size == 32 - WORD - 8


def test_free_list_links_follow_the_bytes():
    pool = mp.FreeListPool(4096, lists="address")
    blocks = [pool.alloc(40) for _ in range(6)]
    for x in blocks[4::-2]:  # free 4, 2, 0: the address-ordered list is 0, 2, 4 anyway
        pool.free(x)
    chain = pool.free_lists()[0]
    assert chain == sorted(chain) and len(chain) == 3
    assert [pool.word(b + WORD) for b in chain] == chain[1:] + [0]  # next links
    assert [pool.word(b + 2 * WORD) for b in chain] == [0] + chain[:-1]  # prev links
    assert pool.links() == [(a + WORD, b + WORD) for a, b in zip(chain, chain[1:])]
    lifo = mp.FreeListPool(4096, lists="explicit")
    blocks = [lifo.alloc(40) for _ in range(6)]
    first = lifo.header_offset(blocks[0])
    for x in blocks[0:5:2]:
        lifo.free(x)
    assert lifo.free_lists()[0] == [first + 96 * k for k in (2, 1, 0)]  # newest first


def test_free_list_footer_always_costs_a_word():
    assert mp.FreeListPool(1024).block_bytes(24) == 32
    assert mp.FreeListPool(1024, footers="all").block_bytes(24) == 48


def test_free_list_no_split_and_no_coalesce_waste():
    split, whole = mp.FreeListPool(4096), mp.FreeListPool(4096, split=False)
    for pool in (split, whole):
        big = pool.alloc(1000)
        pool.alloc(8)
        pool.free(big)
        pool.alloc(8)
    assert split.stats["used_bytes"] == 32 + 32 and split.stats["free_bytes"] == 1008 - 32
    assert whole.stats["used_bytes"] == 1008 + 32 and whole.stats["free_blocks"] == 0
    merged, kept = mp.FreeListPool(4096), mp.FreeListPool(4096, coalesce="never")
    for pool in (merged, kept):
        xs = [pool.alloc(40) for _ in range(3)]
        pool.alloc(8)
        for x in xs:
            pool.free(x)
        pool.alloc(120)
    assert merged.stats["heap_bytes"] < kept.stats["heap_bytes"]


def test_free_list_realloc_in_place_then_moves():
    pool = mp.FreeListPool(4096)
    a = pool.alloc(200)
    a.write(b"x" * 200)
    neighbour = pool.alloc(8)
    assert pool.realloc(a, 50) is a and a.read() == b"x" * 50
    assert pool.realloc(a, 180) is a  # grew back into its own freed tail
    b = pool.realloc(a, 400)  # the live neighbour is in the way
    assert b is not a and b.read(50) == b"x" * 50 and not a.live
    heap = pool.footprint
    assert pool.realloc(b, 600) is b and pool.footprint == heap + 608 - 416  # the heap's end grew
    assert pool.realloc(neighbour, 64) is not neighbour  # a's old place, on its left, is free
    pool.check()


def test_free_list_deferred_coalesces_only_when_needed():
    pool = mp.FreeListPool(4096, coalesce="deferred")
    xs = [pool.alloc(40) for _ in range(4)]
    for x in xs[:3]:
        pool.free(x)
    assert pool.stats["free_blocks"] == 3 and pool.stats["coalesces"] == 0
    heap = pool.stats["heap_bytes"]
    big = pool.alloc(130)
    assert pool.stats["coalesces"] == 2 and pool.stats["heap_bytes"] == heap
    assert big.offset == pool.header_offset(xs[3]) - 3 * 48 + WORD


# -- stateful model -----------------------------------------------------------------------------
class FreeListModel(RuleBasedStateMachine):
    """Model: id -> (Block, bytes it must hold). Every live block keeps its contents and end
    tokens, is 16-aligned, inside the heap, overlapping no other; check() passes; the counters
    agree with walk(); no two free blocks touch when coalescing is immediate."""

    combo = ("explicit", "first", "immediate")

    def __init__(self):
        super().__init__()
        lists, fit, coalesce = self.combo
        self.pool = mp.FreeListPool(3072, lists=lists, fit=fit, coalesce=coalesce)
        self.model = {}
        self.next = 0

    def adopt(self, ident, block):
        write_tokens(block, ident)
        self.model[ident] = block

    @rule(size=st.integers(1, 400))
    def alloc(self, size):
        before = self.pool.stats
        try:
            block = self.pool.alloc(size)
        except mp.OutOfMemory:
            assert before["largest_free"] < self.pool.block_bytes(size)
            assert self.pool.stats["heap_bytes"] == before["heap_bytes"]
            return
        self.adopt(self.next, block)
        self.next += 1

    @precondition(lambda self: self.model)
    @rule(data=st.data(), size=st.integers(1, 500))
    def realloc(self, data, size):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        old = self.model[ident]
        content = old.read()
        try:
            new = self.pool.realloc(old, size)
        except mp.OutOfMemory:
            assert old.live and old.read() == content
            return
        assert new.read(min(size, len(content))) == content[:size]
        assert new is old or not old.live
        self.adopt(ident, new)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def free(self, data):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        block = self.model.pop(ident)
        self.pool.free(block)
        with pytest.raises(mp.DoubleFree):
            self.pool.free(block)

    @rule()
    def coalesce(self):
        self.pool.coalesce()

    @invariant()
    def sound(self):
        pool = self.pool
        pool.check()
        spans = []
        for ident, block in self.model.items():
            assert tokens_intact(block, ident), f"id {ident} garbled"
            assert block.address % 16 == 0
            spans.append((block.offset, block.offset + block.size))
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "overlap"
        assert all(end <= pool.footprint for _, end in spans)
        regions = pool.walk()
        s = pool.stats
        assert sum(r.kind == "free" for r in regions) == s["free_blocks"]
        assert s["used_blocks"] == len(self.model)
        bodies = [r.kind for r in regions if r.kind in ("free", "payload")]
        if self.combo[2] == "immediate":
            assert ("free", "free") not in set(zip(bodies, bodies[1:])), "free blocks touch"
        listed = sorted(b for chain in pool.free_lists() for b in chain)
        if self.combo[0] != "implicit":
            assert listed == sorted(r.offset - WORD for r in regions if r.kind == "free")

    def teardown(self):
        self.pool.close()


@pytest.mark.parametrize("lists, fit, coalesce", COMBOS)
def test_free_list_model(lists, fit, coalesce):
    machine = type("Model", (FreeListModel,), {"combo": (lists, fit, coalesce)})
    run_state_machine_as_test(machine, settings=settings(max_examples=12,
                                                         stateful_step_count=40))


# -- traces -------------------------------------------------------------------------------------
def replay_checked(trace, pool):
    """Every op with end tokens written on alloc and verified before free/realloc, and check()
    after every op: what mp.replay does, at a cost that lets every combination run."""
    live, errors = {}, []
    for step, op in enumerate(trace.ops):
        if op.kind == "a":
            live[op.id] = pool.alloc(op.size)
        else:
            if not tokens_intact(live[op.id], op.id):
                errors.append((step, op, "garbled"))
            if op.kind == "f":
                pool.free(live.pop(op.id))
                continue
            live[op.id] = pool.realloc(live[op.id], op.size)
        write_tokens(live[op.id], op.id)
        pool.check()
    return errors


@pytest.mark.parametrize("name", sorted(TRACES))
@pytest.mark.parametrize("lists, fit, coalesce", COMBOS)
def test_free_list_every_trace_every_combination(name, lists, fit, coalesce):
    trace = TRACES[name]
    pool = mp.FreeListPool(bench.free_list_capacity(trace), lists=lists, fit=fit,
                           coalesce=coalesce)
    assert replay_checked(trace, pool) == []
    assert pool.stats["used_blocks"] == 0
    run = bench.free_list_replay(trace, lists, fit, coalesce, repeats=1)
    assert run.failures == 0
    assert run.footprint == pool.footprint  # the C replay saw the same heap


@pytest.mark.parametrize("name", sorted(TRACES))
def test_free_list_mp_replay(name):
    pool = mp.FreeListPool(bench.free_list_capacity(TRACES[name]), lists="segregated",
                           fit="best")
    result = mp.replay(TRACES[name], pool, verify_all=False)
    assert result.errors == []
    assert result.peak_footprint == pool.footprint
    assert 0.5 < result.utilisation <= 1.0


@pytest.mark.parametrize("target", list(FITS))
def test_free_list_adversary_hurts_its_policy(target):
    trace = adversarial_trace(target)
    use = {fit: bench.free_list_replay(trace, "address", fit, repeats=1).utilisation
           for fit in FITS}
    assert use[target] < max(use.values())
    assert use[target] < use["first"] or use[target] < use["best"]


def test_free_list_adversary_bad_name():
    with pytest.raises(mp.PoolMisuse):
        adversarial_trace("good")


def test_free_list_steps_per_allocation():
    trace = TRACES["seeded-1"]
    implicit = bench.free_list_steps(trace, lists="implicit")
    explicit = bench.free_list_steps(trace, lists="explicit")
    assert len(implicit) == len(explicit) == sum(op.kind == "a" for op in trace.ops)
    assert min(explicit) >= 1 and sum(implicit) > sum(explicit)


def test_lesson_regenerates_the_bundled_traces():
    """Lesson 05 makes the bundled traces again with the generator (a notebook copied elsewhere
    has no data/ folder beside it); they must be the same ops."""
    from mempools.workloads import malloclab

    for seed in (1, 2, 3):
        assert malloclab(seed, 2000).ops == TRACES[f"seeded-{seed}"].ops
