"""mp.FixedPool: equal-sized blocks with the free list threaded through the free blocks."""

from __future__ import annotations

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.errors import BadSize, CorruptPool, ForeignBlock
from mempools.pool import CPool, error_for, raise_on
from mempools.validate import as_alignment, as_int, as_size, checked_product

_alloc, _free, _new = lib.fixed_pool_alloc, lib.fixed_pool_free, object.__new__  # hot path


def create_with_failing_malloc(block_size: int, count: int, fail_at: int) -> tuple[str, int]:
    """fixed_pool_create with its `fail_at`-th internal malloc failing: returns the error name
    and how many blocks of its own memory were left allocated (0: nothing leaked)."""
    call = "create_with_failing_malloc"
    fault = ffi.new("fault_allocator *")
    nth = as_int(fail_at, "fail_at", call)
    if not 0 <= nth <= 1 << 30:
        raise BadSize(f"{call}: fail_at must be a call number from 0 (no failure) to {1 << 30}")
    lib.fault_allocator_init(fault, nth)
    out = ffi.new("fixed_pool **")
    err = lib.fixed_pool_create_with(out, as_size(block_size, "block_size", call=call),
                                     as_size(count, "count", call=call, unit="block"),
                                     8, ffi.addressof(fault, "allocator"))
    if err == 0:
        lib.fixed_pool_destroy(out[0])
    return ffi.string(lib.pool_error_name(err)).decode(), int(fault.outstanding)


