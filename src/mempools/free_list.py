"""mp.FreeListPool: the allocator inside malloc - headers and boundary tags, free lists threaded
through the free blocks, a placement policy, splitting and coalescing, over one region."""

from __future__ import annotations

from typing import NamedTuple

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.constants import SIZE_MAX
from mempools.errors import BadSize, OutOfMemory, PoolMisuse
from mempools.pool import Pool, c_string, error_for, raise_on, walk_c
from mempools.trace import Op, Trace
from mempools.validate import as_size

_alloc, _free, _cast = lib.free_list_pool_alloc, lib.free_list_pool_free, ffi.cast  # hot path

#: free-list organisations: no list, one LIFO list, one address-ordered list, size classes
LISTS = {"implicit": lib.FL_IMPLICIT, "explicit": lib.FL_EXPLICIT, "address": lib.FL_ADDRESS,
         "segregated": lib.FL_SEGREGATED}
#: placement policies
FITS = {"first": lib.FL_FIRST, "next": lib.FL_NEXT, "best": lib.FL_BEST, "worst": lib.FL_WORST}
#: when free neighbours merge
COALESCING = {"immediate": lib.FL_IMMEDIATE, "deferred": lib.FL_DEFERRED, "never": lib.FL_NEVER}
#: which blocks carry a footer: free ones only (the prev-allocated bit stands in), or all
FOOTERS = {"free": 0, "all": lib.FL_FOOTER_ALWAYS}

WORD = ffi.sizeof("size_t")
_STATS = ("capacity", "table_bytes", "heap_bytes", "used_blocks", "used_bytes", "free_blocks",
          "free_bytes", "largest_free", "allocs", "frees", "reallocs", "failed", "splits",
          "coalesces", "extends", "last_steps", "max_steps", "total_steps", "ops")
_PAYLOAD, _PADDING = int(lib.POOL_REGION_PAYLOAD), int(lib.POOL_REGION_PADDING)


class Tag(NamedTuple):
    """A header or footer word decoded: the block size and the two flag bits below it."""

    size: int
    allocated: bool
    prev_allocated: bool
    raw: int

    def __str__(self) -> str:
        return (f"{self.raw:#06x}: size {self.size}, allocated={self.allocated}, "
                f"prev allocated={self.prev_allocated}")


def _choice(value: object, options: dict[str, int], what: str) -> int:
    if not isinstance(value, str) or value not in options:
        raise PoolMisuse(f"{what} must be one of {', '.join(options)}; got {value!r}")
    return int(options[value])


