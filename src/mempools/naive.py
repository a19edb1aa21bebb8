"""Thin wrappers over csrc/naive/: DELIBERATELY BROKEN allocators the lessons run to show
classic bugs next to the real pools. Each keeps its memory in a buffer this object owns, so the
damage stays inside it; none of them is a pool to use."""

from __future__ import annotations

from mempools._native import ffi, lib
from mempools.block import Region
from mempools.errors import BadSize, ForeignBlock, OutOfMemory
from mempools.validate import as_int, as_size


def _address(ptr: object) -> int:
    return int(ffi.cast("uintptr_t", ptr))


class NaiveBump:
    """A bump allocator whose end is `start + size - 1`: the last byte can never be handed out."""

    def __init__(self, capacity: int) -> None:
        self.capacity = as_size(capacity, "capacity")
        self._memory = ffi.new("unsigned char[]", self.capacity)
        self._b = ffi.new("naive_bump *")
        lib.naive_bump_init(self._b, self._memory, self.capacity)

    def alloc(self, size: int) -> int | None:
        """Offset of the new piece, or None when the naive check says it does not fit."""
        ptr = lib.naive_bump_alloc(self._b, as_size(size))
        return None if ptr == ffi.NULL else _address(ptr) - _address(self._memory)

    @property
    def available(self) -> int:
        """What the naive code believes is left: end - top."""
        return _address(self._b.end) - _address(self._b.top)


class NaiveEmbedded:
    """An embedded pool that places each new block right after the previous slot's block
    without checking the gap, and whose realloc can only shift the blocks after it."""

    def __init__(self, capacity: int = 64) -> None:
        self.capacity = as_size(capacity, "capacity")
        self._memory = ffi.new("unsigned char[]", self.capacity)
        self._p = ffi.new("naive_embedded *")
        lib.naive_embedded_init(self._p, self._memory, self.capacity)

    def alloc(self, size: int) -> int:
        """The new block's slot, or -1 when it does not fit."""
        return int(lib.naive_embedded_alloc(self._p, as_size(size)))

    def free(self, slot: int) -> None:
        lib.naive_embedded_free(self._p, self._slot(slot))

    def realloc(self, slot: int, size: int) -> bool:
        """True when the naive realloc managed to grow (or shrink) the block."""
        return lib.naive_embedded_realloc(self._p, self._slot(slot), as_size(size)) == 0

    def realloc_wrong(self, slot: int, size: int) -> bool:
        """Bug hunt #4: resizes the block allocated LAST, not `slot`, and shifts the blocks
        after it by `size` instead of by the growth. True when it claims success."""
        self._slot(slot)
        return lib.naive_embedded_realloc_wrong(self._p, slot, as_size(size)) == 0

    def _slot(self, slot: int) -> int:
        n = as_int(slot, "slot", "NaiveEmbedded")
        if not 0 <= n < lib.NAIVE_EMB_SLOTS or self._p.length[n] == 0:
            raise ForeignBlock(f"NaiveEmbedded: slot {n} is not a live block of this naive pool")
        return n

    def write(self, slot: int, data: bytes) -> None:
        """Fill the block's bytes (bounded by its own length, not by its neighbours)."""
        n = min(len(data), int(self._p.length[self._slot(slot)]))
        ffi.memmove(self._memory + self._p.offset[slot], data[:n], n)

    def read(self, slot: int) -> bytes:
        off, n = int(self._p.offset[self._slot(slot)]), int(self._p.length[slot])
        return ffi.buffer(self._memory, self.capacity)[off:off + n]

    def blocks(self) -> list[tuple[int, int, int]]:
        """(slot, offset, size) of each live block, in slot order."""
        return [(i, int(self._p.offset[i]), int(self._p.length[i]))
                for i in range(lib.NAIVE_EMB_SLOTS) if self._p.length[i]]

    def memory(self) -> bytes:
        return ffi.buffer(self._memory, self.capacity)[:]

    def walk(self) -> list[Region]:
        """Regions in address order; overlapping blocks are drawn as they claim to be."""
        regions, cursor = [], 0
        for slot, off, size in sorted(self.blocks(), key=lambda b: b[1]):
            if off > cursor:
                regions.append(Region(cursor, off - cursor, "free", None))
            regions.append(Region(off, size, "payload", f"slot {slot}"))
            cursor = max(cursor, off + size)
        if cursor < self.capacity:
            regions.append(Region(cursor, self.capacity - cursor, "free", None))
        return regions


