"""Traces: both malloclab header layouts, OSTEP strings, errors naming lines, replay checks."""

import json
import subprocess
import sys

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
        ("a 0 8\nx 1 2\n", "line 2: unknown operation 'x'"),
        ("a 0 8\nf\n", "line 2: missing field: expected 'f ID'"),
        ("a 0 eight\n", "line 1: SIZE 'eight' is not a whole number"),
        ("a 0 \u00b2\n", "line 1: SIZE '\u00b2' is not a whole number"),
        ("a 0 0\n", "line 1: size must be at least 1 byte"),
        ("a 0 8\nf 1\n", r"line 2: f 1: id 1 is not allocated"),
        ("a 0 8\na 0 8\n", "line 2: a 0 8: id 0 is already allocated"),
        ("a 0 8 9\n", "line 1: extra field: expected 'a ID SIZE'"),
        ("f -2\n", "line 1: id must be -1"),
        ("a -1 8\n", "line 1: id must be 0 or more"),
        ("a 0 8\n5\n", "line 2: a bare number 5 after the ops began"),
        ("1\n2\na 0 8\n", "header has 2 numbers"),
        ("1\n2\n3\n4\n5\na 0 8\n", "line 5: '5' is not a header number"),
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


class BackwardsHeap(OverlappingHeap):
    """Each block after the first starts 32 bytes BEFORE the last one and runs into it."""

    def replay_alloc(self, size):
        if not self.live:
            arena = self.malloc(4096)
            return self._new_overlapping(mp.malloc.ffi.cast("void *", arena.address + 2048), size)
        ptr = mp.malloc.ffi.cast("void *", self.live[-1].address - 32)
        return self._new_overlapping(ptr, size)


@pytest.mark.parametrize("trace, pairs", [
    ("+16,+64", [(1, 0)]),  # the new block runs into the one after it
    ("+16,+16", []),  # it ends where that one starts: no overlap
    ("+64,+64,+100", [(1, 0), (2, 1), (2, 0)]),  # runs over two at once
])
def test_replay_reports_an_overlap_with_a_block_after_the_new_one(trace, pairs):
    r = mp.replay(mp.Trace.parse(trace), BackwardsHeap())
    found = [e.message.split(" overlaps id ") for e in r.errors if e.kind == "overlap"]
    assert [(int(a.split()[1]), int(b.split()[0])) for a, b in found] == pairs


def test_replay_reports_misalignment():
    r = mp.replay(mp.Trace.parse("+8"), MisalignedHeap())
    assert [e.kind for e in r.errors] == ["misalignment"]


def test_replay_reports_out_of_memory():
    pool = mp.FixedPool(16, 2)
    r = mp.replay(mp.Trace.parse("+8,+8,+8"), pool)
    assert [(e.step, e.kind) for e in r.errors] == [(2, "out of memory")]


def test_token_distinct_per_id():
    assert token(1, 16) != token(2, 16) and len(token(3, 5)) == 5


# -- the dialects of real trace sets, each on a small trace written in it --------------------
FREE_NULL = """\
0
3
4
0
f -1
a 1 16
f 1
f -1
"""

REALLOC_NULL = """\
0
2
4
0
r 0 16
a 1 364
r 0 32
f 1
"""

REALLOC_ZERO = """\
0
2
4
0
a 9 100
r 9 0
r 7 0
a 9 8
"""

HEADER_OFF_BY_ONE = """\
1
2
2
1
a 0 8
a 1 8
f 0
"""

COMMENTS_AND_BLANKS = """\
# a trace with notes
20000
2

3   # ops
1
a 0 24    # the first block

a 1 40
  f 0
"""

CORRUPT = """\
0
8
3
0
a 0 16
a 7
f 0
"""


def test_free_null_is_a_no_op():
    t = mp.Trace.parse(FREE_NULL)
    assert t.ops[0] == mp.Op("f", -1) and t.ids == 1
    with mp.Malloc() as heap:
        r = mp.replay(t, heap)
        assert r.errors == [] and r.ops == 4 and heap.stats["frees"] == 1


