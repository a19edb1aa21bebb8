"""mp.Malloc: the C library's malloc/calloc/realloc/free, tracked and refusing misuse."""

from __future__ import annotations

import bisect
import os
import sys
from typing import Any

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.constants import SIZE_MAX, RegionKind
from mempools.errors import BadSize, OutOfMemory
from mempools.pool import Pool, raise_on
from mempools.validate import as_size, checked_product

_malloc, _free, _usable, _cast = lib.malloc, lib.free, lib.heap_usable_size, ffi.cast  # hot path

GLIBC = bool(lib.heap_is_glibc())
#: bytes glibc keeps in front of each block (its size word); 0 where unknown
HEADER = ffi.sizeof("size_t") if GLIBC else 0
#: memory() copies the span from the lowest to the highest live block; beyond this, refuse
MEMORY_COPY_LIMIT = 1 << 26
#: sizeof(int) in this C
INT_BYTES = ffi.sizeof("int")
_HERE = os.path.dirname(__file__)
#: live blocks further apart than FAR bytes (another arena, an mmap'd chunk) are drawn as
#: separate runs with ELIDED bytes of "other" memory between them, so walk() and memory() stay
#: small however far apart glibc puts them; elided() says how far each gap really is
FAR = 1 << 20
ELIDED = 64


#: source file -> how _call_site names a line in it ("" for this package's own files)
_SITE_PREFIX: dict[str, str] = {}


def _site_prefix(name: str) -> str:
    if name.rpartition(os.sep)[0] == _HERE:
        return ""
    if "ipykernel" in name or name.startswith("<"):
        return "cell line "
    return f"{os.path.basename(name)}:"


def _call_site() -> str:
    """Where user code called into the pool: 'file.py:LINE' or 'cell line N' in a notebook."""
    frame = sys._getframe(1)
    while frame:
        name = frame.f_code.co_filename
        prefix = _SITE_PREFIX.get(name)
        if prefix is None:
            prefix = _SITE_PREFIX[name] = _site_prefix(name)
        if prefix:
            return prefix + str(frame.f_lineno)
        frame = frame.f_back
    return "?"