class NaiveFixed:
    """A fixed-size pool with a stride of exactly the block size (no rounding for a pointer or
    its alignment), an eager init loop, no double-free check; blocks are named by offset.
    Only sizes that keep its own memory safe here are accepted: the overflowing and leaking
    variants run in a child process or through `leak_when_second_malloc_fails`."""

    def __init__(self, block_size: int, count: int) -> None:
        size, n = as_size(block_size, "block_size"), as_size(count, "count")
        if size < ffi.sizeof("void *") // 2 or size * n > 1 << 20:
            raise BadSize("NaiveFixed(): keep the naive pool small (at most 1 MiB) and its blocks "
                          "at least 4 bytes")
        self._p = lib.naive_fixed_create(size, n, 0)
        if self._p == ffi.NULL:
            raise OutOfMemory("NaiveFixed(): naive_fixed_create returned NULL")
        self.block_size, self.count = size, n
        self.handed_out: list[tuple[str, int]] = []  # (label, offset), in order

    def __del__(self) -> None:
        if getattr(self, "_p", ffi.NULL) != ffi.NULL:
            lib.naive_fixed_destroy(self._p)

    def alloc(self, label: str) -> int | None:
        """Offset of the block the naive free list hands out, or None when it is empty."""
        ptr = lib.naive_fixed_alloc(self._p)
        if ptr == ffi.NULL:
            return None
        offset = _address(ptr) - _address(self._p.blocks)
        self.handed_out.append((label, offset))
        return offset

    def free(self, offset: int) -> None:
        """Push the block at `offset` on the free list - with no check at all (the bug)."""
        offset = as_int(offset, "offset", "NaiveFixed.free")
        if not 0 <= offset < self.block_size * self.count or offset % self.block_size:
            raise ForeignBlock(f"NaiveFixed.free: offset {offset} is not a block start of this "
                               "naive pool")
        lib.naive_fixed_free(self._p, self._p.blocks + offset)
        self.handed_out = [(lbl, off) for lbl, off in self.handed_out if off != offset]

    def address_of(self, offset: int) -> int:
        return _address(self._p.blocks) + offset

    def walk(self) -> list[Region]:
        """Blocks as handed out (two labels may share an offset: the double-free bug)."""
        regions = [Region(off, self.block_size, "free", None)
                   for off in range(0, self.block_size * self.count, self.block_size)
                   if off not in {o for _, o in self.handed_out}]
        regions += [Region(off, self.block_size, "payload", lbl) for lbl, off in self.handed_out]
        return sorted(regions, key=lambda r: r.offset)


def leak_when_second_malloc_fails(block_size: int, count: int) -> int:
    """Run naive_fixed_create with its second malloc failing; return the bytes it leaked (then
    release them, so the demonstration itself leaks nothing)."""
    lib.naive_fixed_forget_leaks()
    lib.naive_fixed_create(as_size(block_size), as_size(count), 1)  # returns NULL, leaks
    leaked = int(lib.naive_fixed_leaked())
    lib.naive_fixed_forget_leaks()
    return leaked


def array_bytes(n: int, size: int) -> int:
    """Bug hunt #1: the bytes `naive_array_bytes` would malloc for n * size (0 = refused), with
    its overflow check written backwards."""
    return int(lib.naive_array_bytes(as_size(n), as_size(size)))


class NaiveLazy:
    """Bug hunt #2: a lazily initialised fixed pool that compares its high-water mark (a count
    of blocks) with its size in bytes. Here it only reports offsets; the write past the end is
    shown in a child process under AddressSanitizer."""

    def __init__(self, stride: int, count: int) -> None:
        self.stride, self.count = as_size(stride, "stride"), as_size(count, "count")
        if self.stride * self.count > 1 << 20:
            raise ValueError("keep the naive pool small")
        self._p = ffi.new("naive_lazy *")
        if lib.naive_lazy_init(self._p, self.stride, self.count) != 0:
            raise MemoryError("naive_lazy_init: out of memory")

    def __del__(self) -> None:
        if getattr(self, "_p", None) is not None:
            lib.naive_lazy_destroy(self._p)

    def alloc(self) -> int | None:
        """Offset of the block it hands out (past the end once the bug bites), or None."""
        ptr = lib.naive_lazy_alloc(self._p)
        return None if ptr == ffi.NULL else _address(ptr) - _address(self._p.blocks)


def nested_sections(counting: bool) -> list[tuple[str, bool]]:
    """Bug hunt #5: an outer critical section that calls a function with its own section.
    Returns (moment, interrupts enabled?) with the naive flag, or with the nesting count."""
    disable, enable, enabled = ((lib.fixed_irq_disable, lib.fixed_irq_enable, lib.fixed_irq_enabled)
                                if counting else
                                (lib.naive_irq_disable, lib.naive_irq_enable, lib.naive_irq_enabled))
    states = []
    disable()
    states.append(("outer section entered", bool(enabled())))
    disable()
    states.append(("inner section entered", bool(enabled())))
    enable()
    states.append(("inner section left, outer still running", bool(enabled())))
    enable()
    states.append(("outer section left", bool(enabled())))
    return states
