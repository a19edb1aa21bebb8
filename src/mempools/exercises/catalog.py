"""The exercises: for each, the C declarations a student implements, the worked solution (with
nbgrader solution markers) and the checks, which run in a child process (see runner.py)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from mempools.constants import SIZE_MAX
from mempools.exercises.tester import Tester

Regions = list[tuple[int, int, str, "str | None"]]


@dataclass
class Check:
    """One property, worth one point."""

    name: str
    run: Callable[[Tester], None]


@dataclass
class Exercise:
    name: str
    lesson: str
    title: str
    cdef: str  # the functions the student writes
    solution: str  # C, with /* ### BEGIN SOLUTION */ ... /* ### END SOLUTION */
    checks: list[Check] = field(default_factory=list)

    @property
    def points(self) -> int:
        return len(self.checks)


CATALOG: dict[str, Exercise] = {}


def exercise(name: str, lesson: str, title: str, cdef: str, solution: str) -> Exercise:
    ex = Exercise(name, lesson, title, cdef, solution.strip("\n") + "\n")
    CATALOG[name] = ex
    return ex


def check(ex: Exercise, name: str) -> Callable[[Callable[[Tester], None]], Callable[[Tester], None]]:
    def register(fn: Callable[[Tester], None]) -> Callable[[Tester], None]:
        ex.checks.append(Check(name, fn))
        return fn
    return register


def spans_map(spans: list[tuple[int, int, str]], capacity: int) -> Regions:
    """Regions for the memory map: payload spans (offset, size, label), free bytes between."""
    regions: Regions = []
    cursor = 0
    for off, size, label in sorted(spans):
        if off > cursor:
            regions.append((cursor, off - cursor, "free", None))
        regions.append((off, size, "payload", label))
        cursor = max(cursor, off + size)
    if cursor < capacity:
        regions.append((cursor, capacity - cursor, "free", None))
    return regions


# -- 01: overflow-safe array allocation ----------------------------------------------------------
ARRAY = exercise("array-alloc", "01", "An overflow-safe array allocation",
                 "void *ex_array_alloc(size_t n, size_t size);", """
void *ex_array_alloc(size_t n, size_t size)
{
    void *block = NULL;
    /* ### BEGIN SOLUTION */
    if (n == 0 || size == 0 || n > SIZE_MAX / size)
        return NULL;
    block = malloc(n * size);
    /* ### END SOLUTION */
    return block;
}
""")


@check(ARRAY, "returns a usable block")
def _array_usable(t: Tester) -> None:
    t.op("ex_array_alloc(10, 8)")
    p = t.lib.ex_array_alloc(10, 8)
    t.require_implemented()
    if p == t.ffi.NULL:
        t.fail("usable block", "ex_array_alloc(10, 8) returned NULL")
    t.op("write and read back 80 bytes")
    t.ffi.memmove(p, bytes(range(80)), 80)
    if t.ffi.buffer(p, 80)[:] != bytes(range(80)):
        t.fail("payload intact", "the 80 bytes did not read back")
    t.op("free(block)")
    t.lib.free(p)


@check(ARRAY, "refuses a product that overflows size_t")
def _array_overflow(t: Tester) -> None:
    for n, size in [(2**61 + 1, 8), (SIZE_MAX, 2), (2**63, 2), (2**32 + 1, 2**32)]:
        t.op(f"ex_array_alloc({n}, {size})")
        p = t.lib.ex_array_alloc(n, size)
        t.require_implemented()
        if p != t.ffi.NULL:
            t.lib.free(p)
            t.fail("overflow", f"ex_array_alloc({n}, {size}) returned a block, but {n} * {size} "
                   f"does not fit in size_t: it wrapped to {(n * size) % (SIZE_MAX + 1)} bytes")


@check(ARRAY, "does not refuse products that fit")
def _array_fits(t: Tester) -> None:
    for n, size in [(1 << 20, 16), (3, 1), (1, 3), (2**24, 1)]:
        t.op(f"ex_array_alloc({n}, {size})")
        p = t.lib.ex_array_alloc(n, size)
        t.require_implemented()
        if p == t.ffi.NULL:
            t.fail("no false refusal", f"ex_array_alloc({n}, {size}) returned NULL for "
                   f"{n * size} bytes, which fit")
        t.lib.free(p)


# -- 01: find the leak ---------------------------------------------------------------------------
LEAK = exercise("find-leak", "01", "Find the leak", "int ex_word_count(const char *text);", """
/* Counts the words of `text`; returns -1 when it meets the word STOP. */
int ex_word_count(const char *text)
{
    size_t n = strlen(text);
    char *copy = tracked_malloc(n + 1);   /* strtok writes into its string: work on a copy */
    if (!copy)
        return -1;
    memcpy(copy, text, n + 1);
    int words = 0;
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) {
        if (strcmp(w, "STOP") == 0) {
            /* ### BEGIN SOLUTION */
            tracked_free(copy);
            /* ### END SOLUTION */
            return -1;
        }
        words++;
    }
    tracked_free(copy);
    return words;
}
""")


def _count(t: Tester, text: str) -> int:
    t.op(f'ex_word_count("{text}")')
    return int(t.lib.ex_word_count(text.encode()))


@check(LEAK, "counts words")
def _leak_counts(t: Tester) -> None:
    for text, want in [("one two three", 3), ("single", 1), ("", 0)]:
        got = _count(t, text)
        if got != want:
            t.fail("word count", f'ex_word_count("{text}") returned {got}, expected {want}')


@check(LEAK, "no leak on the normal path")
def _leak_normal(t: Tester) -> None:
    t.lib.tracked_reset()
    _count(t, "a b c")
    if t.lib.tracked_live():
        t.fail("no leak", f"{t.lib.tracked_live()} block(s) still live after a normal call")


@check(LEAK, "no leak on the early return")
def _leak_early(t: Tester) -> None:
    t.lib.tracked_reset()
    got = _count(t, "go STOP here")
    t.require_implemented()
    if got != -1:
        t.fail("early return", f'ex_word_count("go STOP here") returned {got}, expected -1')
    if t.lib.tracked_live():
        t.fail("no leak", "the copy is still allocated after returning -1 at STOP: a leak")


# -- 02: aligned bump allocation -----------------------------------------------------------------
BUMP = exercise("aligned-bump", "02", "Aligned bump allocation",
                "void *ex_bump_alloc(ex_bump *b, size_t size, size_t align);", """
