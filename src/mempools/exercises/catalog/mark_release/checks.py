"""mark-release: a mark is an offset; releasing to it frees everything allocated after it."""


from mempools.exercises.tester import Checks, Tester, spans_map

LESSON = "02"
TITLE = "Mark and release"
DECLARATIONS = ("size_t ex_bump_mark(const ex_bump *b);\n"
                "void ex_bump_release(ex_bump *b, size_t mark);")
CHECKS = Checks()



def _new_bump(t: Tester, capacity: int) -> tuple[object, object]:
    raw = t.ffi.new("unsigned char[]", capacity)
    return raw, t.ffi.new("ex_bump *", (raw, capacity, 0))


@CHECKS("release frees everything after the mark")
def _mark_release(t: Tester) -> None:
    raw, b = _new_bump(t, 256)
    t.op("ex_ref_bump_alloc(b, 40)")
    t.lib.ex_ref_bump_alloc(b, 40)
    t.op("m = ex_bump_mark(b)")
    m = t.lib.ex_bump_mark(b)
    t.op("ex_ref_bump_alloc(b, 100) twice")
    first = t.lib.ex_ref_bump_alloc(b, 100)
    t.lib.ex_ref_bump_alloc(b, 100)
    t.op("ex_bump_release(b, m)")
    t.lib.ex_bump_release(b, m)
    if b.offset != 40:
        t.fail("release", f"after release the offset is {b.offset}, expected 40 (the mark)",
               spans_map([(0, 40, "kept"), (40, b.offset - 40, "not released")], 256))
    t.op("ex_ref_bump_alloc(b, 100)")
    if t.lib.ex_ref_bump_alloc(b, 100) != first:
        t.fail("reuse", "the next allocation after release did not reuse the released bytes")


@CHECKS("nested marks release in order")
def _mark_nested(t: Tester) -> None:
    raw, b = _new_bump(t, 256)
    marks = []
    for size in (16, 32, 48):
        t.op("ex_bump_mark(b)")
        marks.append(t.lib.ex_bump_mark(b))
        t.op(f"ex_ref_bump_alloc(b, {size})")
        t.lib.ex_ref_bump_alloc(b, size)
    for mark, want in zip(reversed(marks), (48, 16, 0)):
        t.op(f"ex_bump_release(b, {mark})")
        t.lib.ex_bump_release(b, mark)
        if b.offset != want:
            t.fail("release", f"released to mark {mark}: offset {b.offset}, expected {want}")


@CHECKS("a mark above the top is ignored")
def _mark_stale(t: Tester) -> None:
    raw, b = _new_bump(t, 256)
    t.lib.ex_ref_bump_alloc(b, 64)
    t.op("late = ex_bump_mark(b) after 64 bytes")
    late = t.lib.ex_bump_mark(b)
    t.op("ex_bump_release(b, 0)")
    t.lib.ex_bump_release(b, 0)
    t.op("ex_bump_release(b, late)  /* already released past */")
    t.lib.ex_bump_release(b, late)
    if b.offset != 0:
        t.fail("stale mark", f"releasing to a mark above the top moved the offset up to {b.offset}")