class FixedPool(CPool):
    """`count` blocks of `block_size` bytes; O(1) alloc/free; lazy init by a high-water mark."""

    c_name, c_stats = "fixed_pool", "fixed_stats"
    sized = False

    def __init__(self, block_size: int, count: int, align: int = 8) -> None:
        super().__init__()
        call = "FixedPool()"
        self.block_size = as_size(block_size, "block_size", call=call)
        self.count = as_size(count, "count", call=call, unit="block")
        self.alignment = max(as_alignment(align, call=call), ffi.alignof("void *"))
        checked_product(self.count, self.block_size, call=call)
        self._create(f"FixedPool({self.block_size}, {self.count})", lib.fixed_pool_create,
                     self.block_size, self.count, self.alignment)
        self.stride = self.stats["stride"]
        base = lib.fixed_pool_base(self._p)
        self._base_address = int(ffi.cast("uintptr_t", base))  # fixed
        # the first word of block i (a free block's next pointer) is _words[i * _stride_words]:
        # the stride is a multiple of the alignment, which is at least a pointer's
        self._words = memoryview(ffi.buffer(base, self.memory_size)).cast("P")
        self._stride_words = self.stride // ffi.sizeof("void *")
        self._out = ffi.new("void **")  # alloc's out-parameter, reused
        self._pointers: list[object] = []  # void * of each touched block, by position
        # live blocks are keyed by their position (Block._at), not their id: one dict serves
        # identity checks, free_address and walk() owners
        # what C holds, mirrored by every call that changes it (check() compares them):
        self._head = -1  # the free list's first block, -1 when empty
        self._high_water = 0  # blocks below this have been handed out at least once

    def __repr__(self) -> str:
        if self._closed:
            return "<FixedPool closed>"
        s = self.stats
        return (f"<FixedPool {s['used']}/{s['count']} used, block {s['block_size']} "
                f"(stride {s['stride']})>")

    # alloc and free are the hot path (issue 18): Pool's bookkeeping is inlined, the C
    # out-parameter and block pointers are reused, and messages are built only to raise
    def alloc(self) -> Block:
        """One block (the most recently freed, else the next untouched); OutOfMemory when empty."""
        if self._closed:
            self._require_open("alloc")
        head = self._head
        if head >= 0:
            word = self._words[head * self._stride_words]
            following = self._require_free_block_at(head, word) if word else -1
        code = _alloc(self._p, self._out)
        if code:
            raise error_for(code, f"FixedPool.alloc(): all {self.count} blocks are in use (free "
                                  "one, or create the pool with a larger count)")
        if head >= 0:  # C popped the head
            index, self._head = head, following
        else:  # C handed out the next untouched block
            index = self._high_water
            self._high_water = index + 1
            self._pointers.append(self._out[0])
        serial = self._serial
        self._serial = serial + 1
        block = _new(Block)  # Block(self, serial, self.block_size, at=index), without the call
        block._pool = self
        block._state = "live"
        block._id = serial
        block._size = self.block_size
        block._at = index
        self._blocks[index] = block
        return block

    def _require_free_block_at(self, head: int, word: int) -> int:
        """alloc pops the free list's head and follows its next pointer `word`, which lives in
        the head block's bytes: after an unsafe write it may point anywhere. Refuse to follow
        it unless it is a free block of this pool (O(1): one link per alloc); return that
        block's position (the head after the pop)."""
        delta = word - self._base_address
        stride = self.stride
        following = delta // stride
        if (delta >= 0 and delta % stride == 0 and following != head
                and following < self._high_water and following not in self._blocks):
            return following
        raise CorruptPool(f"FixedPool.alloc(): the next pointer in free block {head} was "
                          "overwritten (an unsafe write?); following it would crash")

    def free(self, block: Block) -> None:
        """Return a block to the front of the free list; DoubleFree/ForeignBlock on misuse."""
        b = block if (type(block) is Block and block._pool is self and block._state == "live"
                      and not self._closed and self._blocks.get(block._at) is block
                      ) else self._require_live(block, "free")
        index = b._at
        code = _free(self._p, self._pointers[index])
        if code:
            raise error_for(code, f"FixedPool.free(block {b.label})")
        self._head = index
        b._state = "freed"
        del self._blocks[index]

    def free_address(self, address: int) -> None:
        """free() of a raw address, checked by the C pool itself (foreign, interior, double)."""
        call = "FixedPool.free_address"
        self._require_open(call)
        a = as_int(address, "address", call)
        end = self._base_address + self.memory_size
        if not self._base_address <= a < end:
            raise ForeignBlock(f"{call}({a:#x}): the address is outside this pool's blocks "
                               f"[{self._base_address:#x}, {end:#x}) (pass a block's .address)")
        offset = a - self._base_address
        raise_on(lib.fixed_pool_free(self._p, ffi.cast("void *", a)), f"{call}(offset {offset})")
        self._head = offset // self.stride
        block = self._blocks.get(self._head)
        if block is not None:
            self._forget(block, "freed")

    # -- the free list, read from the pool's bytes -------------------------------------------
    def free_list(self) -> list[int]:
        """Block indices on the free list, head first, following the real next pointers."""
        self._require_open("free_list")
        order, nxt = [], ffi.new("long *")
        i = int(lib.fixed_pool_free_head(self._p))
        while i >= 0 and len(order) <= self.count:
            order.append(i)
            raise_on(lib.fixed_pool_free_next(self._p, i, nxt), "FixedPool.free_list")
            i = int(nxt[0])
        return order

    def links(self) -> list[tuple[int, int]]:
        """(from_offset, to_offset) for each next pointer on the free list."""
        order = self.free_list()
        return [(a * self.stride, b * self.stride) for a, b in zip(order, order[1:])]

    def _next_word(self, index: int) -> int:
        return int(self._words[index * self._stride_words])

    def next_pointer(self, index: int) -> int:
        """The raw first word of free block `index`, read from the pool's bytes as a C pointer
        (0 for NULL): the link the free list is made of."""
        call = "FixedPool.next_pointer"
        self._require_open(call)
        i = as_int(index, "index", call)
        if not 0 <= i < self.stats["high_water"] or i not in self.free_list():
            raise BadSize(f"{call}({i}): block {i} is not on the free list (free_list() "
                          "lists the indices that are)")
        return self._next_word(i)

    def offset_of_address(self, address: int) -> int:
        """Pool offset of a raw address inside the pool (what a pointer value means here)."""
        call = "FixedPool.offset_of_address"
        self._require_open(call)
        a = as_int(address, "address", call)
        if not self._base_address <= a <= self._base_address + self.memory_size:
            raise ForeignBlock(f"{call}({a:#x}): the address is outside this pool's memory")
        return a - self._base_address

    def _require_live(self, value: object, call: str = "call") -> Block:
        if (type(value) is Block and value._pool is self and value._state == "live"
                and not self._closed and self._blocks.get(value._at) is value):
            return value
        return super()._require_live(value, call)

    def _owns(self, block: Block) -> bool:
        return self._blocks.get(block._at) is block  # type: ignore[call-overload]

    def _forget(self, block: Block, state: str) -> None:
        block._state = state
        self._blocks.pop(block._at, None)  # type: ignore[call-overload]

    def _index_of(self, block: Block) -> int:
        return block._at  # type: ignore[return-value]

    def index(self, block: Block) -> int:
        """The block's position in the pool (offset // stride)."""
        return self._index_of(self._require_live(block, "index"))

    def _offset_of(self, block: Block) -> int:
        return self._index_of(block) * self.stride

    def _address_of(self, block: Block) -> int:
        return self._base_address + block._at * self.stride  # type: ignore[operator]

    @property
    def memory_size(self) -> int:
        return self.stride * self.count

    def memory(self) -> bytes:
        """All block bytes, untouched ones included."""
        self._require_open("memory")
        return ffi.buffer(lib.fixed_pool_base(self._p), self.memory_size)[:]

    def _check_c(self) -> str | None:
        problem = super()._check_c()
        if problem is None and (int(lib.fixed_pool_free_head(self._p)) != self._head
                                or self.stats["high_water"] != self._high_water):
            return ("the wrapper's copy of the free head or high-water mark differs from C's "
                    "(was the pool changed behind the wrapper's back?)")
        return problem

    def _owner_label(self, owner: int) -> str | None:
        block = self._blocks.get(owner)
        return block.label if block else None

    # -- replay protocol: a request up to block_size takes one block ------------------------
    def _require_fits(self, size: int, call: str) -> int:
        n = as_size(size, call=f"FixedPool.{call}")
        if n > self.block_size:
            raise BadSize(f"FixedPool.{call}({n}): {n} bytes do not fit a {self.block_size}-byte "
                          "block (create the pool with larger blocks)")
        return n

    def replay_alloc(self, size: int) -> Block:
        n = self._require_fits(size, "replay_alloc")
        block = self.alloc()
        self._resize(block, n)
        return block

    def replay_realloc(self, block: Block, size: int) -> Block:
        b = self._require_live(block, "replay_realloc")
        self._resize(b, self._require_fits(size, "replay_realloc"))
        return b

    @property
    def footprint(self) -> int:
        return self.bytes_held

    @property
    def bytes_held(self) -> int:
        """Bytes this pool holds from malloc: struct, bitmap and every block, used or not."""
        self._require_open()
        return int(lib.fixed_pool_bytes_held(self._p))
