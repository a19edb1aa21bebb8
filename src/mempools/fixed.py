"""mp.FixedPool: equal-sized blocks with the free list threaded through the free blocks."""

from __future__ import annotations

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.errors import BadSize
from mempools.pool import Pool, c_string, raise_on, walk_c
from mempools.validate import as_alignment, as_size, checked_product


def create_with_failing_malloc(block_size: int, count: int, fail_at: int) -> tuple[str, int]:
    """fixed_pool_create with its `fail_at`-th internal malloc failing: returns the error name
    and how many blocks of its own memory were left allocated (0: nothing leaked)."""
    fault = ffi.new("fault_allocator *")
    lib.fault_allocator_init(fault, fail_at)
    out = ffi.new("fixed_pool **")
    err = lib.fixed_pool_create_with(out, as_size(block_size, "block_size"), as_size(count, "count"),
                                     8, ffi.addressof(fault, "allocator"))
    if err == 0:
        lib.fixed_pool_destroy(out[0])
    return ffi.string(lib.pool_error_name(err)).decode(), int(fault.outstanding)


class FixedPool(Pool):
    """`count` blocks of `block_size` bytes; O(1) alloc/free; lazy init by a high-water mark."""

    def __init__(self, block_size: int, count: int, align: int = 8) -> None:
        super().__init__()
        self._closed = True  # until C succeeds
        self._index_of_block: dict[int, int] = {}  # block id -> position in the pool
        self._block_at_index: dict[int, Block] = {}  # position -> live block (walk is O(blocks))
        self.block_size = as_size(block_size, "block_size")
        self.count = as_size(count, "count")
        self.alignment = max(as_alignment(align), ffi.alignof("void *"))
        checked_product(self.count, self.block_size)
        out = ffi.new("fixed_pool **")
        raise_on(lib.fixed_pool_create(out, self.block_size, self.count, self.alignment),
                 f"FixedPool({self.block_size}, {self.count})")
        self._p = out[0]
        self._closed = False
        self.stride = self.stats["stride"]
        self._base_address = int(ffi.cast("uintptr_t", lib.fixed_pool_base(self._p)))  # fixed

    def _destroy(self) -> None:
        lib.fixed_pool_destroy(self._p)
        self._p = ffi.NULL

    def __repr__(self) -> str:
        if self._closed:
            return "<FixedPool closed>"
        s = self.stats
        return (f"<FixedPool {s['used']}/{s['count']} used, block {s['block_size']} "
                f"(stride {s['stride']})>")

    def alloc(self) -> Block:
        """One block (the most recently freed, else the next untouched); OutOfMemory when empty."""
        self._require_open()
        out = ffi.new("void **")
        raise_on(lib.fixed_pool_alloc(self._p, out),
                 f"FixedPool.alloc: all {self.count} blocks are in use")
        block = self._new_block(self.block_size)
        self._index_of_block[block.id] = self._index(out[0])
        self._block_at_index[self._index_of_block[block.id]] = block
        return block

    def free(self, block: Block) -> None:
        """Return a block to the front of the free list; DoubleFree/ForeignBlock on misuse."""
        b = self._require_live(block)
        raise_on(lib.fixed_pool_free(self._p, ffi.cast("void *", self._address_of(b))),
                 f"FixedPool.free(block {b.label})")
        self._forget(b, "freed")
        self._block_at_index.pop(self._index_of_block.pop(b.id))

    def free_address(self, address: int) -> None:
        """free() of a raw address, checked by the C pool itself (foreign, interior, double)."""
        self._require_open()
        if isinstance(address, bool) or not isinstance(address, int) or address <= 0:
            raise BadSize(f"address must be a positive integer, got {address!r}")
        raise_on(lib.fixed_pool_free(self._p, ffi.cast("void *", address)),
                 f"FixedPool.free_address(offset {address - self._base()})")
        block = self._block_at_index.pop((address - self._base()) // self.stride, None)
        if block is not None:
            self._forget(block, "freed")
            self._index_of_block.pop(block.id)

    # -- the free list, read from the pool's bytes -------------------------------------------
    def free_list(self) -> list[int]:
        """Block indices on the free list, head first, following the real next pointers."""
        self._require_open()
        order, nxt = [], ffi.new("long *")
        i = int(lib.fixed_pool_free_head(self._p))
        while i >= 0 and len(order) <= self.count:
            order.append(i)
            raise_on(lib.fixed_pool_free_next(self._p, i, nxt), "free list walk")
            i = int(nxt[0])
        return order

    def links(self) -> list[tuple[int, int]]:
        """(from_offset, to_offset) for each next pointer on the free list."""
        order = self.free_list()
        return [(a * self.stride, b * self.stride) for a, b in zip(order, order[1:])]

    # -- inspection -------------------------------------------------------------------------
    @property
    def stats(self) -> dict[str, int]:
        """block_size, stride, count, used, free, high_water, failed."""
        self._require_open()
        s = ffi.new("fixed_stats *")
        lib.fixed_pool_stats(self._p, s)
        return {k: int(getattr(s, k)) for k in ("block_size", "stride", "count", "used", "free",
                                                  "high_water", "failed")}

    def _base(self) -> int:
        return self._base_address

    def next_pointer(self, index: int) -> int:
        """The raw first word of free block `index`, read from the pool's bytes as a C pointer
        (0 for NULL): the link the free list is made of."""
        self._require_open()
        if not 0 <= index < self.stats["high_water"] or index not in self.free_list():
            raise BadSize(f"block {index} is not a free block of this pool")
        return int(ffi.cast("uintptr_t", ffi.cast("void **", self._base() + index * self.stride)[0]))

    def offset_of_address(self, address: int) -> int:
        """Pool offset of a raw address inside the pool (what a pointer value means here)."""
        self._require_open()
        return address - self._base()

    def _index(self, ptr: object) -> int:
        return (int(ffi.cast("uintptr_t", ptr)) - self._base()) // self.stride

    def index(self, block: Block) -> int:
        """The block's position in the pool (offset // stride)."""
        return self._index_of_block[self._require_live(block).id]

    def _offset_of(self, block: Block) -> int:
        return self._index_of_block[block.id] * self.stride

    def _address_of(self, block: Block) -> int:
        return self._base() + self._offset_of(block)

    @property
    def memory_size(self) -> int:
        return self.stride * self.count

    def memory(self) -> bytes:
        """All block bytes, untouched ones included."""
        self._require_open()
        return ffi.buffer(lib.fixed_pool_base(self._p), self.memory_size)[:]

    def _walk_raw(self) -> list[tuple[int, int, int, int]]:
        return walk_c(lib.fixed_pool_walk, self._p)

    def _owner_label(self, owner: int) -> str | None:
        block = self._block_at_index.get(owner)
        return block.label if block is not None else None

    def _check_c(self) -> str | None:
        return c_string(lib.fixed_pool_check(self._p))

    # -- replay protocol --------------------------------------------------------------------
    def _trace_alloc(self, size: int) -> Block:
        if size > self.block_size:
            raise BadSize(f"{size} bytes do not fit a {self.block_size}-byte block")
        block = self.alloc()
        block.size = size
        return block

    def _trace_realloc(self, block: Block, size: int) -> Block:
        self._require_live(block)
        if size > self.block_size:
            raise BadSize(f"{size} bytes do not fit a {self.block_size}-byte block")
        block.size = size
        return block

    def _trace_free(self, block: Block) -> None:
        self.free(block)

    def _footprint(self) -> int:
        return self.bytes_held

    @property
    def bytes_held(self) -> int:
        """Bytes this pool holds from malloc: struct, bitmap and every block, used or not."""
        self._require_open()
        return int(lib.fixed_pool_bytes_held(self._p))
