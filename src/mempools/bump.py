"""mp.BumpPool: the arena from csrc/bump_pool.c - one offset moving forward, marks and resets."""

from __future__ import annotations

import weakref
from typing import Any

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.constants import SIZE_MAX
from mempools.errors import ForeignBlock, PoolMisuse, StaleHandle
from mempools.pool import CPool, error_for, raise_on
from mempools.validate import as_alignment, as_size

_alloc_aligned, _last_offset = lib.bump_pool_alloc_aligned, lib.bump_pool_last_offset  # hot path


class Mark:
    """A position in a BumpPool; release(mark) frees everything allocated after it.

    Only the pool that made a mark takes it back, and only while it is valid: releasing to an
    earlier mark, or reset(), invalidates every mark taken after that point."""

    __slots__ = ("__weakref__", "_c_mark", "_index", "_pool", "_serial", "used")

    def __init__(self, pool: BumpPool, index: int, serial: int, c_mark: Any, used: int) -> None:
        self._pool, self._index, self._serial, self._c_mark = pool, index, serial, c_mark
        self.used = used  # bytes in use when the mark was taken (for pictures)

    def __repr__(self) -> str:
        return f"<Mark used={self.used}>"


class BumpPool(CPool):
    """An arena: alloc moves one offset; no per-block free; mark/release and reset instead.

    growable=True chains a new chunk when a request does not fit; measure=True runs the same
    arithmetic with no memory, to learn the capacity a sequence of allocations needs.
    """

    c_name, c_stats = "bump_pool", "bump_stats"

    def __init__(self, capacity: int = 4096, align: int = 8, growable: bool = False,
                 measure: bool = False, poison: bool = False) -> None:
        super().__init__()
        call = "BumpPool()"
        cap = as_size(capacity, "capacity", call=call) if not measure else 1
        self.alignment = as_alignment(align, minimum=ffi.sizeof("void *"), call=call)
        self.growable, self.measuring = _flag(growable, "growable"), _flag(measure, "measure")
        # the journal lets walk() show each allocation's payload and padding
        flags = lib.BUMP_JOURNAL
        flags |= lib.BUMP_GROWABLE if self.growable else 0
        flags |= lib.BUMP_MEASURE if self.measuring else 0
        flags |= lib.BUMP_POISON if _flag(poison, "poison") else 0
        self._create(f"BumpPool(capacity={cap}, align={self.alignment})", lib.bump_pool_create,
                     cap, self.alignment, flags)
        self._out = ffi.new("void **")  # alloc's out-parameter, reused (Block._at: the offset)
        self._entries: list[Block] = []  # blocks in the C journal's order, for walk() owners
        self._marks: list[Mark] = []  # valid marks, oldest first
        self._issued: weakref.WeakSet[Mark] = weakref.WeakSet()  # every mark mark() returned
        self._replay_marks: dict[int, Mark] = {}  # replay: the mark before each block
        self._replay_freed: set[int] = set()  # replay: freed, waiting for newer blocks to go

    def __repr__(self) -> str:
        if self._closed:
            return "<BumpPool closed>"
        s = self.stats
        return f"<BumpPool used={s['used']} capacity={s['capacity']} chunks={s['chunks']}>"

    # -- allocation -------------------------------------------------------------------------
    def alloc(self, size: int, align: int | None = None) -> Block:
        """`size` bytes at the pool's alignment (or `align`), by moving the offset forward."""
        if self._closed:
            self._require_open("alloc")
        n = size if type(size) is int and 0 < size <= SIZE_MAX else as_size(
            size, call="BumpPool.alloc")
        a = self.alignment if align is None else as_alignment(align, call="BumpPool.alloc")
        code = _alloc_aligned(self._p, n, a, self._out)
        if code:
            raise error_for(code, f"BumpPool.alloc({n}, align={a}) with {self.available} bytes "
                                  "available",
                            "" if self.growable else "create the pool larger, or growable=True")
        block = self._new_block(n, None, _last_offset(self._p))
        self._entries.append(block)
        return block

    @property
    def available(self) -> int:
        """Bytes left in the current chunk."""
        self._require_open("available")
        return int(lib.bump_pool_available(self._p))

    def mark(self) -> Mark:
        """The current position, to release back to later."""
        self._require_open("mark")
        mark = Mark(self, len(self._marks), self._serial, lib.bump_pool_mark(self._p),
                    self.stats["used"])
        self._marks.append(mark)
        self._issued.add(mark)
        return mark

    def _require_mark(self, mark: object) -> Mark:
        self._require_open("release")
        if not isinstance(mark, Mark) or mark._pool is not self or mark not in self._issued:
            raise ForeignBlock(f"BumpPool.release: {mark!r:.60} is not a mark of this pool "
                               "(pass what this pool's mark() returned)")
        if mark._index >= len(self._marks) or self._marks[mark._index] is not mark:
            raise StaleHandle("BumpPool.release: this mark is no longer valid: the pool was "
                              "reset or released to an earlier mark since (take a new mark)")
        return mark

    def release(self, mark: Mark) -> None:
        """Free everything allocated after `mark`; those Blocks go stale, and so does every
        mark taken after this one."""
        m = self._require_mark(mark)
        raise_on(lib.bump_pool_release(self._p, m._c_mark), "BumpPool.release")
        del self._entries[self.stats["allocations"]:]
        del self._marks[m._index + 1:]
        for block in [b for b in self._blocks.values() if b.id >= m._serial]:
            self._forget(block, "stale")

    def reset(self) -> None:
        """Free everything; every Block and every Mark of this pool goes stale."""
        self._require_open("reset")
        lib.bump_pool_reset(self._p)
        self._entries.clear()
        self._marks.clear()
        for block in self._blocks.values():
            block._state = "stale"
        self._blocks.clear()

    # -- inspection -------------------------------------------------------------------------
    @property
    def measured(self) -> int:
        """The capacity the allocations so far need (the high-water mark)."""
        return self.stats["high_water"]

    def _offset_of(self, block: Block) -> int:
        return block._at  # type: ignore[return-value]

    def _address_of(self, block: Block) -> int:
        if self.measuring:
            raise StaleHandle(f"block {block.label} is virtual: a measuring pool has no memory "
                              "(use its offset and size)")
        return int(ffi.cast("uintptr_t", lib.bump_pool_address(self._p, block._at)))

    def _write_limit(self, block: Block) -> tuple[int, str]:
        offset = self._offset_of(block)
        for start, capacity in self.chunks():
            if start <= offset < start + capacity:
                return start + capacity - offset, f"the block's chunk at offset {start}"
        return 0, "the pool's memory"

    @property
    def memory_size(self) -> int:
        return self.stats["capacity"] if not self.measuring else 0

    def memory(self) -> bytes:
        """The bytes of every chunk, concatenated in chain order (empty when measuring)."""
        self._require_open("memory")
        if self.measuring:
            return b""
        out = bytearray()
        for start, capacity in self.chunks():
            out += ffi.buffer(lib.bump_pool_address(self._p, start), capacity)[:]
        return bytes(out)

    def chunks(self) -> list[tuple[int, int]]:
        """(offset, capacity) of each chunk in the chain."""
        self._require_open("chunks")
        start, capacity = ffi.new("size_t *"), ffi.new("size_t *")
        out, i = [], 0
        while lib.bump_pool_chunk(self._p, i, start, capacity) == 0:
            out.append((int(start[0]), int(capacity[0])))
            i += 1
        return out

    def _owner_label(self, owner: int) -> str | None:
        return self._entries[owner].label if owner < len(self._entries) else f"#{owner}"

    # -- replay protocol: frees release like a stack; realloc copies into a new piece --------
    def replay_alloc(self, size: int) -> Block:
        mark = self.mark()
        block = self.alloc(size)
        self._replay_marks[block.id] = mark
        return block

    def replay_realloc(self, block: Block, size: int) -> Block:
        old = self._require_live(block, "replay_realloc")
        new = self.replay_alloc(size)
        if not self.measuring:
            new.write(old.read(min(old.size, new.size)))
        new.label = old.label
        self.replay_free(old)
        return new

    def replay_free(self, block: Block) -> None:
        """A bump pool cannot free one block; a trace's free is released (to the mark taken
        before that block) once every newer block is freed too, as an obstack does."""
        b = self._require_live(block, "replay_free")
        if b.id not in self._replay_marks:
            raise ForeignBlock(f"BumpPool.replay_free: block {b.label} was not made by "
                               "replay_alloc (only those can be freed one by one)")
        self._replay_freed.add(b.id)
        pending = sorted(self._replay_marks)
        while pending and pending[-1] in self._replay_freed:
            newest = pending.pop()
            self._replay_freed.discard(newest)
            mark = self._replay_marks.pop(newest)
            if newest in self._blocks:
                self._forget(self._blocks[newest], "freed")
            self.release(mark)

    @property
    def footprint(self) -> int:
        return self.bytes_held

    @property
    def bytes_held(self) -> int:
        """Bytes this pool holds from malloc: struct, chunk array, chunks and their alignment
        slack (not the walker's journal, which only the lessons' pictures need)."""
        self._require_open()
        return int(lib.bump_pool_bytes_held(self._p))


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise PoolMisuse(f"BumpPool(): {what} must be True or False, not {value!r:.40}")
    return value
