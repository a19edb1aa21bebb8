"""The base every pool wrapper shares: ownership, closing, block bookkeeping, walk and check,
the public protocol replay, the memory map and the benchmark use, and CPool, which turns a
small description of a C allocator into stats, walk() and check()."""

from __future__ import annotations

from typing import Any, ClassVar

from mempools._native import ffi, lib
from mempools.block import Block, Region
from mempools.constants import ErrorCode, kind_name
from mempools.errors import (
    BadAlignment,
    BadSize,
    CorruptPool,
    DoubleFree,
    ForeignBlock,
    LockError,
    OutOfMemory,
    PoolError,
    PoolMisuse,
    StaleHandle,
    UseAfterClose,
)

#: C error code -> the exception it becomes
_EXCEPTION: dict[int, type[PoolError]] = {
    ErrorCode.ENOMEM: OutOfMemory,
    ErrorCode.EINVAL: PoolMisuse,
    ErrorCode.EOVERFLOW: BadSize,
    ErrorCode.EALIGN: BadAlignment,
    ErrorCode.EDOUBLEFREE: DoubleFree,
    ErrorCode.EFOREIGN: ForeignBlock,
    ErrorCode.ESTALE: StaleHandle,
    ErrorCode.ELOCKED: LockError,
    ErrorCode.ENOTLOCKED: LockError,
}


def error_for(code: int, message: str, fix: str = "") -> PoolError:
    """The exception for a nonzero C error code: `message` (the call), the C error's name (the
    rule broken), then `fix` in parentheses when there is one."""
    name = ffi.string(lib.pool_error_name(code)).decode()
    return _EXCEPTION.get(code, PoolError)(f"{message}: {name}" + (f" ({fix})" if fix else ""))


def raise_on(code: int, message: str, fix: str = "") -> None:
    """Raise the mapped exception when a C call returned a nonzero error code."""
    if code:
        raise error_for(code, message, fix)


def c_string(ptr: Any) -> str | None:
    return None if ptr == ffi.NULL else ffi.string(ptr).decode()


@ffi.def_extern()
def mp_collect_region(offset: int, size: int, kind: int, owner: int, user: Any) -> None:
    ffi.from_handle(user).append((offset, size, kind, owner))


def walk_c(walker: Any, pool: Any) -> list[tuple[int, int, int, int]]:
    """Run a C walker and return its (offset, size, kind, owner) calls."""
    out: list[tuple[int, int, int, int]] = []
    handle = ffi.new_handle(out)
    walker(pool, lib.mp_collect_region, handle)
    return out


