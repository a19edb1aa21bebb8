"""best-fit: the smallest free block on the explicit list that holds the request, an exact fit
included, the first in list order on a tie, NULL when none fits; the heap is only read."""

from mempools.exercises.catalog.free_list_heap import HeapUnderTest
from mempools.exercises.tester import Checks, Tester

LESSON = "05"
TITLE = "Best fit over an explicit list"
DECLARATIONS = "ex_fblock *ex_best_fit(const ex_heap *h, size_t size);"
CHECKS = Checks()

# One heap for most cases: free blocks of 96, 48, 64, 32 and 48 bytes (offsets 32, 160, 240,
# 336, 400), listed in an order that is neither address order nor sorted by size.
HEAP = [(32, True), (96, False), (32, True), (48, False), (32, True), (64, False), (32, True),
        (32, False), (32, True), (48, False), (32, True)]
ORDER = [1, 5, 3, 7, 9]  # sizes 96, 64, 48, 32, 48 in list order
# Free blocks of 144, 112, 80, 128 and 64 bytes; and two blocks of 80 and one of 96.
HEAP2 = [(32, True), (144, False), (32, True), (112, False), (32, True), (80, False), (32, True),
         (128, False), (32, True), (64, False), (32, True)]
HEAP3 = [(32, True), (96, False), (32, True), (80, False), (32, True), (80, False), (32, True)]

# (layout, list order, request, expected block index or None, what it tests); requests are
# block sizes, multiples of EX_ALIGN, as malloc rounds them
SMALLEST = [
    (HEAP2, [1, 3, 5, 7, 9], 48, 9, "a request of 48: every block fits, the last on the list "
     "is the smallest"),
    (HEAP, ORDER, 16, 7, "a request of 16: the block of 32 is the smallest"),
    (HEAP2, [5, 1, 9, 3, 7], 96, 3, "a request of 96: blocks of 144, 112 and 128 fit"),
    (HEAP, [7, 9, 3, 5, 1], 80, 1, "a request of 80, the list sorted by size: only the 96 "
     "fits"),
]
EXACT = [
    (HEAP, ORDER, 64, 5, "a request of 64: the block of 64 fits exactly"),
    (HEAP, ORDER, 96, 1, "a request of 96: only the block of 96, exactly"),
    (HEAP, ORDER, 32, 7, "a request of 32: the block of 32 fits exactly"),
]
TIES = [
    (HEAP, ORDER, 48, 3, "a request of 48: two blocks of 48, the one at offset 160 first on "
     "the list"),
    (HEAP, [9, 1, 5, 3, 7], 48, 9, "a request of 48: two blocks of 48, the one at offset 400 "
     "first on the list"),
    (HEAP3, [1, 5, 3], 64, 5, "a request of 64: two blocks of 80 fit best, the one at offset "
     "272 first on the list"),
]
# The first free block's left neighbour is allocated, so its header carries EX_PREV_ALLOC:
# read without masking the flags, its 48 looks like 50, no longer an exact fit for 48, and the
# second block of 48 (its left neighbour is free, so no flag) wins instead.
FLAGS = [
    ([(32, True), (48, False), (48, False), (32, True)], [1, 2], 48, 1,
     "a request of 48: the first block of 48 has EX_PREV_ALLOC set in its header"),
]
NONE_FITS = [
    (HEAP, ORDER, 112, None, "a request of 112: the biggest free block has 96"),
    ([(64, True), (32, True)], [], 32, None, "an empty free list"),
    ([(32, True), (32, False), (32, True)], [1], 48, None, "one free block of 32, a request "
     "of 48"),
]


def _best(chain: list[int], sizes: dict[int, int], size: int, strict: bool = False
          ) -> int | None:
    """Best fit over `chain` (offsets in list order) as the lesson defines it, or with `>` in
    place of `>=` when `strict`: one of the mistakes a result is compared with."""
    fits = [off for off in chain if sizes[off] > size or (sizes[off] == size and not strict)]
    return min(fits, key=lambda off: sizes[off]) if fits else None  # min keeps the first


MISTAKES = {
    "first": "that is first fit: keep searching for a smaller block that still fits",
    "strict": "a block of exactly the requested size fits: compare with >=, not >",
    "flags": "read a block's size as header & ~EX_FLAGS: the low bits are flags, and "
             "EX_PREV_ALLOC makes a block look 2 bytes bigger",
}


def _case(t: Tester, blocks: list[tuple[int, bool]], order: list[int], size: int,
          want_index: int | None, what: str) -> None:
    heap = HeapUnderTest(t, blocks, order)
    offsets = heap.offsets
    chain = [offsets[i] for i in order]
    sizes = {offsets[i]: blocks[i][0] for i in order}
    before = heap.snapshot()
    listed = [f"{off}:{sizes[off]}" for off in chain]
    t.op(f"ex_best_fit(h, {size}) with the list [{', '.join(listed)}] (offset:size)")
    got = heap.offset_of(t.lib.ex_best_fit(heap.heap, size))
    want = None if want_index is None else offsets[want_index]
    picture = heap.regions(chosen=got)
    if heap.snapshot() != before:
        t.fail("only reads the heap", f"{what}: ex_best_fit changed the heap's bytes (a search "
               "must not write headers, footers or links)", picture)
    if got == want:
        return
    flagged = {off: heap.get(off) for off in chain}  # a free header: size and flags
    first = next((off for off in chain if sizes[off] >= size), None)
    explained = [MISTAKES[k] for k, result in (("first", first),
                                               ("strict", _best(chain, sizes, size, True)),
                                               ("flags", _best(chain, flagged, size)))
                 if result == got]
    hint = f" ({'; or '.join(explained)})" if explained else ""
    if got is None:
        t.fail("finds a block", f"{what}: returned NULL, expected the block at offset {want}"
               f"{hint}", picture)
    if got < 0 or got not in sizes:
        where = "outside the heap" if got < 0 else f"offset {got}"
        t.fail("a block on the list", f"{what}: returned {where}, which is not a free block on "
               "the list", picture)
    if want is None:
        t.fail("NULL when nothing fits", f"{what}: returned the block at offset {got} "
               f"({sizes[got]} bytes), too small for {size}: return NULL", picture)
    if sizes[got] < size:
        t.fail("fits the request", f"{what}: returned the block at offset {got} of {sizes[got]} "
               f"bytes, too small for {size}{hint}", picture)
    if sizes[got] == sizes[want] and not explained:
        t.fail("ties go to the first on the list", f"{what}: returned the block at offset {got};"
               f" the block at offset {want} has the same size and comes first on the list "
               "(keep the first best, replace it only by a strictly smaller one)", picture)
    t.fail("smallest block that fits", f"{what}: returned the block at offset {got} "
           f"({sizes[got]} bytes), expected the one at offset {want} ({sizes[want]} bytes)"
           f"{hint}", picture)


@CHECKS("picks the smallest block that fits, not the first")
def _smallest(t: Tester) -> None:
    for case in SMALLEST:
        _case(t, *case)


@CHECKS("a block of exactly the requested size fits, and wins")
def _exact(t: Tester) -> None:
    for case in EXACT + FLAGS:
        _case(t, *case)


@CHECKS("a tie goes to the first block on the list")
def _ties(t: Tester) -> None:
    for case in TIES:
        _case(t, *case)


@CHECKS("NULL when nothing fits, or the list is empty")
def _none(t: Tester) -> None:
    for case in NONE_FITS:
        _case(t, *case)