def test_realloc_of_an_id_never_allocated_is_malloc():
    t = mp.Trace.parse(REALLOC_NULL)
    assert t.canonical().ops[0] == mp.Op("a", 0, 16)
    with mp.Malloc() as heap:
        r = mp.replay(t, heap)
        assert r.errors == [] and heap.stats["mallocs"] == 2 and heap.stats["reallocs"] == 1
        assert r.peak_live_bytes == 32 + 364


def test_realloc_to_zero_frees_and_realloc_null_zero_allocates_nothing():
    t = mp.Trace.parse(REALLOC_ZERO)
    assert t.canonical().ops == [mp.Op("a", 9, 100), mp.Op("f", 9), mp.Op("a", 9, 8)]
    with mp.EmbeddedPool(1024, 4) as pool:
        r = mp.replay(t, pool)
        assert r.errors == [] and pool.stats["live"] == 1


def test_header_off_by_one_is_a_warning_and_strict_refuses_it():
    with pytest.warns(mp.TraceWarning, match="header says 2 ops but the trace has 3"):
        t = mp.Trace.parse(HEADER_OFF_BY_ONE)
    assert len(t) == 3
    with pytest.raises(mp.TraceError, match=r"header says 2 ops .*strict=True"):
        mp.Trace.parse(HEADER_OFF_BY_ONE, strict=True)


def test_header_with_too_few_ids_is_a_warning():
    with pytest.warns(mp.TraceWarning, match="header says 1 ids but the trace uses 2"):
        mp.Trace.parse("0\n1\n2\n1\na 0 8\na 1 8\n")


@pytest.mark.parametrize("text, rule", [
    (FREE_NULL, "free\\(NULL\\)"),
    (REALLOC_NULL, "realloc\\(NULL, n\\) is not in the strict dialect"),
    (REALLOC_ZERO, "realloc to 0 is not in the strict dialect"),
])
def test_strict_accepts_only_the_cs_app_dialect(text, rule):
    mp.Trace.parse(text)
    with pytest.raises(mp.TraceError, match=rule):
        mp.Trace.parse(text, strict=True)


def test_comments_and_blank_lines_are_skipped():
    t = mp.Trace.parse(COMMENTS_AND_BLANKS)
    assert t.heap_size == 20000 and t.weight == 1
    assert t.ops == [mp.Op("a", 0, 24), mp.Op("a", 1, 40), mp.Op("f", 0)]


def test_corrupt_line_names_its_line():
    with pytest.raises(mp.TraceError, match=r"line 6: missing field: expected 'a ID SIZE' "
                                            r"\(in 'a 7'\)"):
        mp.Trace.parse(CORRUPT)


def test_lenient_skips_the_corrupt_line_with_a_warning():
    with pytest.warns(mp.TraceWarning, match=r"skipped 1 bad line\(s\): line 6"):
        t = mp.Trace.parse(CORRUPT, lenient=True)
    assert t.ops == [mp.Op("a", 0, 16), mp.Op("f", 0)]


def test_lenient_skips_ops_on_an_id_whose_alloc_was_skipped():
    with pytest.warns(mp.TraceWarning, match=r"skipped 2 bad line\(s\): line 1:.*line 2:"):
        t = mp.Trace.parse("a 3 x\nf 3\na 4 8\n", lenient=True)
    assert t.ops == [mp.Op("a", 4, 8)]


def test_strict_and_lenient_together_are_refused():
    with pytest.raises(mp.TraceError, match="contradict"):
        mp.Trace.parse("a 0 8\n", strict=True, lenient=True)


@given(seed=st.integers(0, 2**32), n=st.integers(1, 80))
def test_dialect_trace_replays_like_its_canonical_form(seed, n):
    """A random trace rewritten with every dialect form means the same as the plain one."""
    base = mp.Trace.random(seed, n, realloc_ratio=0.2)
    dialect: list[mp.Op] = []
    for op in base.ops:
        if op.kind == "a" and op.id % 2:
            dialect.append(mp.Op("r", op.id, op.size))  # realloc(NULL, n)
        elif op.kind == "f" and op.id % 3 == 0:
            dialect += [mp.Op("r", op.id, 0), mp.Op("f", -1)]  # realloc to 0, free(NULL)
        else:
            dialect.append(op)
    t = mp.Trace(dialect)
    assert t.canonical().ops == base.ops
    assert mp.Trace.parse(t.to_text()).ops == t.ops
    with mp.Malloc() as a, mp.Malloc() as b:
        ra, rb = mp.replay(t, a), mp.replay(base, b)
        assert ra.errors == rb.errors == [] and ra.peak_live_bytes == rb.peak_live_bytes
        assert a.stats["live"] == b.stats["live"] == 0


