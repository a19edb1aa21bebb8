"""coalesce: a freed block merges with a free right neighbour (its header), a free left
neighbour (its footer, found through the prev-allocated bit) or both; the merged neighbours
leave the explicit list, the merged block goes on it, its footer equals its header."""

import random
from dataclasses import dataclass

from mempools.exercises.catalog.free_list_heap import WORD, HeapUnderTest
from mempools.exercises.tester import Checks, Regions, Tester

LESSON = "05"
TITLE = "Coalescing with both neighbours"
DECLARATIONS = ("void ex_unlink(ex_heap *h, ex_fblock *b);\n"
                "ex_fblock *ex_coalesce(ex_heap *h, ex_fblock *b);")
CHECKS = Checks()

Layout = list[tuple[int, bool]]  # (size, allocated) from offset 0


def _offsets(blocks: Layout) -> list[int]:
    return [sum(size for size, _ in blocks[:i]) for i in range(len(blocks))]


def _describe(blocks: Layout) -> str:
    return " ".join(f"{off}:{'used' if used else 'free'} {size}"
                    for off, (size, used) in zip(_offsets(blocks), blocks))


# -- ex_unlink --------------------------------------------------------------------------------
UNLINK_LAYOUT = [(32, True), (48, False), (32, True), (64, False), (32, True), (32, False),
                 (32, True), (48, False)]
UNLINK_ORDER = [3, 7, 1, 5]  # list order is not address order


@CHECKS("ex_unlink: head, middle, tail and the only block; links agree both ways")
def _unlink(t: Tester) -> None:
    offsets = _offsets(UNLINK_LAYOUT)
    chain = [offsets[i] for i in UNLINK_ORDER]
    for where, k in (("the head", 0), ("a middle block", 2), ("the tail", 3)):
        _unlink_case(t, UNLINK_LAYOUT, UNLINK_ORDER, chain[k], where,
                     chain[:k] + chain[k + 1:])
    _unlink_case(t, [(32, True), (64, False), (32, True)], [1], 32, "the only block", [])


def _unlink_case(t: Tester, blocks: Layout, order: list[int], off: int, where: str,
                 want: list[int]) -> None:
    heap = HeapUnderTest(t, blocks, order)
    before = [_offsets(blocks)[i] for i in order]
    t.op(f"ex_unlink(h, block at offset {off}: {where} of the list {before})")
    t.lib.ex_unlink(heap.heap, t.ffi.cast("ex_fblock *", heap.ptr(off)))
    k = before.index(off)
    if k == 0 and heap.offset_of(heap.heap.free_head) == off:
        t.fail("unlinked", f"the block at offset {off} ({where}) is still the list head: "
               "free_head must move to its next", heap.regions())
    if k > 0 and heap.offset_of(heap.block(before[k - 1]).next) == off:
        t.fail("unlinked", f"the block at offset {off} ({where}) is still on the list: the "
               f"block before it (offset {before[k - 1]}) still points to it; its next must "
               "become the unlinked block's next", heap.regions())
    got = heap.free_list(set(_offsets(blocks)))
    if isinstance(got, str):
        t.fail("list links", f"after unlinking {where}: {got}", heap.regions())
    if off in got:
        t.fail("unlinked", f"the block at offset {off} ({where}) is still on the list {got}",
               heap.regions())
    if got != want:
        t.fail("list links", f"after unlinking {where} the list is {got}, expected {want}",
               heap.regions())


# -- ex_coalesce ------------------------------------------------------------------------------
@dataclass
class Expected:
    """What freeing block `index` of a layout must give."""

    blocks: Layout
    order: list[int]  # offsets, head first
    start: int  # the merged block's offset
    size: int
    prev_allocated: bool
    left: tuple[int, int] | None  # (offset, size) of a free left neighbour
    right: tuple[int, int] | None


def _expected(blocks: Layout, order: list[int], index: int) -> Expected:
    offsets = _offsets(blocks)
    chain = [offsets[i] for i in order]
    start, size = offsets[index], blocks[index][0]
    first, last = index, index
    left = right = None
    if index + 1 < len(blocks) and not blocks[index + 1][1]:
        right = (offsets[index + 1], blocks[index + 1][0])
        size += right[1]
        last += 1
    if index > 0 and not blocks[index - 1][1]:
        left = (offsets[index - 1], blocks[index - 1][0])
        start, size = left[0], size + left[1]
        first -= 1
    after = blocks[:first] + [(size, False)] + blocks[last + 1:]
    gone = {n[0] for n in (left, right) if n}
    prev_allocated = first == 0 or blocks[first - 1][1]
    return Expected(after, [start] + [o for o in chain if o not in gone], start, size,
                    prev_allocated, left, right)


