"""The base every pool wrapper shares: ownership, closing, block bookkeeping, walk and check."""

from __future__ import annotations

from typing import Any

from mempools._native import ffi, lib
from mempools.block import Block, Region, require_block
from mempools.errors import (
    CorruptPool,
    DoubleFree,
    ForeignBlock,
    PoolError,
    StaleHandle,
    UseAfterClose,
    error_for,
)

KINDS = ("header", "payload", "padding", "free", "table", "untouched", "other", "footer")


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
    """Common behaviour: owns C memory, tracks the Blocks it handed out, refuses misuse."""

    #: the alignment every block of this pool is guaranteed to have
    alignment: int = 1
    #: True when an op on one block may move others (compaction): replay re-reads addresses
    moves_blocks: bool = False

    def __init__(self) -> None:
        self._closed = False
        self._blocks: dict[int, Block] = {}  # live blocks by id
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
            block._retire("stale")
        self._blocks.clear()
        self._closed = True

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            self.close()

    def _require_open(self) -> None:
        if self._closed:
            raise UseAfterClose(f"{type(self).__name__} is closed; its memory is gone")

    # -- blocks -----------------------------------------------------------------------------
    @property
    def live(self) -> list[Block]:
        """Blocks handed out and not yet freed, oldest first."""
        return list(self._blocks.values())

    def _new_block(self, size: int, label: str | None = None) -> Block:
        block = Block(self, self._serial, size, label)
        self._serial += 1
        self._blocks[block.id] = block
        return block

    def _require_live(self, value: object) -> Block:
        block = require_block(value)
        if block._pool is not self:
            raise ForeignBlock(f"block {block.label} belongs to another pool, not this one")
        self._require_open()
        if block._state == "freed":
            raise DoubleFree(f"block {block.label} was already freed")
        if block._state == "stale":
            raise StaleHandle(
                f"block {block.label} is stale: its memory was moved, released or reset"
            )
        return block

    def _forget(self, block: Block, state: str) -> None:
        block._retire(state)
        self._blocks.pop(block.id, None)

    # -- memory access (pools supply _address_of and _offset_of) ---------------------------
    def _address_of(self, block: Block) -> int:
        raise NotImplementedError

    def _offset_of(self, block: Block) -> int:
        raise NotImplementedError

    def _read(self, block: Block, at: int, n: int) -> bytes:
        return ffi.buffer(ffi.cast("unsigned char *", self._address_of(block) + at), n)[:]

    def _write(self, block: Block, at: int, data: bytes) -> None:
        ffi.memmove(ffi.cast("unsigned char *", self._address_of(block) + at), data, len(data))

    def _write_unchecked(self, block: Block, at: int, data: bytes) -> None:
        start = self._offset_of(block) + at
        if at < 0 or start + len(data) > self.memory_size:
            raise ForeignBlock(
                f"block {block.label}: writing {len(data)} bytes at {at} would leave the pool's "
                "memory altogether; even the unsafe path stops there"
            )
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
        self._require_open()
        return [
            Region(off, size, KINDS[kind], self._owner_label(owner) if owner >= 0 else None)
            for off, size, kind, owner in self._walk_raw()
        ]

    def _check_c(self) -> str | None:
        raise NotImplementedError

    def check(self) -> None:
        """Run the C checker; raise CorruptPool naming the first broken invariant."""
        self._require_open()
        problem = self._check_c()
        if problem:
            raise CorruptPool(f"{type(self).__name__}: {problem}")

    @property
    def stats(self) -> dict[str, int]:
        """Counters from C (names depend on the pool)."""
        raise NotImplementedError

    # -- trace replay protocol (used by mempools.trace.replay) -------------------------------
    def _trace_alloc(self, size: int) -> Block:
        raise NotImplementedError

    def _trace_realloc(self, block: Block, size: int) -> Block:
        raise NotImplementedError

    def _trace_free(self, block: Block) -> None:
        raise NotImplementedError

    def _footprint(self) -> int:
        """Bytes of memory the pool has used so far (for utilisation)."""
        raise NotImplementedError


def raise_on(code: int, message: str) -> None:
    """Raise the mapped exception when a C call returned a nonzero error code."""
    if code:
        raise error_for(code, message)


def c_string(ptr: Any) -> str | None:
    return None if ptr == ffi.NULL else ffi.string(ptr).decode()


__all__ = ["KINDS", "Pool", "PoolError", "c_string", "raise_on", "walk_c"]