# -- replay's checks -------------------------------------------------------------------------
def test_token_is_the_documented_formula():
    for ident in (0, 1, 7, 255, 256, 10**6):
        for n in (0, 1, 300, 20000):
            want = bytes(((ident * 31 + j) * 7 + 0x5A) & 0xFF for j in range(n))
            assert token(ident, n) == want


def test_replay_catches_a_block_overwritten_while_live_when_it_is_freed():
    class Scribbler(mp.Malloc):
        """Writes over the previous block on every alloc, as a buggy allocator might."""

        def replay_alloc(self, size):
            if self.live:
                self.live[-1].write(b"\0")
            return self.malloc(size)

    r = mp.replay(mp.Trace.parse("+16,+16,-0,-1"), Scribbler())
    assert [(e.step, e.kind) for e in r.errors] == [(2, "garbled payload")]


def test_replay_sweep_catches_a_garbled_block_still_live_at_the_end():
    class Scribbler(mp.Malloc):
        def replay_alloc(self, size):
            if self.live:
                self.live[0].write(b"\0")
            return self.malloc(size)

    r = mp.replay(mp.Trace.parse("+16,+16"), Scribbler())
    assert [(e.step, e.op, e.kind) for e in r.errors] == [(2, None, "garbled payload")]


def test_verify_all_catches_it_at_the_step_it_happens():
    class Scribbler(mp.Malloc):
        def replay_alloc(self, size):
            if self.live:
                self.live[0].write(b"\0")
            return self.malloc(size)

    r = mp.replay(mp.Trace.parse("+16,+16,+16"), Scribbler(), verify_all=True)
    assert [(e.step, e.kind) for e in r.errors] == [(1, "garbled payload")]


def test_check_every_sets_when_the_pool_checker_runs():
    calls = []

    class Counting(mp.Malloc):
        def _check_c(self):
            calls.append(self.stats["mallocs"])
            return None

    ten = mp.Trace.parse(",".join(["+8"] * 10))
    mp.replay(ten, Counting(), check_every=4)
    assert calls == [4, 8, 10]  # after ops 4 and 8, and in the final sweep
    calls.clear()
    mp.replay(ten, Counting(), check=False)
    assert calls == []
    mp.replay(ten, Counting(), verify_all=True)
    assert calls == list(range(1, 11)) + [10]


def test_replay_on_a_pool_that_moves_blocks_reports_no_false_overlap():
    t = mp.Trace.parse("+32,+32,+32,+32,-0,-2,+48,-1,+24,-3,+56")
    with mp.EmbeddedPool.for_blocks(128, slots=8) as pool:
        r = mp.replay(t, pool)
        assert r.errors == [] and pool.stats["compactions"] > 0


@pytest.mark.parametrize("make, trace", [
    (lambda: mp.Malloc(), lambda: mp.Trace.random(3, 400, realloc_ratio=0.2)),
    (lambda: mp.EmbeddedPool(1 << 16, 64), lambda: mp.Trace.random(3, 400, realloc_ratio=0.2)),
    (lambda: mp.FixedPool(64, 64), lambda: mp.Trace.random(3, 400, sizes=(1, 64))),
    (lambda: mp.BumpPool(1 << 16), lambda: mp.Trace.parse("+8,+16,-1,-0,+32,+4,-3,-2")),
])
def test_replay_is_clean_and_leaves_each_pool_empty(make, trace):
    with make() as pool:
        r = mp.replay(trace(), pool)
        assert r.errors == [] and pool.live == []
        pool.check()