void *ex_bump_alloc(ex_bump *b, size_t size, size_t align)
{
    void *piece = NULL;
    /* ### BEGIN SOLUTION */
    if (size == 0 || align == 0 || (align & (align - 1)) != 0)
        return NULL;
    uintptr_t top = (uintptr_t)b->base + b->offset;
    uintptr_t aligned = (top + (align - 1)) & ~(uintptr_t)(align - 1);
    if (aligned < top)
        return NULL;
    size_t pad = (size_t)(aligned - top), room = b->capacity - b->offset;
    if (pad > room || size > room - pad)
        return NULL;
    b->offset += pad + size;
    piece = (void *)aligned;
    /* ### END SOLUTION */
    return piece;
}
""")


class BumpUnderTest:
    """An ex_bump over a buffer aligned to 64, with the pieces it handed out."""

    def __init__(self, t: Tester, capacity: int) -> None:
        self.t, self.capacity = t, capacity
        self.raw = t.ffi.new("unsigned char[]", capacity + 64)
        start = (-t.address(self.raw)) % 64
        self.base = t.address(self.raw) + start
        self.b = t.ffi.new("ex_bump *", (self.raw + start, capacity, 0))
        self.pieces: list[tuple[int, int, str]] = []

    def alloc(self, size: int, align: int) -> int | None:
        self.t.op(f"ex_bump_alloc(b, {size}, {align})")
        p = self.t.lib.ex_bump_alloc(self.b, size, align)
        self.t.require_implemented()
        if p == self.t.ffi.NULL:
            return None
        off = self.t.address(p) - self.base
        self.pieces.append((off, size, f"#{len(self.pieces)}"))
        return off

    def regions(self) -> Regions:
        return spans_map(self.pieces, self.capacity)


def _bump_sequence(t: Tester, length: int, seed: int) -> None:
    rng = random.Random(seed)
    bump = BumpUnderTest(t, 256)
    for _ in range(length):
        size, align = rng.randint(1, 40), rng.choice([1, 2, 4, 8, 16, 32, 64])
        off = bump.alloc(size, align)
        if off is None:
            continue
        if off % align:
            t.fail("alignment", f"offset {off} is not a multiple of {align}", bump.regions())
        if off < 0 or off + size > bump.capacity:
            t.fail("in bounds", f"piece [{off}, {off + size}) is outside the 256-byte pool",
                   bump.regions())
        for other_off, other_size, label in bump.pieces[:-1]:
            if off < other_off + other_size and other_off < off + size:
                t.fail("no overlap", f"piece [{off}, {off + size}) overlaps {label} at "
                       f"[{other_off}, {other_off + other_size})", bump.regions())


@check(BUMP, "aligned, in bounds, no overlap (shortest failing sequence)")
def _bump_properties(t: Tester) -> None:
    for length in range(1, 13):  # shortest first, so the failure shown is the shortest found
        for seed in range(8):
            t.ops.clear()
            _bump_sequence(t, length, seed)


@check(BUMP, "the last byte is usable, one more is refused")
def _bump_exact(t: Tester) -> None:
    bump = BumpUnderTest(t, 64)
    if bump.alloc(64, 1) != 0:
        t.fail("exact fit", "a 64-byte request did not fit a 64-byte pool", bump.regions())
    if bump.alloc(1, 1) is not None:
        t.fail("exhaustion", "a full pool handed out another byte", bump.regions())


@check(BUMP, "refuses bad alignments and sizes near SIZE_MAX")
def _bump_refusals(t: Tester) -> None:
    bump = BumpUnderTest(t, 128)
    bump.alloc(1, 1)
    for size, align, why in [(8, 0, "alignment 0"), (8, 3, "alignment 3"), (8, 24, "alignment 24"),
                             (0, 8, "size 0"), (SIZE_MAX, 1, "size SIZE_MAX"),
                             (SIZE_MAX - 2, 8, "a size whose padding wraps around")]:
        before = bump.b.offset
        if bump.alloc(size, align) is not None:
            t.fail("refusal", f"{why} was accepted", bump.regions())
        if bump.b.offset != before:
            t.fail("unchanged after refusal", f"{why} moved the offset from {before} to "
                   f"{bump.b.offset}", bump.regions())


# -- 02: mark and release ------------------------------------------------------------------------
MARK = exercise("mark-release", "02", "Mark and release",
                "size_t ex_bump_mark(const ex_bump *b);\n"
                "void ex_bump_release(ex_bump *b, size_t mark);", """