def _free_block(heap: HeapUnderTest, blocks: Layout, index: int) -> int:
    """Do what free() does before it coalesces: mark the block free (header and footer) and
    clear the next block's prev-allocated bit (in its footer too when it is free)."""
    off = _offsets(blocks)[index]
    prev_allocated = index == 0 or blocks[index - 1][1]
    heap.write_header(off, blocks[index][0], False, prev_allocated)
    nxt = off + blocks[index][0]
    if index + 1 < len(blocks):
        heap.write_header(nxt, blocks[index + 1][0], blocks[index + 1][1], False)
    else:
        heap.put(nxt, int(heap.lib.EX_ALLOC))
    return off


def _coalesce_case(t: Tester, blocks: Layout, order: list[int], index: int, what: str) -> None:
    heap = HeapUnderTest(t, blocks, order)
    off = _free_block(heap, blocks, index)
    want = _expected(blocks, order, index)
    t.op(f"ex_coalesce(h, block at offset {off}) on [{_describe(blocks)}], "
         f"list {[_offsets(blocks)[i] for i in order]} ({what})")
    got = heap.offset_of(t.lib.ex_coalesce(heap.heap, t.ffi.cast("ex_fblock *", heap.ptr(off))))
    _verify(t, heap, want, off, got, what)


def _verify(t: Tester, heap: HeapUnderTest, want: Expected, freed: int, got: int | None,
            what: str) -> None:
    picture = heap.regions()
    if got != want.start:
        said = "NULL" if got is None else "a pointer outside the heap" if got < 0 else \
            f"the block at offset {got}"
        why = ""
        if got == freed and want.left:
            why = (f": the left neighbour at offset {want.left[0]} is free (the freed block's "
                   "EX_PREV_ALLOC bit is clear, and the word before its header is that "
                   "neighbour's footer), so the merged block starts there")
        t.fail("merged block returned", f"{what}: returned {said}, expected the merged block "
               f"at offset {want.start}{why}", picture)
    header = heap.get(want.start)
    size = header & ~heap.flags
    if header & heap.lib.EX_ALLOC:
        t.fail("header", f"{what}: the merged block's header still says allocated", picture)
    if size != want.size:
        t.fail("both neighbours merged", f"{what}: the merged block is {size} bytes, expected "
               f"{want.size}{_missing(want, size)}", picture)
    if bool(header & heap.lib.EX_PREV_ALLOC) != want.prev_allocated:
        t.fail("header", f"{what}: the merged header's EX_PREV_ALLOC bit is "
               f"{int(bool(header & heap.lib.EX_PREV_ALLOC))}; it must keep the leftmost part's "
               f"bit ({int(want.prev_allocated)})", picture)
    footer_at = want.start + size - WORD
    # the next header is allocated (or the epilogue): it can equal a free header only if the
    # footer was written over it
    if heap.get(footer_at) != header or heap.get(footer_at + WORD) == header:
        t.fail("footer equals header", f"{what}: {_footer_message(heap, footer_at, header)}",
               picture)
    _verify_heap(t, heap, want, what, picture)


def _missing(want: Expected, size: int) -> str:
    for side, neighbour in (("right", want.right), ("left", want.left)):
        if neighbour and size == want.size - neighbour[1]:
            how = ("its header, at b + size, says it is free" if side == "right" else
                   "the freed block's EX_PREV_ALLOC bit is clear; the footer before its header "
                   "gives the neighbour's size")
            return f": it left out the free {side} neighbour at offset {neighbour[0]} ({how})"
    if want.left and want.right and size == want.size - want.left[1] - want.right[1]:
        return ": neither free neighbour was merged"
    return ""


def _footer_message(heap: HeapUnderTest, footer_at: int, header: int) -> str:
    if heap.get(footer_at + WORD) == header:
        return (f"the footer was written one word too far, at offset {footer_at + WORD} (over "
                f"the next block's header); it is the block's last word, at offset {footer_at}")
    if heap.get(footer_at - WORD) == header:
        return (f"the footer was written one word too early, at offset {footer_at - WORD}; it "
                f"is the block's last word, at offset {footer_at}")
    return (f"the footer at offset {footer_at} is {heap.get(footer_at):#x} but the header is "
            f"{header:#x}: they must be equal")