class Pool:
    """Common behaviour: owns memory, tracks the Blocks it handed out, refuses misuse.

    The public protocol (what replay, the memory map and the benchmark may use):
    `replay_alloc`, `replay_realloc`, `replay_free`, `footprint`, `walk()`, `check()`,
    `stats`, `memory()`, `live`, `closed`, and the capability flags below.
    """

    #: the alignment every block of this pool is guaranteed to have
    alignment: int = 1
    #: alloc takes a size (False: every block has the pool's one size)
    sized: ClassVar[bool] = True
    #: blocks can move (realloc, compaction): keep handles, not addresses
    moves_blocks: ClassVar[bool] = False
    #: a measuring pool does the arithmetic with no memory behind it
    measuring: bool = False

    def __init__(self) -> None:
        self._closed = False
        # live blocks by id (a pool may key them by its own O(1) key, see _owns and _forget);
        # identity is what counts
        self._blocks: dict[int, Block] = {}
        self._serial = 0

    # -- lifetime ---------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """True once close() has run; every later call raises UseAfterClose."""
        return self._closed

    def close(self) -> None:
        """Release the pool's memory; its Blocks go stale. Closing twice is harmless."""
        if self._closed:
            return
        self._destroy()
        for block in self._blocks.values():
            block._state = "stale"
        self._blocks.clear()
        self._closed = True

    def _destroy(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()

    def _name(self, call: str) -> str:
        return call if "." in call or "(" in call else f"{type(self).__name__}.{call}"

    def _require_open(self, call: str = "call") -> None:
        if self._closed:
            raise UseAfterClose(f"{self._name(call)}: the {type(self).__name__} is closed and its "
                                "memory is gone (create a new pool)")

    # -- blocks -----------------------------------------------------------------------------
    @property
    def live(self) -> list[Block]:
        """Blocks handed out and not yet freed, oldest first."""
        return list(self._blocks.values())

    def _owns(self, block: Block) -> bool:
        return self._blocks.get(block._id) is block

    def _new_block(self, size: int, label: str | None = None, at: object = None) -> Block:
        serial = self._serial
        block = Block(self, serial, size, label, at)
        self._serial = serial + 1
        self._blocks[serial] = block
        return block

    def _require_live(self, value: object, call: str = "call") -> Block:
        """`value` if it is a live Block this very pool handed out, else the error that says
        which rule it breaks. The first line is the hot path: every rule holds; the rest runs
        only to name the broken one."""
        if (type(value) is Block and value._pool is self and value._state == "live"
                and not self._closed and self._blocks.get(value._id) is value):
            return value
        call = self._name(call)
        if not isinstance(value, Block):
            raise ForeignBlock(f"{call}: expected a Block this pool handed out, got "
                               f"{type(value).__name__} {value!r:.60}")
        if value._pool is not self:
            raise ForeignBlock(f"{call}: block {value.label} belongs to another pool, not this "
                               f"{type(self).__name__} (use it with the pool that made it)")
        self._require_open(call)
        if value._state == "freed" and call.endswith("free"):
            raise DoubleFree(f"{call}: block {value.label} was already freed (allocate a new "
                             "block instead of reusing a freed one)")
        if value._state == "freed":
            raise StaleHandle(f"{call}: block {value.label} was freed; using it now is a use "
                              "after free (allocate a new block)")
        if value._state == "stale":
            raise StaleHandle(f"{call}: block {value.label} is stale: its memory was moved, "
                              "released or reset (use the block the pool handed out since)")
        if not self._owns(value):
            raise ForeignBlock(f"{call}: {value!r:.60} was not handed out by this pool (only "
                               "the Block objects alloc returns can be used)")
        return value

    def _forget(self, block: Block, state: str) -> None:
        block._state = state
        self._blocks.pop(block._id, None)

    def _resize(self, block: Block, size: int) -> None:
        block._size = size

    # -- memory access (pools supply _address_of, _offset_of and _write_limit) -------------
    def _address_of(self, block: Block) -> int:
        raise NotImplementedError

    def _offset_of(self, block: Block) -> int:
        raise NotImplementedError

    def _read(self, block: Block, at: int, n: int) -> bytes:
        return ffi.unpack(ffi.cast("char *", self._address_of(block) + at), n)

    def _write(self, block: Block, at: int, data: bytes) -> None:
        ffi.memmove(ffi.cast("unsigned char *", self._address_of(block) + at), data, len(data))

    def _write_limit(self, block: Block) -> tuple[int, str]:
        """How many bytes from the block's start lie in the one piece of memory it is in, and
        what that piece is called (for the message)."""
        return self.memory_size - self._offset_of(block), "the pool's memory"

    def _write_unchecked(self, block: Block, at: int, data: bytes) -> None:
        limit, piece = self._write_limit(block)
        if at + len(data) > limit:
            raise BadSize(f"Block.unsafe_write: {len(data)} bytes at {at} from block "
                          f"{block.label} would leave {piece} ({limit} bytes from the block's "
                          "start); even the unsafe path stops there (write fewer bytes)")
        self._write(block, at, data)

    # -- inspection -------------------------------------------------------------------------
    @property
    def memory_size(self) -> int:
        """Bytes of the pool's memory that walk() offsets cover."""
        raise NotImplementedError

    def memory(self) -> bytes:
        """A copy of the pool's memory, indexed by walk() offsets."""
        raise NotImplementedError

    def _walk_raw(self) -> list[tuple[int, int, int, int]]:
        raise NotImplementedError

    def _owner_label(self, owner: int) -> str | None:
        return None

    def walk(self) -> list[Region]:
        """Every region of the pool's memory in address order: offset, size, kind, owner."""
        self._require_open("walk")
        return [Region(off, size, kind_name(kind), self._owner_label(owner) if owner >= 0 else None)
                for off, size, kind, owner in self._walk_raw()]

    def _check_c(self) -> str | None:
        raise NotImplementedError

    def check(self) -> None:
        """Run the checker; raise CorruptPool naming the first broken invariant."""
        self._require_open("check")
        problem = self._check_c()
        if problem:
            raise CorruptPool(f"{type(self).__name__}: {problem}")

    @property
    def stats(self) -> dict[str, int]:
        """Counters (names depend on the pool)."""
        raise NotImplementedError

    # -- the replay protocol (mempools.trace.replay, the memory map, the benchmark) --------
    def replay_alloc(self, size: int) -> Block:
        """A trace's `a id size`: a block of at least `size` bytes."""
        raise NotImplementedError

    def replay_realloc(self, block: Block, size: int) -> Block:
        """A trace's `r id size`: the block resized, contents kept up to the smaller size
        (the pool's own realloc, where it has one)."""
        return self.realloc(block, size)  # type: ignore[attr-defined]

    def replay_free(self, block: Block) -> None:
        """A trace's `f id` (the pool's own free, where it has one)."""
        self.free(block)  # type: ignore[attr-defined]

    @property
    def footprint(self) -> int:
        """Bytes of memory the pool has used so far (the denominator of utilisation)."""
        raise NotImplementedError


class CPool(Pool):
    """A pool backed by one C allocator named `<c_name>_*` in csrc/: stats come from its
    `<c_name>_stats` struct (every field, by name), walk() from `<c_name>_walk`, check() from
    `<c_name>_check`, close() from `<c_name>_destroy` (when the C owns its memory)."""

    c_name: ClassVar[str]  # e.g. "fixed_pool"
    c_stats: ClassVar[str]  # e.g. "fixed_stats"
    c_owns_memory: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self._closed = True  # until C succeeds
        self._p: Any = ffi.NULL

    def _c(self, verb: str) -> Any:
        return getattr(lib, f"{self.c_name}_{verb}")

    def _create(self, call: str, create: Any, *args: Any) -> None:
        """Run a C create function that fills a `<c_name> **`; raise naming `call` on error."""
        out = ffi.new(f"{self.c_name} **")
        raise_on(create(out, *args), call)
        self._p = out[0]
        self._closed = False

    def _destroy(self) -> None:
        if self.c_owns_memory:
            self._c("destroy")(self._p)
        self._p = ffi.NULL

    @property
    def stats(self) -> dict[str, int]:
        """Every counter of the C stats struct, by its C name."""
        self._require_open("stats")
        s = ffi.new(f"{self.c_stats} *")
        self._c("stats")(self._p, s)
        return {name: int(getattr(s, name)) for name, _ in ffi.typeof(self.c_stats).fields}

    def _walk_raw(self) -> list[tuple[int, int, int, int]]:
        return walk_c(self._c("walk"), self._p)

    def _check_c(self) -> str | None:
        return c_string(self._c("check")(self._p))


__all__ = ["CPool", "Pool", "c_string", "error_for", "raise_on", "walk_c"]