size_t ex_bump_mark(const ex_bump *b)
{
    size_t mark = 0;
    /* ### BEGIN SOLUTION */
    mark = b->offset;
    /* ### END SOLUTION */
    return mark;
}

void ex_bump_release(ex_bump *b, size_t mark)
{
    /* ### BEGIN SOLUTION */
    if (mark <= b->offset)   /* a mark above the top was released past already: ignore it */
        b->offset = mark;
    /* ### END SOLUTION */
}
""")


def _new_bump(t: Tester, capacity: int) -> tuple[object, object]:
    raw = t.ffi.new("unsigned char[]", capacity)
    return raw, t.ffi.new("ex_bump *", (raw, capacity, 0))


@check(MARK, "release frees everything after the mark")
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
    t.require_implemented()
    if b.offset != 40:
        t.fail("release", f"after release the offset is {b.offset}, expected 40 (the mark)",
               spans_map([(0, 40, "kept"), (40, b.offset - 40, "not released")], 256))
    t.op("ex_ref_bump_alloc(b, 100)")
    if t.lib.ex_ref_bump_alloc(b, 100) != first:
        t.fail("reuse", "the next allocation after release did not reuse the released bytes")


@check(MARK, "nested marks release in order")
def _mark_nested(t: Tester) -> None:
    raw, b = _new_bump(t, 256)
    marks = []
    for size in (16, 32, 48):
        t.op("ex_bump_mark(b)")
        marks.append(t.lib.ex_bump_mark(b))
        t.op(f"ex_ref_bump_alloc(b, {size})")
        t.lib.ex_ref_bump_alloc(b, size)
    t.require_implemented()
    for mark, want in zip(reversed(marks), (48, 16, 0)):
        t.op(f"ex_bump_release(b, {mark})")
        t.lib.ex_bump_release(b, mark)
        if b.offset != want:
            t.fail("release", f"released to mark {mark}: offset {b.offset}, expected {want}")


@check(MARK, "a mark above the top is ignored")
def _mark_stale(t: Tester) -> None:
    raw, b = _new_bump(t, 256)
    t.lib.ex_ref_bump_alloc(b, 64)
    t.op("late = ex_bump_mark(b) after 64 bytes")
    late = t.lib.ex_bump_mark(b)
    t.require_implemented()
    t.op("ex_bump_release(b, 0)")
    t.lib.ex_bump_release(b, 0)
    t.op("ex_bump_release(b, late)  /* already released past */")
    t.lib.ex_bump_release(b, late)
    if b.offset != 0:
        t.fail("stale mark", f"releasing to a mark above the top moved the offset up to {b.offset}")


# -- 03: the fixed pool's alloc and free ---------------------------------------------------------
FIXED = exercise("fixed-alloc-free", "03", "The fixed pool's alloc and free (lazy init)",
                 "void *ex_fixed_alloc(ex_fixed *p);\nvoid ex_fixed_free(ex_fixed *p, void *block);",
                 """
