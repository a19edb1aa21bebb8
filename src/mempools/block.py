"""Blocks and regions: what a pool hands out and what its walker reports."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, NamedTuple

from mempools.errors import BadSize, PoolMisuse

if TYPE_CHECKING:
    from mempools.pool import Pool


class Region(NamedTuple):
    """One run of bytes in a pool's memory, as its walker reports it."""

    offset: int
    size: int
    kind: str  # header, payload, padding, free, table, untouched, other, footer
    owner: str | None  # the block's label for payload/padding, else None


def _span_index(value: object, what: str, call: str) -> int:
    """`value` as a non-negative int (numpy integers too, bool refused), else BadSize."""
    if isinstance(value, bool):
        raise BadSize(f"{call}: {what} must be a whole number of bytes, not {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise BadSize(f"{call}: {what} must be a whole number of bytes, not "
                      f"{type(value).__name__} {value!r}") from None
    if n < 0:
        raise BadSize(f"{call}: {what} must not be negative (got {n})")
    return n


class Block:
    """A piece of pool memory: offset from the pool's start, size, address, bounds-checked I/O.

    Only the pool that made a Block can use it: pools look blocks up by identity, and `id`,
    `size` and the owning pool are read-only. A Block goes stale when its pool frees, moves,
    resets or closes it; every use then raises. `label` is only a name for pictures.
    """

    # _label and _where stay unset until given (fewer stores per alloc: the hot path, issue 18);
    # a pool's hot path may build a Block with object.__new__ and set the five others itself
    __slots__ = ("_at", "_id", "_label", "_pool", "_size", "_state", "_where")

    def __init__(self, pool: Pool, block_id: int, size: int, label: str | None = None,
                 at: object = None) -> None:
        self._pool = pool
        self._state = "live"  # live, freed, stale
        self._id = block_id
        self._size = size
        self._at = at  # where the pool keeps it (an index, an offset, a pointer): O(1) lookups
        if label:
            self._label = label

    @property
    def label(self) -> str:
        """A name for pictures and messages: "#<id>" unless set."""
        return getattr(self, "_label", None) or f"#{self._id}"

    @label.setter
    def label(self, value: str) -> None:
        self._label = value

    @property
    def where(self) -> str:
        """Where the block was made ("file.py:LINE"), for pools that record it; else ""."""
        return getattr(self, "_where", "")

    @where.setter
    def where(self, value: str) -> None:
        self._where = value

    @property
    def id(self) -> int:
        """The pool's serial number for this block (read-only)."""
        return self._id

    @property
    def size(self) -> int:
        """Bytes the caller asked for; read and write stay inside them (read-only)."""
        return self._size

    @property
    def pool(self) -> Pool:
        """The pool that handed this block out."""
        return self._pool

    def __repr__(self) -> str:
        off = self._pool._offset_of(self) if self.live else "?"
        state = "" if self.live else f", {self._state if self._state != 'live' else 'stale'}"
        return f"<Block {self.label} offset={off} size={self._size}{state}>"

    @property
    def live(self) -> bool:
        """True until the block is freed, moved away from, reset or its pool closed."""
        return self._state == "live" and not self._pool.closed and self._pool._owns(self)

    @property
    def offset(self) -> int:
        """Bytes from the start of the pool's memory to the first payload byte."""
        return self._pool._offset_of(self._pool._require_live(self, "Block.offset"))

    @property
    def address(self) -> int:
        """The real address of the first byte (differs between runs; print offsets instead)."""
        return self._pool._address_of(self._pool._require_live(self, "Block.address"))

    def _span(self, n: object, at: object, call: str) -> tuple[int, int]:
        start = _span_index(at, "at", call)
        if start > self._size:
            raise BadSize(f"{call}: at={start} is past the end of block {self.label} "
                          f"({self._size} bytes; use 0..{self._size})")
        count = self._size - start if n is None else _span_index(n, "n", call)
        if count > self._size - start:
            raise BadSize(f"{call}: {count} bytes at {start} run past the end of block "
                          f"{self.label} ({self._size} bytes; at most {self._size - start} fit)")
        return start, count

    def read(self, n: int | None = None, at: int = 0) -> bytes:
        """The block's bytes [at, at+n) (all of them by default); refuses to read past the end."""
        pool = self._pool
        pool._require_live(self, "Block.read")
        size = self._size
        # plain ints inside the block skip the general checks (which would pass them)
        if type(at) is int and 0 <= at <= size and (
                n is None or type(n) is int and 0 <= n <= size - at):
            return pool._read(self, at, size - at if n is None else n)
        start, count = self._span(n, at, "Block.read")
        return pool._read(self, start, count)

    def write(self, data: bytes, at: int = 0) -> None:
        """Copy `data` into the block at `at`; refuses to write past the end."""
        pool = self._pool
        pool._require_live(self, "Block.write")
        payload = data if type(data) is bytes else _as_bytes(data, "Block.write")
        if type(at) is int and 0 <= at and at + len(payload) <= self._size:
            pool._write(self, at, payload)
            return
        start, count = self._span(len(payload), at, "Block.write")
        pool._write(self, start, payload)

    def unsafe_write(self, data: bytes, at: int = 0) -> None:
        """Write WITHOUT the block's bounds check, as buggy C code would: lessons use it to show
        an overflow into a neighbour or into the pool's own bookkeeping.

        What can happen: neighbouring blocks and the pool's in-memory metadata (a free list's
        next pointers, say) are overwritten, so later calls may raise CorruptPool. What cannot:
        the write never leaves the one piece of memory the block lies in (the pool's buffer,
        the bump chunk, the bytes libc reserved for a malloc block), so the interpreter lives."""
        self._pool._require_live(self, "Block.unsafe_write")
        payload = _as_bytes(data, "Block.unsafe_write")
        start = _span_index(at, "at", "Block.unsafe_write")
        self._pool._write_unchecked(self, start, payload)


def _as_bytes(data: object, call: str) -> bytes:
    if isinstance(data, str):
        raise PoolMisuse(f"{call}: data must be bytes, not str (encode it: {data[:16]!r}.encode())")
    try:
        return bytes(memoryview(data))  # type: ignore[arg-type]
    except TypeError:
        raise PoolMisuse(f"{call}: data must be bytes-like, not {type(data).__name__}") from None


__all__ = ["Block", "Region"]
