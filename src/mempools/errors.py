"""The exceptions mempools raises. A leaf: no C, no other mempools module.

Misuse derives from ValueError, running out of memory from MemoryError, and both from
PoolError. Building C (no compiler, a compile error) is not pool misuse: those derive from
RuntimeError only."""

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
    """The block, handle or mark was valid once, but was freed, moved, reset or released past."""


class BadSize(PoolMisuse):
    """A size, count, offset or index that is not an integer, out of range, or overflows."""


class BadAlignment(PoolMisuse):
    """An alignment that is not a power of two, or too small for the pool."""


class UseAfterClose(PoolMisuse):
    """The pool was closed; its memory is gone."""


class LockError(PoolMisuse):
    """A locked block cannot be freed or moved, or an unlocked one cannot be unlocked."""


class CorruptPool(PoolError):
    """The pool's checker found a broken invariant (after an unsafe write, say)."""


class NoCompiler(RuntimeError):
    """No C compiler on PATH, or the C sources are missing: C cannot be built here."""


class CompileError(RuntimeError):
    """C source (a lesson's program or a student's exercise) did not compile."""
