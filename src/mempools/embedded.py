"""mp.EmbeddedPool: one byte array, an allocation table inside it, handles and compaction."""

from __future__ import annotations

from typing import Any

from mempools._native import ffi, lib
from mempools.block import Block
from mempools.constants import SIZE_MAX, ErrorCode
from mempools.errors import BadSize, OutOfMemory, PoolMisuse
from mempools.pool import CPool, error_for, raise_on
from mempools.validate import as_size

_alloc, _free, _new_handle = lib.embedded_pool_alloc, lib.embedded_pool_free, ffi.new  # hot path


@ffi.def_extern()
def mp_section_enter(ctx: Any) -> None:
    ffi.from_handle(ctx)["enter"] += 1


@ffi.def_extern()
def mp_section_exit(ctx: Any) -> None:
    ffi.from_handle(ctx)["exit"] += 1


#: placement policies: "good" fit from a size-class index of the gaps (constant steps, the
#: default) or "first" fit, a walk of the blocks in address order
POLICIES = {"good": 0, "first": int(lib.EMB_FIRST_FIT)}


class EmbeddedPool(CPool):
    """`capacity` bytes (table included) with `slots` handles; blocks move, handles stay valid.
    `policy` places blocks by "good" fit (default) or "first" fit.

    The C pool runs over a byte array this object owns - the same code the static array of a
    microcontroller build uses. `sections` counts the critical-section hook calls.
    """

    c_name, c_stats = "embedded_pool", "emb_stats"
    c_owns_memory = False  # the memory is our buffer; dropping it frees it
    moves_blocks = True  # alloc and realloc may compact
    alignment = int(lib.EMBEDDED_POOL_ALIGN)

    def __init__(self, capacity: int = 1024, slots: int = 16, zero_on_free: bool = False,
                 policy: str = "good") -> None:
        super().__init__()
        call = "EmbeddedPool()"
        cap = as_size(capacity, "capacity", call=call)
        nslots = as_size(slots, "slots", call=call, unit="slot")
        if not isinstance(policy, str) or policy not in POLICIES:
            raise PoolMisuse(f"{call}: policy must be one of {sorted(POLICIES)}, not {policy!r:.40}")
        self.policy = policy
        flags = POLICIES[policy] | (lib.EMB_ZERO_ON_FREE if zero_on_free else 0)
        try:
            self._buffer = ffi.new("unsigned char[]", cap)
        except (MemoryError, OverflowError):
            raise OutOfMemory(f"EmbeddedPool(capacity={cap}): the system has no {cap}-byte array "
                              "to give the pool (ask for a smaller capacity)") from None
        self._create(f"EmbeddedPool(capacity={cap}, slots={nslots}): the table of {nslots} slots "
                     "needs room (give a larger capacity or fewer slots)",
                     lib.embedded_pool_create_in, self._buffer, cap, nslots, flags)
        self.sections = {"enter": 0, "exit": 0}
        self._ctx = ffi.new_handle(self.sections)
        self._hooks = ffi.new("emb_hooks *", (lib.mp_section_enter, lib.mp_section_exit, self._ctx))
        lib.embedded_pool_set_hooks(self._p, self._hooks)
        self._handle: dict[int, Any] = {}  # block id -> owning emb_handle * from ffi.new
        self._block_in_slot: dict[int, Block] = {}  # table slot -> live block (walk is O(blocks))

    @classmethod
    def for_blocks(cls, data_bytes: int, slots: int = 16, zero_on_free: bool = False,
                   policy: str = "good") -> EmbeddedPool:
        """A pool with exactly `data_bytes` for blocks after its table (`capacity` counts both).
        Exact because ffi.new's memory comes from malloc, aligned as the C pool wants its base."""
        call = "EmbeddedPool.for_blocks"
        table = int(lib.embedded_pool_table_bytes(as_size(slots, "slots", call=call, unit="slot")))
        if table == 0:
            raise BadSize(f"{call}: a table of {slots} slots does not fit in size_t")
        return cls(table + as_size(data_bytes, "data_bytes", call=call), slots, zero_on_free,
                   policy)

    def __repr__(self) -> str:
        if self._closed:
            return "<EmbeddedPool closed>"
        s = self.stats
        return f"<EmbeddedPool {s['used']}/{s['capacity']} bytes used, {s['live']} handles>"

    def _raise_on(self, code: int, call: str) -> None:
        """raise_on for alloc and realloc: out of memory says whether slots or bytes ran out."""
        if code != ErrorCode.ENOMEM:
            raise_on(code, call)
            return
        s = self.stats
        if s["live"] == s["slots"]:
            raise OutOfMemory(f"{call}: all {s['slots']} slots are in use (free a block or "
                              "create the pool with more slots)")
        raise_on(code, f"{call} with {s['free_bytes']} bytes free (largest gap "
                       f"{s['largest_gap']})", "free blocks, or create a larger pool")

    # -- operations -------------------------------------------------------------------------
    def alloc(self, size: int) -> Block:
        """A handle to `size` bytes (placed by the pool's policy; compacts when only that makes
        room)."""
        if self._closed:
            self._require_open("alloc")
        n = size if type(size) is int and 0 < size <= SIZE_MAX else as_size(
            size, call="EmbeddedPool.alloc")
        h = _new_handle("emb_handle *")  # the block's own handle, kept while it lives
        code = _alloc(self._p, n, h)
        if code:
            self._raise_on(code, f"EmbeddedPool.alloc({n})")
        block = self._new_block(n)
        self._handle[block._id] = h  # keep the owning pointer; calls pass h[0] by value
        self._block_in_slot[h.slot] = block
        return block

    def realloc(self, block: Block, size: int) -> Block:
        """Resize in place or move (compacting both ways); the handle stays valid. On failure the
        data and the handle are unchanged."""
        b = self._require_live(block, "realloc")
        n = as_size(size, "new size", call="EmbeddedPool.realloc")
        code = lib.embedded_pool_realloc(self._p, self._handle[b.id][0], n)
        self._raise_on(code, f"EmbeddedPool.realloc(block {b.label}, {n})")
        self._resize(b, n)
        return b

    def free(self, block: Block) -> None:
        """Free the block; its handle goes stale (DoubleFree if freed again)."""
        b = self._require_live(block, "free")
        h = self._handle[b._id]
        code = _free(self._p, h[0])
        if code:
            raise error_for(code, f"EmbeddedPool.free(block {b.label})", "unlock it first")
        del self._block_in_slot[h.slot], self._handle[b._id]
        self._forget(b, "freed")

    def compact(self) -> int:
        """Slide unlocked blocks toward the start; returns the bytes moved."""
        self._require_open("compact")
        before = self.stats["bytes_moved"]
        raise_on(lib.embedded_pool_compact(self._p), "EmbeddedPool.compact")
        return self.stats["bytes_moved"] - before

    def lock(self, block: Block) -> int:
        """Pin the block (it will not move) and return its offset; nests, like a lock count."""
        b = self._require_live(block, "lock")
        raw = ffi.new("void **")
        raise_on(lib.embedded_pool_lock(self._p, self._handle[b.id][0], raw),
                 f"EmbeddedPool.lock(block {b.label})")
        return self._offset_of(b)

    def unlock(self, block: Block) -> None:
        """Undo one lock; LockError when the block is not locked."""
        b = self._require_live(block, "unlock")
        raise_on(lib.embedded_pool_unlock(self._p, self._handle[b.id][0]),
                 f"EmbeddedPool.unlock(block {b.label})", "only a locked block can be unlocked")

    def peek(self, offset: int, n: int) -> bytes:
        """The pool's raw bytes at [offset, offset+n): what a raw pointer kept across a move
        would read. Bounds-checked against the pool's memory."""
        call = "EmbeddedPool.peek"
        self._require_open(call)
        off = as_size(offset, "offset", allow_zero=True, call=call)
        count = as_size(n, "n", allow_zero=True, call=call)
        if off + count > self.memory_size:
            raise BadSize(f"{call}: [{off}, {off + count}) runs past the pool's "
                          f"{self.memory_size} bytes (read inside 0..{self.memory_size})")
        return ffi.buffer(self._buffer, self.memory_size)[off:off + count]

    # -- inspection -------------------------------------------------------------------------
    def _base(self) -> int:
        return int(ffi.cast("uintptr_t", lib.embedded_pool_base(self._p)))

    def _offset_of(self, block: Block) -> int:
        off, size = ffi.new("size_t *"), ffi.new("size_t *")
        raise_on(lib.embedded_pool_offset(self._p, self._handle[block.id][0], off, size),
                 f"block {block.label}")
        return int(off[0])

    def _address_of(self, block: Block) -> int:
        return self._base() + self._offset_of(block)

    @property
    def memory_size(self) -> int:
        s = self.stats
        return s["table_bytes"] + s["capacity"]

    def memory(self) -> bytes:
        """The pool's bytes from its base (table first)."""
        self._require_open("memory")
        return ffi.buffer(lib.embedded_pool_base(self._p), self.memory_size)[:]

    def _owner_label(self, owner: int) -> str | None:
        block = self._block_in_slot.get(owner)
        return block.label if block is not None else None

    # -- replay protocol --------------------------------------------------------------------
    def replay_alloc(self, size: int) -> Block:
        return self.alloc(size)

    @property
    def footprint(self) -> int:
        return self.bytes_held

    @property
    def bytes_held(self) -> int:
        """Bytes of the pool's array: header and table, then the data area, used or not."""
        s = self.stats
        return s["table_bytes"] + s["capacity"]