void *ex_fixed_alloc(ex_fixed *p)
{
    void *block = NULL;
    /* ### BEGIN SOLUTION */
    if (p->free_head) {
        block = p->free_head;
        p->free_head = p->free_head->next;
    } else if (p->high_water < p->count) {
        block = p->blocks + p->high_water * p->stride;   /* lazy init: never touched before */
        p->high_water++;
    }
    /* ### END SOLUTION */
    return block;
}

void ex_fixed_free(ex_fixed *p, void *block)
{
    /* ### BEGIN SOLUTION */
    ex_free_block *b = block;
    b->next = p->free_head;
    p->free_head = b;
    /* ### END SOLUTION */
}
""")


class FixedUnderTest:
    def __init__(self, t: Tester, stride: int = 16, count: int = 8) -> None:
        self.t, self.stride, self.count = t, stride, count
        self.raw = t.ffi.new("unsigned char[]", stride * count + 16)
        start = (-t.address(self.raw)) % 16
        self.base = t.address(self.raw) + start
        self.in_use = t.ffi.new("unsigned char[]", count)
        self.p = t.ffi.new("ex_fixed *", (self.raw + start, stride, count, 0, t.ffi.NULL,
                                          self.in_use))
        self.live: dict[int, str] = {}

    def regions(self) -> Regions:
        spans = [(off, self.stride, label) for off, label in self.live.items()]
        return spans_map(spans, self.stride * self.count)

    def alloc(self, label: str, fn: str = "ex_fixed_alloc") -> int | None:
        self.t.op(f"{label} = {fn}(p)")
        ptr = getattr(self.t.lib, fn)(self.p)
        self.t.require_implemented()
        if ptr == self.t.ffi.NULL:
            return None
        off = self.t.address(ptr) - self.base
        if off % self.stride or not 0 <= off < self.stride * self.count:
            self.t.fail("block boundary", f"{label} at offset {off} is not a block of the pool",
                        self.regions())
        if off in self.live:
            self.t.fail("no overlap", f"{label} is block {off // self.stride}, which "
                        f"{self.live[off]} still holds", self.regions())
        self.live[off] = label
        self.t.ffi.memmove(self.base_ptr(off), label.encode().ljust(self.stride, b"."), self.stride)
        return off

    def base_ptr(self, off: int) -> object:
        return self.t.ffi.cast("unsigned char *", self.base + off)

    def free(self, off: int, fn: str = "ex_fixed_free") -> int | None:
        label = self.live.pop(off)
        self.t.op(f"{fn}(p, {label})")
        return getattr(self.t.lib, fn)(self.p, self.base_ptr(off))

    def intact(self) -> None:
        for off, label in self.live.items():
            if self.t.ffi.buffer(self.base_ptr(off), self.stride)[:] != label.encode().ljust(
                    self.stride, b"."):
                self.t.fail("payload intact", f"{label}'s bytes changed while it was allocated",
                            self.regions())


@check(FIXED, "exactly count blocks, then NULL")
def _fixed_count(t: Tester) -> None:
    pool = FixedUnderTest(t)
    for i in range(8):
        if pool.alloc(f"b{i}") is None:
            t.fail("exhaustion at the right count", f"allocation {i} returned NULL; the pool "
                   "has 8 blocks", pool.regions())
        if pool.p.high_water != i + 1:
            t.fail("lazy init", f"after {i + 1} allocations high_water is {pool.p.high_water}",
                   pool.regions())
    if pool.alloc("b8") is not None:
        t.fail("exhaustion at the right count", "a 9th block came out of an 8-block pool",
               pool.regions())
    pool.intact()


@check(FIXED, "reuse after free, most recent first")
def _fixed_reuse(t: Tester) -> None:
    pool = FixedUnderTest(t)
    offs = [pool.alloc(f"b{i}") for i in range(4)]
    pool.free(offs[1])
    pool.free(offs[3])
    again = pool.alloc("c0")
    if again != offs[3]:
        t.fail("reuse after free (LIFO)", f"expected the last freed block (offset {offs[3]}), "
               f"got offset {again}", pool.regions())
    if pool.alloc("c1") != offs[1]:
        t.fail("reuse after free (LIFO)", "the second allocation did not reuse the other freed "
               "block", pool.regions())
    pool.intact()


@check(FIXED, "random churn keeps every payload intact (shortest failing sequence)")
def _fixed_churn(t: Tester) -> None:
    for length in range(1, 30, 3):
        t.ops.clear()
        rng = random.Random(length)
        pool = FixedUnderTest(t)
        for step in range(length):
            if pool.live and (len(pool.live) == 8 or rng.random() < 0.4):
                pool.free(rng.choice(sorted(pool.live)))
            else:
                pool.alloc(f"s{step}")
            pool.intact()


# -- 03: double-free detection -------------------------------------------------------------------
DOUBLE = exercise("double-free", "03", "Double-free and foreign-pointer detection",
                  "int ex_fixed_free_checked(ex_fixed *p, void *block);", """