def test_replay_step_by_step_matches_replay():
    t = mp.Trace.random(9, 60, realloc_ratio=0.2)
    with mp.Malloc() as a, mp.Malloc() as b:
        run = mp.Replay(t, a)
        ops = [run.step() for _ in range(len(t))]
        assert ops == t.ops and run.done
        whole = mp.replay(t, b)
        assert (run.result.ops, run.result.peak_live_bytes) == (whole.ops, whole.peak_live_bytes)
        with pytest.raises(mp.TraceError, match=rf"Replay.step\(\): all {len(t)} ops have run"):
            run.step()


# -- bad inputs: Trace, Op and replay (issue 17) ---------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: mp.Op("x", 0, 1), "unknown operation 'x'"),
    (lambda: mp.Op("a", 0), "an alloc needs a size"),
    (lambda: mp.Op("r", 0), "a realloc needs a size"),
    (lambda: mp.Op("a", 0, 0), "size must be at least 1 byte"),
    (lambda: mp.Op("a", 0, -5), "size must be at least 1 byte"),
    (lambda: mp.Op("a", 0, 2**64), "fit in size_t"),
    (lambda: mp.Op("r", 0, -1), "size must be 0 \\(free\\) or more"),
    (lambda: mp.Op("a", 0, 1.5), "size must be a whole number, not 1.5"),
    (lambda: mp.Op("a", 0, True), "size must be a whole number, not True"),
    (lambda: mp.Op("a", "0", 8), "id must be a whole number, not '0'"),
    (lambda: mp.Op("a", -1, 8), "id must be 0 or more"),
    (lambda: mp.Op("f", -2), "id must be -1 \\(free\\(NULL\\)\\) or more"),
    (lambda: mp.Op("f", 0, 8), "a free takes no size"),
    (lambda: mp.Trace([mp.Op("x", 0, 1)]), "unknown operation 'x'"),
    (lambda: mp.Trace([("a", 0, 8)]), r"Trace\(ops\): op 0 is \('a', 0, 8\), not an Op"),
    (lambda: mp.Trace("a 0 8"), "ops must be a list of Op, got str"),
    (lambda: mp.Trace(5), "ops must be a list of Op, got int"),
    (lambda: mp.Trace([mp.Op("f", 0)]), r"op 0 \(f 0\): id 0 is not allocated"),
    (lambda: mp.Trace([mp.Op("a", 0, 8), mp.Op("a", 0, 8)]), "id 0 is already allocated"),
    (lambda: mp.Trace([], heap_size=-1), "heap_size must not be negative"),
    (lambda: mp.Trace([], weight="1"), "weight must be a whole number"),
    (lambda: mp.Trace([mp.Op("a", 0, 8)._replace(kind="x")]), "op 0 is .*, not an Op"),
    (lambda: mp.Trace.random(1, sizes=(0, 8)), r"1 <= sizes\[0\] <= sizes\[1\]"),
    (lambda: mp.Trace.random(1, ops=-1), "needs ops >= 0"),
    (lambda: mp.Trace.random(1, max_live=0), "max_live >= 1"),
    (lambda: mp.Trace.random(1, ops=2.5), "ops must be a whole number"),
    (lambda: mp.Trace.parse(b"a 0 8"), "text must be a str, got bytes"),
    (lambda: mp.Trace.parse(None), "text must be a str, got NoneType"),
    (lambda: mp.Trace.parse("a 0 \u00b2"), "line 1: SIZE '\u00b2' is not a whole number"),
    (lambda: mp.Trace.from_ostep(3), "text must be a str, got int"),
    (lambda: mp.Trace.from_ostep("+1,x"), "item 2: 'x' is not"),
    (lambda: mp.replay("a 0 8", mp.Malloc()), "needs a Trace as trace, got str"),
    (lambda: mp.replay(mp.Trace([]), "heap"), "pool must be a mempools pool"),
    (lambda: mp.replay(mp.Trace([]), mp.Malloc(), on_step=3), "on_step must be a function"),
    (lambda: mp.replay(mp.Trace([]), mp.Malloc(), check="yes"), "check must be True or False"),
    (lambda: mp.replay(mp.Trace([]), mp.Malloc(), verify_all=1), "verify_all must be True"),
    (lambda: mp.replay(mp.Trace([]), mp.Malloc(), check_every=0), "check_every must be at"),
    (lambda: mp.replay(mp.Trace([]), mp.Malloc(), check_every=2.0), "check_every must be a"),
    (lambda: mp.Replay(mp.Trace([]), mp.Malloc(), check_every=-1), "check_every must be at"),
])
def test_bad_input_raises_trace_error(make, match):
    with pytest.raises(mp.TraceError, match=match) as caught:
        make()
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, mp.PoolError)


