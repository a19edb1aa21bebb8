"""mp.BumpPool: the arena from csrc/bump_pool.c - one offset moving forward, marks and resets."""

from __future__ import annotations

from typing import Any, NamedTuple

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.errors import ForeignBlock, StaleHandle
from mempools.pool import Pool, c_string, raise_on, walk_c
from mempools.validate import as_alignment, as_size


class Mark(NamedTuple):
    """A position in a BumpPool; release(mark) frees everything allocated after it."""

    pool_id: int
    generation: int
    serial: int  # blocks with a smaller id survive a release to this mark
    c_mark: Any


class BumpPool(Pool):
    """An arena: alloc moves one offset; no per-block free; mark/release and reset instead.

    growable=True chains a new chunk when a request does not fit; measure=True runs the same
    arithmetic with no memory, to learn the capacity a sequence of allocations needs.
    """

    def __init__(self, capacity: int = 4096, align: int = 8, growable: bool = False,
                 measure: bool = False, poison: bool = False) -> None:
        super().__init__()
        self._closed = True  # until C succeeds
        cap = as_size(capacity, "capacity") if not measure else 1
        self.alignment = as_alignment(align, minimum=ffi.sizeof("void *"))
        # the journal lets walk() show each allocation's payload and padding
        flags = lib.BUMP_JOURNAL
        flags |= lib.BUMP_GROWABLE if growable else 0
        flags |= lib.BUMP_MEASURE if measure else 0
        flags |= lib.BUMP_POISON if poison else 0
        out = ffi.new("bump_pool **")
        raise_on(lib.bump_pool_create(out, cap, self.alignment, flags),
                 f"BumpPool(capacity={cap}, align={self.alignment})")
        self._p = out[0]
        self._closed = False
        self.growable, self.measuring = growable, measure
        self._generation = 0
        self._offsets: dict[int, int] = {}
        self._entries: list[Block] = []  # blocks in the C journal's order, for walk() owners
        self._trace_marks: dict[int, Mark] = {}  # replay: the mark before each block
        self._trace_freed: set[int] = set()  # replay: freed, waiting for newer blocks to go

    def _destroy(self) -> None:
        lib.bump_pool_destroy(self._p)
        self._p = ffi.NULL

    def __repr__(self) -> str:
        if self._closed:
            return "<BumpPool closed>"
        s = self.stats
        return f"<BumpPool used={s['used']} capacity={s['capacity']} chunks={s['chunks']}>"

    # -- allocation -------------------------------------------------------------------------
    def alloc(self, size: int, align: int | None = None) -> Block:
        """`size` bytes at the pool's alignment (or `align`), by moving the offset forward."""
        self._require_open()
        n = as_size(size)
        a = self.alignment if align is None else as_alignment(align)
        out = ffi.new("void **")
        raise_on(lib.bump_pool_alloc_aligned(self._p, n, a, out),
                 f"BumpPool.alloc({n}, align={a}) with {self.available} bytes available")
        block = self._new_block(n)
        self._offsets[block.id] = int(lib.bump_pool_last_offset(self._p))
        self._entries.append(block)
        return block

    @property
    def available(self) -> int:
        """Bytes left in the current chunk."""
        self._require_open()
        return int(lib.bump_pool_available(self._p))

    def mark(self) -> Mark:
        """The current position, to release back to later."""
        self._require_open()
        return Mark(id(self), self._generation, self._serial, lib.bump_pool_mark(self._p))

    def release(self, mark: Mark) -> None:
        """Free everything allocated after `mark`; those Blocks go stale."""
        self._require_open()
        if not isinstance(mark, Mark) or mark.pool_id != id(self):
            raise ForeignBlock(f"{mark!r} is not a mark of this pool")
        if mark.generation != self._generation:
            raise StaleHandle("this mark was taken before a reset of the pool")
        raise_on(lib.bump_pool_release(self._p, mark.c_mark), "BumpPool.release")
        del self._entries[self.stats["allocations"]:]
        for block in [b for b in self._blocks.values() if b.id >= mark.serial]:
            self._forget(block, "stale")

    def reset(self) -> None:
        """Free everything; every Block and every Mark of this pool goes stale."""
        self._require_open()
        lib.bump_pool_reset(self._p)
        self._entries.clear()
        self._generation += 1
        for block in list(self._blocks.values()):
            self._forget(block, "stale")

    # -- inspection -------------------------------------------------------------------------
    @property
    def stats(self) -> dict[str, int]:
        """capacity, used, available, high_water, padding, chunks, allocations, malloc_calls."""
        self._require_open()
        s = ffi.new("bump_stats *")
        lib.bump_pool_stats(self._p, s)
        return {k: int(getattr(s, k)) for k in ("capacity", "used", "available", "high_water",
                                                  "padding", "chunks", "allocations",
                                                  "malloc_calls")}

    @property
    def measured(self) -> int:
        """The capacity the allocations so far need (the high-water mark)."""
        return self.stats["high_water"]

    def _offset_of(self, block: Block) -> int:
        return self._offsets[block.id]

    def _address_of(self, block: Block) -> int:
        if self.measuring:
            raise StaleHandle(f"block {block.label} is virtual: a measuring pool has no memory")
        return int(ffi.cast("uintptr_t", lib.bump_pool_address(self._p, self._offsets[block.id])))

    @property
    def memory_size(self) -> int:
        return self.stats["capacity"] if not self.measuring else 0

    def memory(self) -> bytes:
        """The bytes of every chunk, concatenated in chain order (empty when measuring)."""
        self._require_open()
        if self.measuring:
            return b""
        out = bytearray()
        for start, capacity in self.chunks():
            out += ffi.buffer(lib.bump_pool_address(self._p, start), capacity)[:]
        return bytes(out)

    def chunks(self) -> list[tuple[int, int]]:
        """(offset, capacity) of each chunk in the chain."""
        self._require_open()
        start, capacity = ffi.new("size_t *"), ffi.new("size_t *")
        out, i = [], 0
        while lib.bump_pool_chunk(self._p, i, start, capacity) == 0:
            out.append((int(start[0]), int(capacity[0])))
            i += 1
        return out

    def _walk_raw(self) -> list[tuple[int, int, int, int]]:
        return walk_c(lib.bump_pool_walk, self._p)

    def _owner_label(self, owner: int) -> str | None:
        return self._entries[owner].label if owner < len(self._entries) else f"#{owner}"


    def _check_c(self) -> str | None:
        return c_string(lib.bump_pool_check(self._p))

    # -- replay protocol: frees release like a stack; realloc copies into a new piece --------
    def _trace_alloc(self, size: int) -> Block:
        mark = self.mark()
        block = self.alloc(size)
        self._trace_marks[block.id] = mark
        return block

    def _trace_realloc(self, block: Block, size: int) -> Block:
        new = self._trace_alloc(size)
        new.write(block.read(min(block.size, size)))
        new.label = block.label
        self._trace_free(block)
        return new

    def _trace_free(self, block: Block) -> None:
        """A bump pool cannot free one block; a trace's free is released (to the mark taken
        before that block) once every newer block is freed too, as an obstack does."""
        self._require_live(block)
        self._trace_freed.add(block.id)
        live = sorted(self._trace_marks)
        while live and live[-1] in self._trace_freed:
            newest = live.pop()
            self._trace_freed.discard(newest)
            mark = self._trace_marks.pop(newest)
            if self._blocks.get(newest) is not None:
                self._forget(self._blocks[newest], "freed")
            self.release(mark)

    def _footprint(self) -> int:
        return self.bytes_held

    @property
    def bytes_held(self) -> int:
        """Bytes this pool holds from malloc: struct, chunk array, chunks and their alignment
        slack (not the walker's journal, which only the lessons' pictures need)."""
        self._require_open()
        return int(lib.bump_pool_bytes_held(self._p))