class FreeListPool(Pool):
    """A general-purpose allocator over `capacity` bytes: any size, any order of frees.

    `lists`: implicit | explicit (LIFO) | address (address-ordered) | segregated;
    `fit`: first | next | best | worst; `coalesce`: immediate | deferred | never;
    `split=False` hands out whole free blocks; `footers="all"` puts a footer on allocated
    blocks too. The heap grows from the region's start as requests need it (like sbrk), so
    `footprint` is the bytes the allocator holds: control block, headers, slack and free space.
    """

    alignment = int(lib.FL_ALIGN)

    def __init__(self, capacity: int = 4096, lists: str = "explicit", fit: str = "first",
                 coalesce: str = "immediate", split: bool = True, footers: str = "free") -> None:
        super().__init__()
        self._closed = True  # until C succeeds
        cap = as_size(capacity, "capacity")
        codes = (_choice(lists, LISTS, "lists"), _choice(fit, FITS, "fit"),
                 _choice(coalesce, COALESCING, "coalesce"))
        if not isinstance(split, bool):
            raise PoolMisuse(f"split must be True or False, not {split!r}")
        flags = _choice(footers, FOOTERS, "footers") | (0 if split else lib.FL_NO_SPLIT)
        self.lists, self.fit, self.coalescing = lists, fit, coalesce
        self.split, self.footers = split, footers
        try:
            self._buffer = ffi.new("unsigned char[]", cap)
        except MemoryError:
            raise OutOfMemory(f"FreeListPool(capacity={cap}): no memory for the region") from None
        out = ffi.new("free_list_pool **")
        raise_on(lib.free_list_pool_create_in(out, self._buffer, cap, *codes, flags),
                 f"FreeListPool(capacity={cap}): the control block needs room")
        self._p = out[0]
        self._capacity = cap
        self._base_address = int(ffi.cast("uintptr_t", self._buffer))
        self._payload: dict[int, int] = {}  # block id -> payload offset
        self._out = ffi.new("void **")  # alloc's out-parameter, reused
        self._out_address = ffi.cast("uintptr_t *", self._out)  # the same word, read as an int
        self._closed = False

    def _destroy(self) -> None:
        self._p = ffi.NULL  # the memory is our buffer; dropping it frees it

    def __repr__(self) -> str:
        if self._closed:
            return "<FreeListPool closed>"
        s = self.stats
        return (f"<FreeListPool {self.lists}/{self.fit}/{self.coalescing}: {s['used_blocks']} "
                f"used, {s['free_blocks']} free, heap {s['heap_bytes']}/{s['capacity']} bytes>")

    # -- operations -------------------------------------------------------------------------
    def alloc(self, size: int) -> Block:
        """malloc: a 16-aligned block of `size` bytes; OutOfMemory when the region is full."""
        if self._closed:
            self._require_open()
        n = size if type(size) is int and 0 < size <= SIZE_MAX else as_size(size)
        code = _alloc(self._p, n, self._out)
        if code:
            raise error_for(code, f"FreeListPool.alloc({n}) with {self.stats['free_bytes']} "
                                  "bytes free")
        block = self._new_block(n)
        self._payload[block._id] = self._out_address[0] - self._base_address
        return block

    def free(self, block: Block) -> None:
        """free: the block joins a free list (merged with free neighbours when immediate)."""
        b = self._require_live(block, "free")
        code = _free(self._p, _cast("void *", self._base_address + self._payload[b._id]))
        if code:
            raise error_for(code, f"FreeListPool.free(block {b.label})")
        del self._payload[b._id]
        self._forget(b, "freed")

    def realloc(self, block: Block, size: int) -> Block:
        """realloc: the same Block when it stays in place (shrunk, or grown into free space on
        its right); a new Block, the old one stale, when it moves. On failure nothing changes."""
        b = self._require_live(block, "realloc")
        n = as_size(size, "new size")
        out = ffi.new("void **")
        raise_on(lib.free_list_pool_realloc(self._p, ffi.cast("void *", self._address_of(b)), n,
                                            out), f"FreeListPool.realloc(block {b.label}, {n})")
        offset = self._offset_from(out[0])
        if offset == self._payload[b.id]:
            self._resize(b, n)
            return b
        del self._payload[b.id]
        self._forget(b, "stale")
        moved = self._new_block(n, b.label)
        self._payload[moved.id] = offset
        return moved

    def coalesce(self) -> int:
        """Merge every run of free neighbours now; returns how many merges that took."""
        self._require_open()
        before = self.stats["coalesces"]
        lib.free_list_pool_coalesce(self._p)
        return self.stats["coalesces"] - before

    # -- reading the real bytes -------------------------------------------------------------
    def word(self, offset: int) -> int:
        """The size_t stored at `offset` of the region, as C reads it."""
        self._require_open()
        off = as_size(offset, "offset", allow_zero=True)
        if off + WORD > self._capacity:
            raise BadSize(f"a word at {off} runs past the region's {self._capacity} bytes")
        value = ffi.new("size_t *")
        ffi.memmove(value, self._buffer + off, WORD)
        return int(value[0])

    def tag(self, offset: int) -> Tag:
        """The header or footer word at `offset`, decoded: size | allocated | prev-allocated."""
        raw = self.word(offset)
        return Tag(raw & ~(self.alignment - 1), bool(raw & 1), bool(raw & 2), raw)

    def header_offset(self, block: Block) -> int:
        """Where the block's header sits: one word before its payload."""
        return self._offset_of(self._require_live(block)) - WORD

    def block_bytes(self, size: int) -> int:
        """Bytes a request of `size` occupies here: header (and footer), rounding, minimum."""
        self._require_open()
        n = as_size(size)
        need = int(lib.free_list_pool_block_size(self._p, n))
        if need == 0:
            raise BadSize(f"a block of {n} bytes cannot exist: its size would overflow")
        return need

    def free_lists(self) -> list[list[int]]:
        """Header offsets of the free blocks on each list, head first, following the next links
        stored in the free blocks' own bytes ([] for the implicit list: it has no links)."""
        self._require_open()
        limit = self._capacity // int(lib.FL_MIN_BLOCK) + 1
        out = []
        for k in range(int(lib.free_list_pool_lists(self._p))):
            chain, b = [], int(lib.free_list_pool_list_head(self._p, k))
            while b and len(chain) <= limit:
                chain.append(b)
                b = self.word(b + WORD)
            out.append(chain)
        return out

    def links(self) -> list[tuple[int, int]]:
        """(from, to) for each next link on the free lists, as offsets of the free space."""
        return [(a + WORD, b + WORD) for chain in self.free_lists() for a, b in zip(chain, chain[1:])]

    # -- inspection -------------------------------------------------------------------------
    @property
    def stats(self) -> dict[str, int]:
        """capacity, table_bytes, heap_bytes (the footprint), used/free blocks and bytes,
        largest_free, allocs, frees, reallocs, failed, splits, coalesces, extends, last_steps,
        max_steps, total_steps, ops."""
        self._require_open()
        s = ffi.new("fl_stats *")
        lib.free_list_pool_stats(self._p, s)
        return {k: int(getattr(s, k)) for k in _STATS}

    @property
    def footprint(self) -> int:
        """Bytes the allocator holds from its region: everything up to the heap's end."""
        return self.stats["heap_bytes"]

    @property
    def bytes_held(self) -> int:
        """The same as `footprint`: the heap grows from the region's start, like sbrk."""
        return self.footprint

    def _offset_from(self, ptr: object) -> int:
        return int(ffi.cast("uintptr_t", ptr)) - self._base_address

    def _offset_of(self, block: Block) -> int:
        return self._payload[block.id]

    def _address_of(self, block: Block) -> int:
        return self._base_address + self._payload[block.id]

    @property
    def memory_size(self) -> int:
        return self._capacity

    def memory(self) -> bytes:
        """The whole region: control block, heap, and the untouched rest."""
        self._require_open()
        return ffi.buffer(self._buffer, self._capacity)[:]

    def _walk_raw(self) -> list[tuple[int, int, int, int]]:
        """C's regions, with each payload cut at the requested size: the rest is padding."""
        sizes = {self._payload[i]: b.size for i, b in self._blocks.items()}
        out = []
        for off, size, kind, owner in walk_c(lib.free_list_pool_walk, self._p):
            asked = sizes.get(owner, size) if kind == _PAYLOAD else size
            out.append((off, asked, kind, owner))
            if asked < size:
                out.append((off + asked, size - asked, _PADDING, owner))
        return out

    def _owner_label(self, owner: int) -> str | None:
        for block_id, offset in self._payload.items():
            if offset == owner:
                return self._blocks[block_id].label
        return None

    def _check_c(self) -> str | None:
        return c_string(lib.free_list_pool_check(self._p))

    # -- replay protocol --------------------------------------------------------------------
    def replay_alloc(self, size: int) -> Block:
        return self.alloc(size)


