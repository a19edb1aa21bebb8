"""BumpPool, FixedPool and EmbeddedPool: bad-input tables (pool unchanged after each refusal)
and stateful hypothesis tests against Python models, with end tokens and check() every step."""

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import mempools as mp
from tests.conftest import tokens_intact, write_tokens


def snapshot(pool):
    """What must not change after a refused call: the layout, the bytes outside the pool's own
    table (whose scratch space and step counter are bookkeeping), and the counters."""
    memory = bytearray(pool.memory())
    for region in pool.walk():
        if region.kind == "table":
            memory[region.offset:region.offset + region.size] = bytes(region.size)
    stats = {k: v for k, v in pool.stats.items() if k != "last_steps"}
    return pool.walk(), bytes(memory), stats


# bad inputs: tests/test_bad_inputs.py holds the table for every pool


def test_bump_mark_from_before_reset_is_stale():
    pool = mp.BumpPool(128)
    m = pool.mark()
    b = pool.alloc(8)
    pool.reset()
    with pytest.raises(mp.StaleHandle):
        pool.release(m)
    with pytest.raises(mp.StaleHandle):
        b.read()


def test_bump_exact_fit_and_measure():
    pool = mp.BumpPool(64)
    pool.alloc(56)
    pool.alloc(8)  # ends exactly on the last byte
    assert pool.available == 0
    sizes = [(3, 8), (100, 64), (7, 16), (1, 256)]
    probe = mp.BumpPool(measure=True)
    for size, align in sizes:
        probe.alloc(size, align=align)
    need = probe.measured
    exact = mp.BumpPool(need)
    for size, align in sizes:
        exact.alloc(size, align=align)
    short = mp.BumpPool(need - 1)
    with pytest.raises(mp.OutOfMemory):
        for size, align in sizes:
            short.alloc(size, align=align)


def test_fixed_exactly_count_then_refill():
    pool = mp.FixedPool(24, 7)
    blocks = [pool.alloc() for _ in range(7)]
    with pytest.raises(mp.OutOfMemory):
        pool.alloc()
    for b in blocks:
        pool.free(b)
    assert len([pool.alloc() for _ in range(7)]) == 7
    assert pool.stats["failed"] == 1
    pool.check()


def test_fixed_free_after_close():
    pool = mp.FixedPool(16, 4)
    b = pool.alloc()
    pool.close()
    with pytest.raises(mp.UseAfterClose):
        pool.free(b)


def test_embedded_hooks_balance():
    pool = mp.EmbeddedPool(1024, 8)
    h = pool.alloc(16)
    pool.realloc(h, 40)
    pool.lock(h)
    with pytest.raises(mp.LockError):
        pool.free(h)
    pool.unlock(h)
    pool.compact()
    pool.free(h)
    assert pool.sections["enter"] == pool.sections["exit"] == 7  # one pair per call


def test_embedded_seeded_traces_replay_cleanly():
    for seed in range(5):
        pool = mp.EmbeddedPool(16384, 64)
        r = mp.replay(mp.Trace.random(seed, 300, sizes=(1, 200), realloc_ratio=0.2), pool)
        assert r.errors == [], r.errors[:3]


# -- stateful models ----------------------------------------------------------------------------
class PoolModel(RuleBasedStateMachine):
    """Shared invariant: every live block keeps its end tokens, lies inside the pool, is
    aligned, overlaps no other; check() passes."""

    def __init__(self):
        super().__init__()
        self.model = {}  # ident -> Block
        self.next = 0

    def adopt(self, block):
        write_tokens(block, self.next)
        self.model[self.next] = block
        self.next += 1

    @invariant()
    def blocks_sound(self):
        spans = []
        for ident, block in self.model.items():
            assert tokens_intact(block, ident), f"id {ident} garbled"
            assert block.address % self.alignment_of(ident) == 0, f"id {ident} misaligned"
            assert 0 <= block.offset and block.offset + block.size <= self.pool.memory_size
            spans.append((block.offset, block.offset + block.size))
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "overlap"
        self.pool.check()

    def alignment_of(self, ident):
        return self.pool.alignment

    def teardown(self):
        self.pool.close()