class Malloc(Pool):
    """The libc heap through cffi. Tracks every block it made; refuses double and foreign frees.

    walk() draws the tracked blocks at their real distances, from the lowest one (offset 0 is
    that block's header on glibc); bytes between them belong to libc or other code ("other").
    """

    alignment = int(lib.heap_guaranteed_alignment())

    def __init__(self) -> None:
        super().__init__()
        self._ptr: dict[int, Any] = {}
        # blocks this heap freed: address -> usable bytes. walk() draws those that still lie
        # between our live blocks as "free"; libc may reuse them, so a new block clears them.
        self._freed: dict[int, int] = {}
        self._freed_at: list[int] = []  # the keys of _freed, sorted: finds reused ones quickly
        self._freed_max = 0  # the largest usable size ever put in _freed
        self._reserved: dict[int, int] = {}  # live block id -> bytes libc reserved (header too)
        self._reserved_total = 0  # the sum of _reserved, kept as blocks come and go
        self._counts = {"mallocs": 0, "callocs": 0, "reallocs": 0, "frees": 0, "failed": 0}

    def _destroy(self) -> None:
        for ptr in self._ptr.values():
            lib.free(ptr)
        self._ptr.clear()
        self._reserved.clear()
        self._reserved_total = 0

    def _adopt(self, ptr: Any, size: int, label: str | None = None) -> Block:
        block = self._new_block(size, label)
        block.where = _call_site()
        self._ptr[block._id] = ptr
        start = int(_cast("uintptr_t", ptr)) - HEADER
        reserved = HEADER + (_usable(ptr) or size)
        self._reserved[block._id] = reserved
        self._reserved_total += reserved
        self._reuse(start, start + reserved)
        return block

    def _note_freed(self, address: int, usable: int) -> None:
        if address not in self._freed:
            bisect.insort(self._freed_at, address)
        self._freed[address] = usable
        if usable > self._freed_max:
            self._freed_max = usable

    def _reuse(self, start: int, end: int) -> None:
        """Forget the freed blocks that [start, end) overlaps: libc handed them out again."""
        at = self._freed_at
        lo = bisect.bisect_left(at, start - self._freed_max)
        hi = bisect.bisect_left(at, end + HEADER)
        if lo == hi:  # the usual case: no freed block there
            return
        keep = []
        for a in at[lo:hi]:
            if a + self._freed[a] <= start or a - HEADER >= end:
                keep.append(a)
            else:
                del self._freed[a]
        at[lo:hi] = keep

    # -- the four calls ---------------------------------------------------------------------
    def _counted(self, ptr: Any, call: str, failure: str) -> Any:
        """Count a libc call; NULL becomes OutOfMemory with `failure` as the message."""
        if ptr == ffi.NULL:
            self._counts["failed"] += 1
            raise OutOfMemory(failure)
        self._counts[call] += 1
        return ptr

    def malloc(self, size: int) -> Block:
        """malloc(size): a Block of `size` uninitialised bytes; OutOfMemory when libc says NULL."""
        if self._closed:
            self._require_open("malloc")
        n = size if type(size) is int and 0 < size <= SIZE_MAX else as_size(
            size, call="Malloc.malloc")
        ptr = _malloc(n)
        if not ptr:  # the message is built only then (malloc is a hot path, issue 18)
            self._counted(ptr, "mallocs", f"malloc({n}) returned NULL: the C library cannot "
                                          f"find {n} bytes")
        self._counts["mallocs"] += 1
        return self._adopt(ptr, n)

    def calloc(self, count: int, size: int) -> Block:
        """calloc(count, size): zeroed; refuses a count * size that overflows size_t."""
        self._require_open("calloc")
        total = checked_product(count, size, call="Malloc.calloc")
        if total == 0:
            raise BadSize(f"Malloc.calloc({count}, {size}): asks for 0 bytes (ask for at least 1)")
        ptr = self._counted(lib.calloc(count, size), "callocs",
                            f"calloc({count}, {size}) returned NULL")
        return self._adopt(ptr, total)

    def realloc(self, block: Block, size: int) -> Block:
        """realloc: a new Block with the old contents up to the smaller size; the old one goes
        stale (even when libc kept the address). On NULL the old block stays valid."""
        old = self._require_live(block, "realloc")
        n = as_size(size, call="Malloc.realloc")
        ptr = self._counted(lib.realloc(self._ptr[old.id], n), "reallocs",
                            f"realloc of block {old.label} to {n} bytes returned NULL; "
                            "the old block is unchanged")
        del self._ptr[old.id]
        self._reserved_total -= self._reserved.pop(old.id)
        self._forget(old, "stale")
        return self._adopt(ptr, n, old.label)

    def free(self, block: Block) -> None:
        """free: the block goes back to libc; freeing it again raises DoubleFree."""
        b = self._require_live(block, "free")
        ptr = self._ptr.pop(b._id)
        self._note_freed(int(_cast("uintptr_t", ptr)), self._reserved[b._id] - HEADER)
        _free(ptr)
        self._reserved_total -= self._reserved.pop(b._id)
        self._counts["frees"] += 1
        self._forget(b, "freed")

    # -- inspection -------------------------------------------------------------------------
    def usable_size(self, block: Block) -> int:
        """Bytes libc really reserved for the block (>= its size); its size where unknown."""
        b = self._require_live(block, "usable_size")
        return int(lib.heap_usable_size(self._ptr[b.id])) or b.size

    def chunk_size_field(self, block: Block) -> int | None:
        """The raw size word glibc stores before the block (flags in the low 3 bits)."""
        b = self._require_live(block, "chunk_size_field")
        return int(lib.heap_chunk_size_field(self._ptr[b.id])) if GLIBC else None

    def checkerboard(self, n: int, size: int) -> list[Block]:
        """In C, with no Python allocation in between: `n` blocks of `size` bytes back to back,
        then free every other one. Returns the live blocks (now this heap's); walk() draws the
        holes between them as free."""
        call = "Malloc.checkerboard"
        self._require_open(call)
        count, each = as_size(n, "n", call=call, unit="block"), as_size(size, call=call)
        if count > 1 << 16:
            raise BadSize(f"{call}: n={count} is more blocks than a picture can show (at most "
                          f"{1 << 16})")
        raw = ffi.new("void *[]", count)
        raise_on(lib.heap_checkerboard(count, each, raw), f"checkerboard({count}, {each})")
        live = [self._adopt(raw[i], each) for i in range(0, count, 2)]
        usable = self.usable_size(live[0])
        for i in range(1, count, 2):
            self._note_freed(int(ffi.cast("uintptr_t", raw[i])), usable)
        return live

    def reuse_after_free(self, size: int) -> tuple[bytes, bool]:
        """In C: malloc(size), fill it with 0xAB, free it, malloc(size) again. Returns the second
        block's bytes as libc handed them over, and whether it came back at the same address."""
        self._require_open("reuse_after_free")
        n = as_size(size, call="Malloc.reuse_after_free")
        if n > 1 << 24:
            raise BadSize(f"Malloc.reuse_after_free: size {n} is larger than this experiment "
                          f"needs (at most {1 << 24} bytes)")
        after, same = ffi.new("unsigned char[]", n), ffi.new("int *")
        raise_on(lib.heap_reuse_experiment(n, after, same), f"reuse_after_free({n})")
        return ffi.buffer(after)[:], bool(same[0])

    def ints_fill_and_sum(self, block: Block) -> int:
        """The classic C program's middle, in C on the block's memory: `a[i] = i * i` for every
        whole int the block holds, then the sum read back."""
        b = self._require_live(block, "ints_fill_and_sum")
        ints, n = ffi.cast("int *", self._address_of(b)), b.size // INT_BYTES
        lib.heap_ints_fill(ints, n)
        return int(lib.heap_ints_sum(ints, n))

    def holes(self) -> list[tuple[int, int]]:
        """(offset, bytes) of each block this heap freed that still lies between live ones."""
        return [(r.offset, r.size) for r in self.walk() if r.kind == "free"]

    def _address_of(self, block: Block) -> int:
        return int(ffi.cast("uintptr_t", self._ptr[block.id]))

    def _write_limit(self, block: Block) -> tuple[int, str]:
        # past the requested size but inside what libc reserved is the lesson; past that lies
        # the next chunk's header, and overwriting it would crash the interpreter later
        return self.usable_size(block), "the bytes libc reserved (the next chunk's header follows)"

    def _base(self) -> int:
        if not self._ptr:
            return 0
        return min(int(ffi.cast("uintptr_t", p)) for p in self._ptr.values()) - HEADER

    def _offset_of(self, block: Block) -> int:
        return self._view(self._address_of(block))

    def _far_gaps(self) -> list[tuple[int, int, int]]:
        """(address where a far run starts, bytes cut before it so far, real gap) in address
        order: the runs of blocks more than FAR bytes from the previous block."""
        ends = sorted((self._address_of(b), self.usable_size(b)) for b in self._blocks.values()
                      if b.id in self._ptr)
        out, cut = [], 0
        for (a, usable), (b, _) in zip(ends, ends[1:]):
            gap = (b - HEADER) - (a + usable)
            if gap > FAR:
                cut += gap - ELIDED
                out.append((b - HEADER, cut, gap))
        return out

    def _view(self, address: int, gaps: list[tuple[int, int, int]] | None = None) -> int:
        """The walk() offset of a real address: its distance from the lowest block, less the
        far gaps cut before it."""
        cut = 0
        for start, total, _ in self._far_gaps() if gaps is None else gaps:
            if address >= start:
                cut = total
        return address - self._base() - cut

    def elided(self) -> dict[int, str]:
        """For each far gap cut short: its walk() offset -> how far the two runs really are."""
        return {self._view(start) - ELIDED: f"other memory: the next block is {gap:,} bytes "
                f"({gap / 2**30:,.1f} GiB) further on, drawn as {ELIDED}"
                for start, _, gap in self._far_gaps()}

    def _spans(self) -> list[tuple[int, int, Block]]:
        """(offset, usable, block) for every live block, in address order."""
        gaps = self._far_gaps()
        spans = [(self._view(self._address_of(b), gaps), self.usable_size(b), b)
                 for b in self._blocks.values()]
        return sorted(spans, key=lambda s: s[0])

    @property
    def memory_size(self) -> int:
        spans = self._spans()
        return max((off + usable for off, usable, _ in spans), default=0)

    def memory(self) -> bytes:
        """Our blocks' bytes (headers included on glibc) at their offsets; zeros elsewhere,
        because bytes between blocks are not ours to read (they may not even be mapped)."""
        self._require_open("memory")
        if self.memory_size > MEMORY_COPY_LIMIT:
            raise OutOfMemory(f"Malloc.memory(): the live blocks lie {self.memory_size} bytes apart "
                              "(libc put a large block somewhere else, e.g. in its own mapping); "
                              f"copying more than {MEMORY_COPY_LIMIT} bytes is refused (read the "
                              "blocks one by one, or free the large one)")
        out = bytearray(self.memory_size)
        for off, usable, b in self._spans():
            start = off - HEADER
            out[start:off + usable] = ffi.buffer(
                ffi.cast("unsigned char *", self._address_of(b) - HEADER), HEADER + usable)[:]
        return bytes(out)

    def _gap(self, start: int, end: int) -> list[tuple[int, int, int, int]]:
        """Regions for [start, end) between our blocks: blocks we freed are "free", the rest
        is libc's or other code's ("other")."""
        gaps = self._far_gaps()
        seen = ((self._view(a, gaps), u) for a, u in self._freed.items()  # not in a cut gap
                if not any(far - gap <= a < far for far, _, gap in gaps))
        holes = sorted((v - HEADER, v + u) for v, u in seen if start <= v - HEADER and v + u <= end)
        out, cursor = [], start
        for lo, hi in holes:
            if lo > cursor:
                out.append((cursor, lo - cursor, RegionKind.OTHER, -1))
            out.append((lo, hi - lo, RegionKind.FREE, -1))
            cursor = hi
        if end > cursor:
            out.append((cursor, end - cursor, RegionKind.OTHER, -1))
        return out

    def _walk_raw(self) -> list[tuple[int, int, int, int]]:
        regions: list[tuple[int, int, int, int]] = []
        cursor = 0
        for off, usable, b in self._spans():
            if off - HEADER > cursor:
                regions += self._gap(cursor, off - HEADER)
            if HEADER:
                regions.append((off - HEADER, HEADER, RegionKind.HEADER, b.id))
            regions.append((off, b.size, RegionKind.PAYLOAD, b.id))
            if usable > b.size:
                regions.append((off + b.size, usable - b.size, RegionKind.PADDING, b.id))
            cursor = off + usable
        return regions

    def _owner_label(self, owner: int) -> str | None:
        block = self._blocks.get(owner)
        return block.label if block else None

    def _check_c(self) -> str | None:
        spans = self._spans()
        for (a, ua, ba), (b, _, bb) in zip(spans, spans[1:]):
            if a + ua > b - HEADER:
                return f"blocks {ba.label} and {bb.label} overlap"
        if GLIBC:
            for _, usable, b in spans:
                chunk = self.chunk_size_field(b) & ~7
                if chunk not in (usable + HEADER, usable + 2 * HEADER):
                    return f"block {b.label}: glibc size word {chunk} does not match {usable}"
        return None

    @property
    def stats(self) -> dict[str, int]:
        """Live blocks and bytes, calls made, failures."""
        self._require_open("stats")
        live_bytes = sum(b.size for b in self._blocks.values())
        return {"live": len(self._blocks), "live_bytes": live_bytes, **self._counts}

    def leaks(self) -> str:
        """A report of the blocks still live: label, size and where each was made."""
        if not self._blocks:
            return "no leaks: every block was freed"
        lines = [f"{len(self._blocks)} block(s) still live, {self.stats['live_bytes']} bytes:"]
        lines += [f"  {b.label}: {b.size} bytes, made at {b.where}" for b in self._blocks.values()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        if self._closed:
            return "<Malloc closed>"
        return f"<Malloc live={len(self._blocks)} bytes={self.stats['live_bytes']}>"

    # -- replay protocol --------------------------------------------------------------------
    def replay_alloc(self, size: int) -> Block:
        return self.malloc(size)

    @property
    def footprint(self) -> int:
        return self._reserved_total

    @property
    def bytes_held(self) -> int:
        """The chunks of the live blocks, header and rounding included: a LOWER bound of what
        libc holds, since its free chunks and top are shared with the rest of the process."""
        return self.footprint