enum { FREE_OK = 0, FREE_FOREIGN = 1, FREE_DOUBLE = 2 };

int ex_fixed_free_checked(ex_fixed *p, void *block)
{
    int result = FREE_OK;
    /* ### BEGIN SOLUTION */
    uintptr_t a = (uintptr_t)block, base = (uintptr_t)p->blocks;
    if (a < base || a - base >= p->high_water * p->stride || (a - base) % p->stride != 0)
        return FREE_FOREIGN;
    size_t i = (a - base) / p->stride;
    if (!p->in_use[i])
        return FREE_DOUBLE;
    p->in_use[i] = 0;
    ex_free_block *b = block;
    b->next = p->free_head;
    p->free_head = b;
    /* ### END SOLUTION */
    return result;
}
""")


@check(DOUBLE, "a good free succeeds and the block is reused")
def _double_ok(t: Tester) -> None:
    pool = FixedUnderTest(t)
    a = pool.alloc("a", "ex_ref_fixed_alloc")
    got = pool.free(a, "ex_fixed_free_checked")
    t.require_implemented()
    if got != 0:
        t.fail("good free", f"freeing a live block returned {got}, expected 0", pool.regions())
    if pool.alloc("b", "ex_ref_fixed_alloc") != a:
        t.fail("reuse after free", "the freed block was not on the free list", pool.regions())


@check(DOUBLE, "a double free is refused and changes nothing")
def _double_double(t: Tester) -> None:
    pool = FixedUnderTest(t)
    a = pool.alloc("a", "ex_ref_fixed_alloc")
    pool.free(a, "ex_fixed_free_checked")
    t.require_implemented()
    t.op("ex_fixed_free_checked(p, a)  /* again */")
    got = t.lib.ex_fixed_free_checked(pool.p, pool.base_ptr(a))
    if got != 2:
        t.fail("double free detected", f"the second free returned {got}, expected 2", pool.regions())
    first, second = pool.alloc("b", "ex_ref_fixed_alloc"), pool.alloc("c", "ex_ref_fixed_alloc")
    if first == second:
        t.fail("double free detected", "two allocations got the same block", pool.regions())


@check(DOUBLE, "foreign, interior and never-allocated pointers are refused")
def _double_foreign(t: Tester) -> None:
    pool = FixedUnderTest(t)
    a = pool.alloc("a", "ex_ref_fixed_alloc")
    outside = t.ffi.new("unsigned char[]", 16)
    for what, ptr in [("an interior pointer", pool.base_ptr(a + 4)),
                      ("a pointer outside the pool", outside),
                      ("a block never handed out", pool.base_ptr(5 * pool.stride))]:
        t.op(f"ex_fixed_free_checked(p, {what})")
        got = t.lib.ex_fixed_free_checked(pool.p, ptr)
        t.require_implemented()
        if got != 1:
            t.fail("foreign pointer detected", f"{what} returned {got}, expected 1", pool.regions())


# -- 04: first fit with a gap check --------------------------------------------------------------
FIRST_FIT = exercise("first-fit", "04", "First fit that checks the gap",
                     "long ex_first_fit(const ex_block *blocks, size_t n, size_t capacity, size_t size);",
                     """
