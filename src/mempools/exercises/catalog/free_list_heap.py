"""The heap the free-list exercises (coalesce, best-fit) work on: an `ex_heap` built from a
layout in C memory, read back defensively (the student's code may have scribbled on it: every
header, footer and link is bounds-checked before it is followed) and drawn for the report."""

from __future__ import annotations

from typing import Any

from mempools.exercises.tester import Regions, Tester

WORD = 8  # sizeof(size_t) on every platform the course builds on (checked in HeapUnderTest)


class HeapUnderTest:
    """`blocks` as (size, allocated) tile the heap from offset 0; `order` lists the free blocks'
    indices in list order (address order when None). Allocated payloads hold a token per block."""

    def __init__(self, t: Tester, blocks: list[tuple[int, bool]], order: list[int] | None = None
                 ) -> None:
        if t.ffi.sizeof("size_t") != WORD:
            raise RuntimeError("the free-list exercises assume an 8-byte size_t")
        self.t, self.ffi, self.lib = t, t.ffi, t.lib
        self.flags = int(t.lib.EX_FLAGS)
        self.capacity = sum(size for size, _ in blocks)
        self.raw = t.ffi.new("unsigned char[]", self.capacity + WORD + 32)
        address = t.address(self.raw)
        self.base = address + (-(address + WORD)) % 16  # payloads (header + 8) 16-aligned
        self.offsets = [sum(size for size, _ in blocks[:i]) for i in range(len(blocks))]
        self.labels = {off: chr(65 + i) for i, off in enumerate(self.offsets)}
        for i, (size, allocated) in enumerate(blocks):
            prev_allocated = i == 0 or blocks[i - 1][1]
            self.write_header(self.offsets[i], size, allocated, prev_allocated)
            if allocated:
                self.fill(self.offsets[i])
        self.put(self.capacity, int(t.lib.EX_ALLOC) | (int(t.lib.EX_PREV_ALLOC)
                                                        if not blocks or blocks[-1][1] else 0))
        free = [i for i, (_, allocated) in enumerate(blocks) if not allocated]
        chain = [self.offsets[i] for i in (free if order is None else order)]
        for k, off in enumerate(chain):
            self.put(off + WORD, self.base + chain[k + 1] if k + 1 < len(chain) else 0)
            self.put(off + 2 * WORD, self.base + chain[k - 1] if k else 0)
        self.heap = t.ffi.new("ex_heap *", (self.ptr(0), self.ptr(self.capacity),
                                            self.ffi.cast("ex_fblock *", self.ptr(chain[0]))
                                            if chain else t.ffi.NULL))

    # -- words ---------------------------------------------------------------------------
    def ptr(self, off: int) -> Any:
        return self.ffi.cast("unsigned char *", self.base + off)

    def block(self, off: int) -> Any:
        return self.ffi.cast("ex_fblock *", self.ptr(off))

    def get(self, off: int) -> int:
        return int(self.ffi.cast("size_t *", self.ptr(off))[0])

    def put(self, off: int, value: int) -> None:
        self.ffi.cast("size_t *", self.ptr(off))[0] = value

    def write_header(self, off: int, size: int, allocated: bool, prev_allocated: bool) -> None:
        """A block's header, and its footer when it is free (as free() leaves it)."""
        word = size | (int(self.lib.EX_ALLOC) if allocated else 0) | (
            int(self.lib.EX_PREV_ALLOC) if prev_allocated else 0)
        self.put(off, word)
        if not allocated:
            self.put(off + size - WORD, word)

    def token(self, off: int, size: int) -> bytes:
        return self.labels.get(off, "?").encode().ljust(size - WORD, b".")

    def fill(self, off: int) -> None:
        size = self.get(off) & ~self.flags
        self.ffi.memmove(self.ptr(off + WORD), self.token(off, size), size - WORD)

    def snapshot(self) -> bytes:
        return bytes(self.ffi.buffer(self.ptr(0), self.capacity + WORD))

    def offset_of(self, pointer: Any) -> int | None:
        """The offset of a pointer into the heap, None for NULL or anything outside it."""
        if pointer == self.ffi.NULL:
            return None
        off = self.t.address(pointer) - self.base
        return off if 0 <= off <= self.capacity else -1

    # -- reading it back -------------------------------------------------------------------
    def walk(self) -> list[tuple[int, int, bool, bool]] | str:
        """(offset, size, allocated, prev_allocated) of each block, or what stops the walk."""
        blocks, off = [], 0
        while off < self.capacity:
            word = self.get(off)
            size = word & ~self.flags
            if size < int(self.lib.EX_MIN_BLOCK) or off + size > self.capacity:
                return (f"the header at offset {off} says size {size}, which is not a block of "
                        f"this {self.capacity}-byte heap")
            blocks.append((off, size, bool(word & self.lib.EX_ALLOC),
                           bool(word & self.lib.EX_PREV_ALLOC)))
            off += size
        return blocks

    def free_list(self, starts: set[int]) -> list[int] | str:
        """Offsets on the list from the head, following `next` and checking each `prev`; or
        what is wrong with it. Only pointers to a block start in `starts` are followed."""
        chain, problem = self.follow(starts)
        return problem or chain

    def follow(self, starts: set[int]) -> tuple[list[int], str | None]:
        """The list as far as it is sound, and the first thing wrong with it (None if none)."""
        chain: list[int] = []
        node = self.heap.free_head
        while node != self.ffi.NULL:
            off = self.offset_of(node)
            where = "the list head" if not chain else f"the block at offset {chain[-1]}'s next"
            if off not in starts:
                what = f"offset {off}" if off is not None and off >= 0 else "outside the heap"
                return chain, f"{where} points to {what}, which is not the start of a block"
            if off in chain:
                return chain, (f"the list runs in a circle: {where} leads back to offset {off} "
                               "(a block pushed while it was still on the list?)")
            prev = self.offset_of(self.block(off).prev)
            want = chain[-1] if chain else None
            if prev != want:
                said = "NULL" if prev is None else f"offset {prev}"
                expected = "NULL (it is the head)" if want is None else f"offset {want}"
                return chain, (f"links disagree: the block at offset {off} has prev = {said}, "
                               f"but the block before it on the list is {expected}")
            chain.append(off)
            node = self.block(off).next
        return chain, None

    def regions(self, chosen: int | None = None) -> Regions:
        """Headers, payloads, free space and footers as far as the headers can be trusted; the
        free block at offset `chosen` (a search's answer) is drawn as the payload it would
        become, labelled "returned"."""
        regions: Regions = []
        blocks = self.walk()
        if isinstance(blocks, str):
            return [(0, self.capacity, "other", "unreadable headers")]
        chain, _ = self.follow({off for off, *_ in blocks})
        position = {off: k for k, off in enumerate(chain)}
        for off, size, allocated, _ in blocks:
            regions.append((off, WORD, "header", None))
            if allocated:
                regions.append((off + WORD, size - WORD, "payload", self.labels.get(off)))
                continue
            on_list = f"list #{position[off]}" if off in position else "not on the list"
            if off == chosen:
                regions.append((off + WORD, size - 2 * WORD, "payload", "returned"))
            else:
                regions.append((off + WORD, size - 2 * WORD, "free", f"{size} free, {on_list}"))
            regions.append((off + size - WORD, WORD, "footer", None))
        regions.append((self.capacity, WORD, "header", "epilogue"))
        return regions