class BumpModel(PoolModel):
    def __init__(self):
        super().__init__()
        self.pool = mp.BumpPool(512, growable=self.growable)
        self.marks = []  # (mark, ids allocated before it)
        self.aligns = {}

    growable = False

    @rule(size=st.integers(1, 200))
    def alloc(self, size):
        try:
            self.adopt(self.pool.alloc(size))
        except mp.OutOfMemory:
            assert not self.growable

    @rule(size=st.integers(1, 100), align=st.sampled_from([1, 2, 8, 16, 64, 256]))
    def alloc_aligned(self, size, align):
        try:
            block = self.pool.alloc(size, align=align)
        except mp.OutOfMemory:
            assert not self.growable
            return
        assert block.address % align == 0
        self.aligns[self.next] = align
        self.adopt(block)

    @rule()
    def mark(self):
        self.marks.append((self.pool.mark(), set(self.model)))

    @precondition(lambda self: self.marks)
    @rule(data=st.data())
    def release(self, data):
        i = data.draw(st.integers(0, len(self.marks) - 1))
        mark, before = self.marks[i]
        del self.marks[i + 1:]
        self.pool.release(mark)
        for ident in set(self.model) - before:
            block = self.model.pop(ident)
            with pytest.raises(mp.StaleHandle):
                block.read()

    @rule()
    def reset(self):
        self.pool.reset()
        self.model.clear()
        self.marks.clear()
        assert self.pool.stats["used"] == 0

    @invariant()
    def stats_consistent(self):
        s = self.pool.stats
        assert s["allocations"] == len(self.model)
        assert s["used"] == sum(b.size for b in self.model.values()) + s["padding"]
        assert s["used"] <= s["high_water"]

    def alignment_of(self, ident):
        return self.aligns.get(ident, self.pool.alignment)


class GrowableBumpModel(BumpModel):
    growable = True


class FixedModel(PoolModel):
    def __init__(self):
        super().__init__()
        self.pool = mp.FixedPool(12, 10)

    @rule()
    def alloc(self):
        if len(self.model) == 10:
            with pytest.raises(mp.OutOfMemory):
                self.pool.alloc()
        else:
            self.adopt(self.pool.alloc())

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def free(self, data):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        block = self.model.pop(ident)
        index = self.pool.index(block)
        self.pool.free(block)
        assert self.pool.free_list()[0] == index  # LIFO: the freed block heads the list
        with pytest.raises(mp.DoubleFree):
            self.pool.free(block)

    @invariant()
    def counts(self):
        s = self.pool.stats
        assert s["used"] == len(self.model) and s["free"] == 10 - len(self.model)
        assert len(self.pool.free_list()) == s["high_water"] - s["used"]