long ex_first_fit(const ex_block *blocks, size_t n, size_t capacity, size_t size)
{
    long found = -1;
    /* ### BEGIN SOLUTION */
    size_t cursor = 0;
    for (size_t i = 0; i < n; i++) {
        if (blocks[i].offset - cursor >= size)
            return (long)cursor;
        cursor = blocks[i].offset + blocks[i].size;
    }
    if (capacity - cursor >= size)
        found = (long)cursor;
    /* ### END SOLUTION */
    return found;
}
""")

FIRST_FIT_CASES = [  # (blocks as (offset, size), capacity, request, expected, what it tests)
    ([], 64, 16, 0, "an empty pool"),
    ([(16, 16)], 64, 16, 0, "a gap before the first block"),
    ([(0, 16), (24, 8), (48, 16)], 64, 16, 32, "skipping a gap that is too small"),
    ([(0, 16), (32, 16)], 64, 16, 16, "a gap of exactly the size"),
    ([(0, 16), (16, 16)], 64, 32, 32, "the tail"),
    ([(0, 16), (24, 16), (48, 16)], 64, 9, -1, "no gap big enough"),
    ([(0, 10), (20, 10), (40, 24)], 64, 12, -1, "10, free, 10, free: the classic 20 after 10"),
]


def _fit_case(t: Tester, blocks: list[tuple[int, int]], capacity: int, size: int) -> int:
    table = t.ffi.new("ex_block[]", [(o, s, 0) for o, s in blocks] or [(0, 0, 0)])
    t.op(f"ex_first_fit({blocks}, capacity {capacity}, size {size})")
    return int(t.lib.ex_first_fit(table, len(blocks), capacity, size))


def _fit_map(blocks: list[tuple[int, int]], capacity: int, got: int, size: int) -> Regions:
    spans = [(o, s, f"#{i}") for i, (o, s) in enumerate(blocks)]
    if got >= 0:
        spans.append((got, size, "new"))
    return spans_map(spans, capacity)


@check(FIRST_FIT, "finds the lowest gap that fits")
def _fit_lowest(t: Tester) -> None:
    for blocks, capacity, size, want, what in FIRST_FIT_CASES[:4]:
        got = _fit_case(t, blocks, capacity, size)
        t.require_implemented()
        if got != want:
            t.fail("first fit", f"{what}: got offset {got}, expected {want}",
                   _fit_map(blocks, capacity, got, size))


@check(FIRST_FIT, "never overlaps a live block")
def _fit_overlap(t: Tester) -> None:
    for blocks, capacity, size, want, what in FIRST_FIT_CASES:
        got = _fit_case(t, blocks, capacity, size)
        t.require_implemented()
        if got >= 0 and any(got < o + s and o < got + size for o, s in blocks):
            t.fail("no overlap", f"{what}: the new block at {got} overlaps a live block",
                   _fit_map(blocks, capacity, got, size))
        if got != want:
            t.fail("first fit", f"{what}: got {got}, expected {want}",
                   _fit_map(blocks, capacity, got, size))


# -- 04: compaction ------------------------------------------------------------------------------
COMPACT = exercise("compaction", "04", "Compaction around locked blocks",
                   "size_t ex_compact(unsigned char *memory, ex_block *blocks, size_t n);", """
