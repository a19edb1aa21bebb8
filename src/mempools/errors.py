"""The exceptions every pool raises, and the mapping from the C error codes to them."""

from __future__ import annotations


class PoolError(Exception):
    """Base class of every error a mempools allocator raises."""


class OutOfMemory(PoolError, MemoryError):
    """The request cannot be met: the pool (or the C library) has no room for it."""


class PoolMisuse(PoolError, ValueError):
    """The call itself is wrong; the pool is unchanged."""


class DoubleFree(PoolMisuse):
    """The block was already freed."""


class ForeignBlock(PoolMisuse):
    """The block, pointer or mark does not belong to this pool."""


class StaleHandle(PoolMisuse):
    """The block or handle was valid once, but was freed, moved by realloc, reset or released."""


class BadSize(PoolMisuse):
    """A size that is negative, zero, not an integer, or whose arithmetic overflows."""


class BadAlignment(PoolMisuse):
    """An alignment that is not a power of two, or too small for the pool."""


class UseAfterClose(PoolMisuse):
    """The pool was closed; its memory is gone."""


class LockError(PoolMisuse):
    """A locked block cannot be freed or moved, or an unlocked one cannot be unlocked."""


class CorruptPool(PoolError):
    """The pool's checker found a broken invariant."""


# C error code (pool_common.h) -> exception class.
_BY_CODE: dict[int, type[PoolError]] = {
    1: OutOfMemory,
    2: PoolMisuse,
    3: BadSize,
    4: BadAlignment,
    5: DoubleFree,
    6: ForeignBlock,
    7: StaleHandle,
    8: LockError,
    9: LockError,
}


def error_for(code: int, message: str) -> PoolError:
    """The exception for a nonzero C error code, with a message naming what was wrong."""
    from mempools._native import ffi, lib

    name = ffi.string(lib.pool_error_name(code)).decode()
    return _BY_CODE.get(code, PoolError)(f"{message}: {name}")