class EmbeddedModel(PoolModel):
    def __init__(self):
        super().__init__()
        self.pool = mp.EmbeddedPool(2048, 12)
        self.locked = {}  # ident -> (lock count, offset when first locked)

    @rule(size=st.integers(1, 300))
    def alloc(self, size):
        try:
            self.adopt(self.pool.alloc(size))
        except mp.OutOfMemory:
            s = self.pool.stats
            assert s["live"] == 12 or s["largest_gap"] < -(-size // 8) * 8

    @precondition(lambda self: self.model)
    @rule(data=st.data(), size=st.integers(1, 600))
    def realloc(self, data, size):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        block = self.model[ident]
        content = block.read()
        try:
            self.pool.realloc(block, size)
        except (mp.OutOfMemory, mp.LockError):
            assert block.read() == content  # failure keeps the data
            return
        assert block.read(min(size, len(content))) == content[:size]
        write_tokens(block, ident)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def free(self, data):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        block = self.model[ident]
        if ident in self.locked:
            with pytest.raises(mp.LockError):
                self.pool.free(block)
            return
        self.pool.free(self.model.pop(ident))
        with pytest.raises(mp.StaleHandle):
            block.read()

    @rule()
    def compact(self):
        self.pool.compact()

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def lock(self, data):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        offset = self.pool.lock(self.model[ident])
        count, first = self.locked.get(ident, (0, offset))
        self.locked[ident] = (count + 1, first)

    @precondition(lambda self: self.locked)
    @rule(data=st.data())
    def unlock(self, data):
        ident = data.draw(st.sampled_from(sorted(self.locked)))
        self.pool.unlock(self.model[ident])
        count, first = self.locked.pop(ident)
        if count > 1:
            self.locked[ident] = (count - 1, first)

    @invariant()
    def locked_blocks_never_move(self):
        for ident, (_, first) in self.locked.items():
            assert self.model[ident].offset == first
        assert self.pool.stats["live"] == len(self.model)
        assert self.pool.sections["enter"] == self.pool.sections["exit"]


TestBump = BumpModel.TestCase
TestGrowableBump = GrowableBumpModel.TestCase
TestFixed = FixedModel.TestCase
TestEmbedded = EmbeddedModel.TestCase


def test_naive_bump_loses_the_last_byte_the_real_one_does_not():
    naive = mp.naive.NaiveBump(64)
    assert naive.available == 63 and naive.alloc(64) is None and naive.alloc(63) == 0
    real = mp.BumpPool(64)
    assert real.alloc(64).offset == 0 and real.available == 0


def test_bump_walk_draws_padding_between_aligned_pieces():
    pool = mp.BumpPool(256)
    pool.alloc(3)
    pool.alloc(8, align=64)
    kinds = [(r.offset, r.size, r.kind) for r in pool.walk()]
    assert kinds == [(0, 3, "payload"), (3, 61, "padding"), (64, 8, "payload"), (72, 184, "free")]


def test_bump_growth_chains_chunks_and_counts_mallocs():
    pool = mp.BumpPool(256, growable=True)
    for size in (100, 100, 100, 300):
        pool.alloc(size)
    assert pool.chunks() == [(0, 256), (256, 512)]
    assert pool.stats["chunks"] == 2 and pool.stats["malloc_calls"] == 4
    pool.check()


def test_fixed_create_leaks_nothing_when_either_malloc_fails():
    from mempools.fixed import create_with_failing_malloc

    assert create_with_failing_malloc(16, 8, 1) == ("out of memory", 0)
    assert create_with_failing_malloc(16, 8, 2) == ("out of memory", 0)
    assert create_with_failing_malloc(16, 8, 0) == ("ok", 0)
    assert mp.naive.leak_when_second_malloc_fails(16, 8) > 0


def test_fixed_next_pointer_is_the_next_free_block():
    pool = mp.FixedPool(16, 4)
    blocks = [pool.alloc() for _ in range(3)]
    pool.free(blocks[0])
    pool.free(blocks[2])
    assert pool.free_list() == [2, 0]
    assert pool.offset_of_address(pool.next_pointer(2)) == 0 and pool.next_pointer(0) == 0
    with pytest.raises(mp.BadSize):
        pool.next_pointer(1)


def test_naive_fixed_double_free_hands_one_block_out_twice():
    naive = mp.naive.NaiveFixed(16, 4)
    a = naive.alloc("a")
    naive.free(a)
    naive.free(a)
    assert naive.alloc("b") == naive.alloc("c") == a
    naive12 = mp.naive.NaiveFixed(12, 4)
    assert [naive12.address_of(naive12.alloc(str(i))) % 8 for i in range(4)] == [0, 4, 0, 4]


def test_embedded_forged_handle_is_refused_and_pool_unchanged():
    pool = mp.EmbeddedPool(1024, 8)
    h = pool.alloc(16)
    before = snapshot(pool)
    pool._handle[h.id].slot = 99  # a handle naming a slot the table does not have
    with pytest.raises(mp.ForeignBlock):
        pool.free(h)
    pool._handle[h.id].slot, pool._handle[h.id].generation = 0, 12345  # a stale generation
    with pytest.raises(mp.StaleHandle):
        pool.free(h)
    assert snapshot(pool) == before


def test_naive_embedded_overwrites_and_real_does_not():
    naive = mp.naive.NaiveEmbedded(64)
    for slot, letter in zip((naive.alloc(10) for _ in range(3)), b"ABC"):
        naive.write(slot, bytes([letter]) * 10)
    naive.free(1)
    naive.write(naive.alloc(20), b"N" * 20)
    assert naive.read(2) == b"N" * 10
    real = mp.EmbeddedPool.for_blocks(64, 4)
    blocks = [real.alloc(10) for _ in range(3)]
    blocks[2].write(b"C" * 10)
    real.free(blocks[1])
    real.alloc(20).write(b"N" * 20)
    assert blocks[2].read() == b"C" * 10


def test_embedded_realloc_moves_both_ways():
    pool = mp.EmbeddedPool.for_blocks(96, 4)
    hole, a, b, c = (pool.alloc(16) for _ in range(4))
    start = pool.stats["table_bytes"]
    pool.free(hole)
    pool.realloc(b, 48)
    assert (a.offset - start, b.offset - start, c.offset - start) == (0, 16, 80)
    naive = mp.naive.NaiveEmbedded(64)
    first, _, last = naive.alloc(20), naive.alloc(20), naive.alloc(20)
    naive.free(first)
    assert naive.realloc(last, 30) is False  # 24 bytes free, but only 4 after the last block


def test_embedded_zero_on_free_clears_the_bytes():
    pool = mp.EmbeddedPool.for_blocks(64, 4, zero_on_free=True)
    block = pool.alloc(16)
    block.write(b"x" * 16)
    start = block.offset
    pool.free(block)
    assert pool.peek(start, 16) == bytes(16)
    keep = mp.EmbeddedPool.for_blocks(64, 4)
    other = keep.alloc(16)
    other.write(b"x" * 16)
    start = other.offset
    keep.free(other)
    assert keep.peek(start, 16) == b"x" * 16  # without the flag, freed bytes stay as they were