size_t ex_compact(unsigned char *memory, ex_block *blocks, size_t n)
{
    size_t moved = 0;
    /* ### BEGIN SOLUTION */
    size_t cursor = 0;
    for (size_t i = 0; i < n; i++) {
        if (!blocks[i].locked && blocks[i].offset > cursor) {
            memmove(memory + cursor, memory + blocks[i].offset, blocks[i].size);
            blocks[i].offset = cursor;
            moved += blocks[i].size;
        }
        cursor = blocks[i].offset + blocks[i].size;
    }
    /* ### END SOLUTION */
    return moved;
}
""")

COMPACT_CASES = [  # (blocks as (offset, size, locked), capacity, offsets after, bytes moved)
    ([(8, 8, 0)], 64, [0], 8),
    ([(0, 8, 0), (16, 8, 0), (40, 16, 0)], 64, [0, 8, 16], 24),
    ([(8, 8, 0), (24, 8, 1), (40, 8, 0)], 64, [0, 24, 32], 16),
    ([(0, 16, 1), (32, 8, 0), (48, 8, 0)], 64, [0, 16, 24], 16),
]


@check(COMPACT, "blocks slide down in order, locked ones stay, data intact")
def _compact_cases(t: Tester) -> None:
    for blocks, capacity, want, moved_want in COMPACT_CASES:
        memory = t.ffi.new("unsigned char[]", capacity)
        for i, (off, size, _) in enumerate(blocks):
            t.ffi.memmove(memory + off, bytes([65 + i]) * size, size)
        table = t.ffi.new("ex_block[]", blocks)
        t.op(f"ex_compact(memory, {blocks})")
        moved = int(t.lib.ex_compact(memory, table, len(blocks)))
        t.require_implemented()
        after = [int(table[i].offset) for i in range(len(blocks))]
        spans = [(after[i], blocks[i][1], chr(65 + i) + ("*" if blocks[i][2] else ""))
                 for i in range(len(blocks))]
        for i, (off, size, locked) in enumerate(blocks):
            if locked and after[i] != off:
                t.fail("locked blocks never move", f"locked block {chr(65 + i)} moved from "
                       f"{off} to {after[i]}", spans_map(spans, capacity))
            if t.ffi.buffer(memory + after[i], size)[:] != bytes([65 + i]) * size:
                t.fail("payload intact", f"block {chr(65 + i)}'s bytes are not at its new "
                       f"offset {after[i]}", spans_map(spans, capacity))
        if after != want:
            t.fail("compacted", f"offsets after compaction {after}, expected {want}",
                   spans_map(spans, capacity))
        if moved != moved_want:
            t.fail("bytes moved counted", f"returned {moved} bytes moved, expected {moved_want}",
                   spans_map(spans, capacity))


@check(COMPACT, "an already compact pool moves nothing")
def _compact_noop(t: Tester) -> None:
    memory = t.ffi.new("unsigned char[]", 64)
    table = t.ffi.new("ex_block[]", [(0, 16, 0), (16, 8, 0)])
    t.op("ex_compact(memory, [(0, 16), (16, 8)])")
    moved = int(t.lib.ex_compact(memory, table, 2))
    t.require_implemented()
    if moved or table[0].offset != 0 or table[1].offset != 16:
        t.fail("no needless moves", f"a compact pool reported {moved} bytes moved")


# -- 05: choosing a pool -------------------------------------------------------------------------
CHOOSE = exercise("choose-pool", "05", "Choose a pool", "int ex_pick_pool(const ex_workload *w);", """
int ex_pick_pool(const ex_workload *w)
{
    int pick = 0;
    /* ### BEGIN SOLUTION */
    if (!w->malloc_available)
        return w->sizes_all_equal ? EX_FIXED : EX_EMBEDDED;
    if (w->freed_all_at_once)
        return EX_BUMP;
    if (w->sizes_all_equal)
        return EX_FIXED;
    pick = w->must_not_fragment ? EX_EMBEDDED : EX_MALLOC;
    /* ### END SOLUTION */
    return pick;
}
""")

CHOOSE_CASES = [  # (sizes_all_equal, freed_all_at_once, malloc_available, must_not_fragment)
    ((0, 1, 1, 0), 2, "a parser's nodes, all freed when the parse ends: a bump pool"),
    ((1, 0, 1, 0), 3, "network packets of one size, freed one by one: a fixed pool"),
    ((0, 0, 0, 1), 4, "mixed sizes on a microcontroller with no heap: the embedded pool"),
    ((1, 0, 0, 1), 3, "equal sizes, no heap: a fixed pool over a static array"),
    ((0, 0, 1, 0), 1, "mixed sizes and lifetimes on a desktop: malloc is fine"),
    ((0, 0, 1, 1), 4, "mixed sizes for months in fixed memory: a compacting pool"),
]


@check(CHOOSE, "picks the pool the lessons' numbers support")
def _choose(t: Tester) -> None:
    names = {1: "malloc", 2: "bump", 3: "fixed", 4: "embedded"}
    for features, want, why in CHOOSE_CASES:
        w = t.ffi.new("ex_workload *", features)
        t.op(f"ex_pick_pool({features})")
        got = int(t.lib.ex_pick_pool(w))
        t.require_implemented()
        if got != want:
            t.fail("right pool for the workload", f"{why}; you picked {names.get(got, got)}")
