"""mp.Malloc: misuse refused in Python, failures as exceptions, contents against a model."""

import subprocess
import sys

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import mempools as mp
from tests.conftest import tokens_intact, write_tokens


@pytest.mark.parametrize(
    "size, exc",
    [
        (-1, mp.BadSize),
        (0, mp.BadSize),
        (1.5, mp.BadSize),
        ("8", mp.BadSize),
        (True, mp.BadSize),
        (None, mp.BadSize),
        (2**64, mp.BadSize),
        (2**62, mp.OutOfMemory),
        (2**64 - 1, mp.OutOfMemory),
    ],
)
def test_malloc_bad_size(heap, size, exc):
    with pytest.raises(exc):
        heap.malloc(size)
    assert heap.stats["live"] == 0
    heap.check()


def test_malloc_error_classes_derive_from_builtins():
    assert issubclass(mp.OutOfMemory, MemoryError) and issubclass(mp.OutOfMemory, mp.PoolError)
    for cls in (mp.DoubleFree, mp.ForeignBlock, mp.StaleHandle, mp.BadSize, mp.BadAlignment,
                mp.UseAfterClose):
        assert issubclass(cls, ValueError) and issubclass(cls, mp.PoolError)


@pytest.mark.parametrize("count, size", [(2**32, 2**32), (2**63, 2), (-1, 4), (3, -1), (0, 8)])
def test_calloc_overflow_and_bad_sizes(heap, count, size):
    with pytest.raises(mp.BadSize):
        heap.calloc(count, size)
    assert heap.stats["live"] == 0


def test_double_free_names_block(heap):
    b = heap.malloc(24)
    heap.free(b)
    with pytest.raises(mp.DoubleFree, match=r"block #0 was already freed"):
        heap.free(b)


def test_foreign_block(heap):
    other = mp.Malloc()
    b = other.malloc(8)
    with pytest.raises(mp.ForeignBlock):
        heap.free(b)
    with pytest.raises(mp.ForeignBlock):
        heap.free("not a block")
    other.free(b)


def test_stale_block_after_realloc(heap):
    b = heap.malloc(16)
    b.write(b"0123456789abcdef")
    c = heap.realloc(b, 4096)
    assert c.read(16) == b"0123456789abcdef"
    with pytest.raises(mp.StaleHandle):
        b.read()
    with pytest.raises(mp.StaleHandle):
        heap.free(b)
    heap.free(c)


def test_use_after_free(heap):
    b = heap.malloc(8)
    heap.free(b)
    with pytest.raises(mp.StaleHandle, match="use after free"):
        b.write(b"x")
    with pytest.raises(mp.StaleHandle, match="use after free"):
        b.read()
    with pytest.raises(mp.DoubleFree, match="already freed"):
        heap.free(b)


@pytest.mark.parametrize("n, at", [(9, 0), (1, 8), (-1, 0), (0, 9), (None, -1)])
def test_block_bounds(heap, n, at):
    b = heap.malloc(8)
    with pytest.raises(mp.BadSize):
        b.read(n, at)
    with pytest.raises(mp.BadSize):
        b.write(b"x" * 9)


def test_use_after_close():
    h = mp.Malloc()
    b = h.malloc(8)
    h.close()
    with pytest.raises(mp.UseAfterClose):
        h.malloc(8)
    with pytest.raises(mp.UseAfterClose):
        b.read()


def test_leak_report_names_sizes_and_places(heap):
    heap.malloc(10)
    kept = heap.malloc(20)
    report = heap.leaks()
    assert "2 block(s) still live, 30 bytes" in report and "test_malloc.py:" in report
    heap.free(kept)
    assert heap.stats["live"] == 1


def test_calloc_zeroes(heap):
    b = heap.calloc(16, 8)
    assert b.size == 128 and b.read() == bytes(128)


def test_the_issue_one_liner_raises_value_error():
    code = "import mempools as mp; h = mp.Malloc(); b = h.malloc(24); h.free(b); h.free(b)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 1
    assert "DoubleFree: Malloc.free: block #0 was already freed" in run.stderr


class MallocModel(RuleBasedStateMachine):
    """malloc/realloc/free against a model of each block's contents."""

    def __init__(self):
        super().__init__()
        self.heap = mp.Malloc()
        self.model = {}  # id -> (Block, bytes)
        self.next = 0

    @rule(size=st.integers(1, 300))
    def malloc(self, size):
        b = self.heap.malloc(size)
        write_tokens(b, self.next)
        self.model[self.next] = (b, b.read())
        self.next += 1

    @precondition(lambda self: self.model)
    @rule(data=st.data(), size=st.integers(1, 600))
    def realloc(self, data, size):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        old, content = self.model[ident]
        new = self.heap.realloc(old, size)
        assert new.read(min(size, len(content))) == content[:size]
        assert not old.live
        write_tokens(new, ident)
        self.model[ident] = (new, new.read())

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def free(self, data):
        ident = data.draw(st.sampled_from(sorted(self.model)))
        block, content = self.model.pop(ident)
        assert block.read() == content
        self.heap.free(block)
        with pytest.raises(mp.DoubleFree):
            self.heap.free(block)

    @invariant()
    def contents_and_counts(self):
        for ident, (block, content) in self.model.items():
            assert block.read() == content and tokens_intact(block, ident)
        assert self.heap.stats["live"] == len(self.model)
        self.heap.check()

    def teardown(self):
        self.heap.close()


TestMallocModel = MallocModel.TestCase


def test_unsafe_write_reaches_usable_size_but_not_the_next_header(heap):
    b = heap.malloc(20)
    usable = heap.usable_size(b)
    assert usable >= 20
    b.unsafe_write(b"x" * usable)  # past the 20 requested bytes: what C code gets away with
    with pytest.raises(mp.BadSize):
        b.write(b"x" * 21)
    with pytest.raises(mp.BadSize, match="even the unsafe path stops there"):
        b.unsafe_write(b"x" * (usable + 1))
    heap.free(b)


def test_reuse_after_free_shows_old_bytes(heap):
    after, same = heap.reuse_after_free(200)
    assert len(after) == 200
    if mp.malloc.GLIBC:
        assert same and after[16:] == b"\xab" * 184  # only the free-list link and key changed
    with pytest.raises(mp.BadSize):
        heap.reuse_after_free(0)


def test_checkerboard_leaves_holes_between_live_blocks(heap):
    live = heap.checkerboard(7, 1000)
    assert len(live) == 4 and [b.read(1) for b in live] == [b"A", b"B", b"C", b"D"]
    holes = heap.holes()
    assert len(holes) == 3 and all(size >= 1000 for _, size in holes)
    offsets = [b.offset for b in live]
    assert all(lo < hole < hi for (hole, _), lo, hi in zip(holes, offsets, offsets[1:]))
    heap.check()
    for b in live:
        heap.free(b)