def test_replay_on_a_closed_pool_is_use_after_close():
    heap = mp.Malloc()
    heap.close()
    with pytest.raises(mp.UseAfterClose):
        mp.replay(mp.Trace.parse("+8"), heap)


def test_bad_replay_arguments_leave_the_pool_unchanged():
    with mp.Malloc() as heap:
        keep = heap.malloc(24)
        keep.write(b"x" * 24)
        before = (heap.walk(), dict(heap.stats))
        with pytest.raises(mp.TraceError):
            mp.replay(mp.Trace.parse("+8"), heap, check_every=0)
        assert (heap.walk(), dict(heap.stats)) == before and keep.read() == b"x" * 24


# -- the same dialects through the memory map and the bench command --------------------------
def test_memory_map_steps_through_a_dialect_trace():
    t = mp.Trace.parse(REALLOC_NULL)
    heap = mp.Malloc()
    m = mp.viz.MemoryMap(heap, t)
    assert [f.op for f in m.frames] == ["", "r 0 16", "a 1 364", "r 0 32", "f 1"]
    assert m.frames[1].caption.startswith("step 1: realloc id 0 to 16 bytes")
    assert m.result.errors == [] and [(b.label, b.size) for b in heap.live] == [("id 0", 32)]


def test_memory_map_of_a_long_trace_builds_frames_as_it_steps():
    t = mp.Trace.random(4, mp.viz.MemoryMap.EAGER_OPS + 500, realloc_ratio=0.1)
    heap = mp.Malloc()
    m = mp.viz.MemoryMap(heap, t)
    assert m.result.ops == 0 and heap.stats["mallocs"] == 0  # nothing replayed yet
    assert len(m.frames) == len(t) + 1
    m.step(600)
    assert m.result.ops == 600 and m.caption.value.startswith("step 600: ")
    assert m.frames[600].op == str(t.ops[599])
    payload = {r.owner: r.size for r in m.frames[600].regions if r.kind == "payload"}
    assert payload == {b.label: b.size for b in heap.live}
    assert m.frames[599].regions and not m.frames[10].regions  # passed over in the jump
    assert "passed over" in m.frames[10].caption
    m.step(len(m.frames) - 1)
    assert m.result.ops == len(t) and m.result.errors == [] and heap.live == []


def _bench(*args):
    return subprocess.run([sys.executable, "-m", "mempools", "bench", "--json", "--ops", "100",
                           "--repeats", "1", *args], capture_output=True, text=True, timeout=300)


def test_bench_trace_reads_every_dialect(tmp_path):
    dialect = tmp_path / "dialect.rep"
    dialect.write_text("0\n3\n5\n0\n# every dialect form at once\n\n"
                       "f -1\nr 0 16\na 1 364\nr 0 32\nf 1\nr 0 0\n")
    corrupt = tmp_path / "corrupt.rep"
    corrupt.write_text(CORRUPT)
    run = _bench("--trace", str(dialect), "--trace", str(corrupt), "--lenient")
    assert run.returncode == 0, run.stderr
    assert "header says 5 ops but the trace has 6" in run.stderr
    assert "skipped 1 bad line(s): line 6" in run.stderr
    seen = {w["workload"] for w in json.loads(run.stdout)["workloads"]}
    assert {"trace dialect", "trace corrupt"} <= seen


def test_bench_trace_names_the_bad_line(tmp_path):
    corrupt = tmp_path / "corrupt.rep"
    corrupt.write_text(CORRUPT)
    run = _bench("--trace", str(corrupt))
    assert run.returncode == 2 and "line 6: missing field" in run.stderr and run.stdout == ""


def test_windows_line_ends_and_tabs_read_like_plain_text():
    crlf = COMMENTS_AND_BLANKS.replace("\n", "\r\n").replace("a 1 40", "a\t1\t40")
    assert mp.Trace.parse(crlf).ops == mp.Trace.parse(COMMENTS_AND_BLANKS).ops