# -- adversarial traces: one per placement policy ---------------------------------------------
# Each allocates `copies` runs of holes (every hole followed by a live 8-byte separator, so holes
# never merge), frees the holes, then makes requests that this policy places badly.
_ADVERSARY = {
    # holes of 1296 and 1200 bytes; 1200 then 1296: first fit cuts 1200 out of the 1296 hole
    "first": ((1288, 1192), lambda k: [1192, 1288] * k),
    # small and big holes; all small requests, then all big: next fit's rover moves on to the
    # big holes and carves them up for the small requests
    "next": ((40, 1000), lambda k: [40] * k + [1000] * k),
    # 1008 and 1104 go into the tightest holes, leaving 192-byte slivers too small for 256
    "best": ((1288, 1192), lambda k: [1000, 1096, 248] * k),
    # every small request carves the biggest hole, so the big ones find none left
    "worst": ((40, 1000), lambda k: [40, 1000] * k),
}


def adversarial_trace(fit: str, copies: int = 20) -> Trace:
    """A trace on which placement policy `fit` wastes more memory than the others."""
    if not isinstance(fit, str) or fit not in _ADVERSARY:
        raise PoolMisuse(f"fit must be one of {', '.join(_ADVERSARY)}; got {fit!r}")
    holes, requests = _ADVERSARY[fit]
    ops, hole_ids = [], []
    for _ in range(as_size(copies, "copies")):
        for size in holes:
            hole_ids.append(len(ops))
            ops += [Op("a", len(ops), size), Op("a", len(ops) + 1, 8)]
    ops += [Op("f", i) for i in hole_ids]
    first = 2 * len(hole_ids)
    return Trace(ops + [Op("a", first + i, size) for i, size in enumerate(requests(copies))])


__all__ = ["COALESCING", "FITS", "FOOTERS", "LISTS", "FreeListPool", "Tag", "adversarial_trace"]
