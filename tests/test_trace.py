"""Traces: both malloclab header layouts, OSTEP strings, errors naming lines, replay checks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mempools as mp
from mempools.trace import token

MALLOCLAB = """\
20000
3
6
1
a 0 512
a 1 128
r 0 640
f 1
a 2 16
f 0
"""


def test_parse_malloclab_four_line_header():
    t = mp.Trace.parse(MALLOCLAB)
    assert t.heap_size == 20000 and t.weight == 1 and len(t) == 6
    assert t.ops[2] == mp.Op("r", 0, 640) and t.ops[3] == mp.Op("f", 1)


def test_parse_malloclab_three_line_header_and_none():
    three = "\n".join(MALLOCLAB.splitlines()[:3] + MALLOCLAB.splitlines()[4:])
    assert mp.Trace.parse(three).ops == mp.Trace.parse(MALLOCLAB).ops
    bare = "\n".join(MALLOCLAB.splitlines()[4:])
    assert mp.Trace.parse(bare).ops == mp.Trace.parse(MALLOCLAB).ops


def test_parse_ostep_string():
    t = mp.Trace.parse("+10,-0,+4, +20,-2")
    assert t.ops == [mp.Op("a", 0, 10), mp.Op("f", 0), mp.Op("a", 1, 4), mp.Op("a", 2, 20),
                     mp.Op("f", 2)]


@pytest.mark.parametrize(
    "text, match",
    [
        ("a 0 8\nx 1 2\n", "line 2: unknown op 'x'"),
        ("a 0 8\nf\n", "line 2: expected 'f ID'"),
        ("a 0 eight\n", "line 1: expected 'a ID SIZE'"),
        ("a 0 0\n", "line 1: size 0"),
        ("a 0 8\nf 1\n", r"op 1 \(f 1\): id 1 is not allocated"),
        ("a 0 8\na 0 8\n", "id 0 is already allocated"),
        ("100\n1\n5\n1\na 0 8\n", "header says 5 ops but the trace has 1"),
        ("1\n2\na 0 8\n", "header has 2 numbers"),
        ("+10,-3", "id 3 is not allocated"),
        ("+0", r"item 1: \+0"),
    ],
)
def test_parse_errors_name_the_line(text, match):
    with pytest.raises(mp.TraceError, match=match):
        mp.Trace.parse(text)


def test_trace_error_is_a_value_error():
    assert issubclass(mp.TraceError, ValueError) and issubclass(mp.TraceError, mp.PoolError)


@given(seed=st.integers(0, 2**32), n=st.integers(1, 120), realloc=st.floats(0, 0.3),
       header=st.booleans())
def test_round_trip(seed, n, realloc, header):
    t = mp.Trace.random(seed, n, realloc_ratio=realloc)
    again = mp.Trace.parse(t.to_text(header=header))
    assert again.ops == t.ops


def test_random_is_seeded():
    assert mp.Trace.random(7, 50).ops == mp.Trace.random(7, 50).ops
    assert mp.Trace.random(7, 50).ops != mp.Trace.random(8, 50).ops


def test_replay_clean_on_malloc():
    with mp.Malloc() as heap:
        r = mp.replay(mp.Trace.random(5, 300, realloc_ratio=0.2), heap)
        assert r.errors == [] and r.ops > 300 and 0 < r.utilisation <= 1
        assert heap.stats["live"] == 0


class OverlappingHeap(mp.Malloc):
    """A deliberately broken pool: every block after the first starts 8 bytes into the last."""

    def replay_alloc(self, size):
        if not self.live:
            return self.malloc(size + 4096)
        last = self.live[-1]
        ptr = mp.malloc.ffi.cast("void *", last.address + 8)
        return self._new_overlapping(ptr, size)

    def _new_overlapping(self, ptr, size):
        block = self._new_block(size)
        self._fake[block.id] = int(mp.malloc.ffi.cast("uintptr_t", ptr))
        return block

    @property
    def _fake(self):
        return self.__dict__.setdefault("_fakes", {})

    def _address_of(self, block):
        return self._fake.get(block.id) or super()._address_of(block)

    def _spans(self):
        return []

    def replay_free(self, block):
        self._forget(block, "freed")  # never hand a bogus pointer to libc

    def _check_c(self):
        return None


def test_replay_reports_overlap_and_garbled_payload():
    heap = OverlappingHeap()
    r = mp.replay(mp.Trace.parse("+16,+16,-0,-1"), heap)
    kinds = [e.kind for e in r.errors]
    assert "overlap" in kinds and "garbled payload" in kinds
    assert r.errors[0].step == 1


class MisalignedHeap(OverlappingHeap):
    def replay_alloc(self, size):
        base = self.malloc(size + 64)
        ptr = mp.malloc.ffi.cast("void *", base.address + 3)
        return self._new_overlapping(ptr, size)


def test_replay_reports_misalignment():
    r = mp.replay(mp.Trace.parse("+8"), MisalignedHeap())
    assert [e.kind for e in r.errors] == ["misalignment"]


def test_replay_reports_out_of_memory():
    pool = mp.FixedPool(16, 2)
    r = mp.replay(mp.Trace.parse("+8,+8,+8"), pool)
    assert [(e.step, e.kind) for e in r.errors] == [(2, "out of memory")]


def test_token_distinct_per_id():
    assert token(1, 16) != token(2, 16) and len(token(3, 5)) == 5