def _verify_heap(t: Tester, heap: HeapUnderTest, want: Expected, what: str, picture: Regions) -> None:
    walked = heap.walk()
    if isinstance(walked, str):
        t.fail("heap walk", f"{what}: {walked}", picture)
    expected = [(off, size, used, prev_used)
                for off, (size, used), prev_used in zip(_offsets(want.blocks), want.blocks,
                                                        [True] + [u for _, u in want.blocks])]
    for got_block, want_block in zip(walked, expected):
        if got_block != want_block:
            t.fail("heap walk", f"{what}: the block at offset {got_block[0]} is "
                   f"{_block_text(got_block)}, expected {_block_text(want_block)}", picture)
    epilogue = int(heap.lib.EX_ALLOC) | (int(heap.lib.EX_PREV_ALLOC) if want.blocks[-1][1] else 0)
    if heap.get(heap.capacity) != epilogue:
        t.fail("heap walk", f"{what}: the epilogue header (offset {heap.capacity}) changed from "
               f"{epilogue:#x} to {heap.get(heap.capacity):#x}", picture)
    gone = {n[0] for n in (want.left, want.right) if n}
    chain = heap.free_list({off for off, *_ in walked} | gone)
    if isinstance(chain, str):
        t.fail("list links", f"{what}: {chain}", picture)
    stale = [off for off in chain if off != want.start and (off in gone or off not in want.order)]
    if stale:
        t.fail("neighbours unlinked", f"{what}: the list still holds offset {stale[0]}, which is "
               "now inside the merged block: unlink a free neighbour (ex_unlink) when you merge "
               "it", picture)
    if want.start not in chain:
        t.fail("merged block listed", f"{what}: the merged block (offset {want.start}) is not on "
               "the free list: push it with ex_list_push", picture)
    if chain != want.order:
        t.fail("list order", f"{what}: the list is {chain}, expected {want.order} (the merged "
               "block at the head, the others in their order)", picture)
    for off, (size, used) in zip(_offsets(want.blocks), want.blocks):
        if used and bytes(heap.ffi.buffer(heap.ptr(off + WORD), size - WORD)) != \
                heap.token(off, size):
            t.fail("payload intact", f"{what}: the payload of the allocated block at offset "
                   f"{off} changed", picture)


def _block_text(block: tuple[int, int, bool, bool]) -> str:
    _, size, used, prev_used = block
    return (f"{size} bytes, {'allocated' if used else 'free'}, EX_PREV_ALLOC "
            f"{'set' if prev_used else 'clear'}")


COALESCE_CASES = [  # (layout, list order as block indices, block to free, what it tests)
    ([(32, True), (48, True), (64, True), (32, True)], [], 1, "no free neighbour"),
    ([(32, True), (48, False), (32, True), (48, True), (64, False), (32, True)], [4, 1], 3,
     "a free right neighbour"),
    ([(32, True), (64, False), (32, True), (48, True), (32, False)], [1, 4], 3,
     "a free right neighbour, the heap's last block"),
    ([(48, False), (32, True), (32, True), (64, False), (32, True)], [3, 0], 1,
     "a free left neighbour, the first block"),
    ([(32, True), (64, False), (32, True), (48, True), (32, False), (32, True)], [4, 1], 2,
     "a free left neighbour"),
    ([(32, True), (48, False), (32, True), (96, False), (32, True)], [1, 3], 2,
     "free neighbours on both sides"),
    ([(64, False), (48, True), (32, False)], [2, 0], 1, "both sides, from the heap's first "
     "to its last block"),
]


@CHECKS("a free right neighbour is merged (its header says free)")
def _right(t: Tester) -> None:
    for blocks, order, index, what in COALESCE_CASES[:3]:
        _coalesce_case(t, blocks, order, index, what)


@CHECKS("a free left neighbour is merged (found by its footer)")
def _left(t: Tester) -> None:
    for blocks, order, index, what in COALESCE_CASES[3:5]:
        _coalesce_case(t, blocks, order, index, what)


@CHECKS("both neighbours are merged into one block")
def _both(t: Tester) -> None:
    for blocks, order, index, what in COALESCE_CASES[5:]:
        _coalesce_case(t, blocks, order, index, what)


def _random_heap(rng: random.Random, count: int) -> tuple[Layout, list[int]]:
    """A coalesced heap of `count` blocks: no two free blocks side by side, the list in a
    random order."""
    blocks: Layout = []
    for _ in range(count):
        free = (not blocks or blocks[-1][1]) and rng.random() < 0.4
        blocks.append((rng.choice((32, 48, 64, 96)), not free))
    order = [i for i, (_, used) in enumerate(blocks) if not used]
    rng.shuffle(order)
    return blocks, order


@CHECKS("freeing every block of random heaps, in random orders (smallest failing heap shown)")
def _churn(t: Tester) -> None:
    for seed in range(12):  # heaps of 3, 3, 4, 4, ... 8 blocks: the first failure is a small one
        t.ops.clear()
        rng = random.Random(seed)
        blocks, order = _random_heap(rng, 3 + seed // 2)
        while any(used for _, used in blocks):
            index = rng.choice([i for i, (_, used) in enumerate(blocks) if used])
            _coalesce_case(t, blocks, order, index, f"random heap {seed}")
            want = _expected(blocks, order, index)
            offsets = _offsets(want.blocks)
            blocks, order = want.blocks, [offsets.index(off) for off in want.order]
