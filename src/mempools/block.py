"""Blocks, handles and regions: what a pool hands out and what its walker reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from mempools.errors import BadSize, ForeignBlock

if TYPE_CHECKING:
    from mempools.pool import Pool


class Region(NamedTuple):
    """One run of bytes in a pool's memory, as its walker reports it."""

    offset: int
    size: int
    kind: str  # header, payload, padding, free, table, untouched, other, footer
    owner: str | None  # the block's label for payload/padding, else None


class Block:
    """A piece of pool memory: offset from the pool's start, size, address, bounds-checked I/O.

    A Block goes stale when its pool frees, moves, resets or closes it; every use then raises.
    """

    __slots__ = ("_pool", "_state", "id", "label", "size", "where")

    def __init__(self, pool: Pool, block_id: int, size: int, label: str | None = None) -> None:
        self._pool = pool
        self._state = "live"  # live, freed, stale
        self.id = block_id
        self.label = label or f"#{block_id}"
        self.size = size
        self.where = ""  # filled by pools that record where a block was made

    def __repr__(self) -> str:
        state = "" if self._state == "live" else f", {self._state}"
        off = self._pool._offset_of(self) if self._state == "live" and not self._pool.closed else "?"
        return f"<Block {self.label} offset={off} size={self.size}{state}>"

    @property
    def live(self) -> bool:
        """True until the block is freed, moved away from, reset or its pool closed."""
        return self._state == "live" and not self._pool.closed

    @property
    def offset(self) -> int:
        """Bytes from the start of the pool's memory to the first payload byte."""
        self._pool._require_live(self)
        return self._pool._offset_of(self)

    @property
    def address(self) -> int:
        """The real address of the first byte (differs between runs; print offsets instead)."""
        self._pool._require_live(self)
        return self._pool._address_of(self)

    def _span(self, n: int | None, at: int) -> tuple[int, int]:
        if isinstance(at, bool) or not isinstance(at, int) or at < 0 or at > self.size:
            raise BadSize(f"block {self.label}: offset {at!r} is outside 0..{self.size}")
        n = self.size - at if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or n < 0 or at + n > self.size:
            raise BadSize(
                f"block {self.label}: {n!r} bytes at {at} run past its {self.size} bytes"
            )
        return at, n

    def read(self, n: int | None = None, at: int = 0) -> bytes:
        """The block's bytes [at, at+n) (all of them by default); refuses to read past the end."""
        self._pool._require_live(self)
        at, n = self._span(n, at)
        return self._pool._read(self, at, n)

    def write(self, data: bytes, at: int = 0) -> None:
        """Copy `data` into the block at `at`; refuses to write past the end."""
        self._pool._require_live(self)
        data = bytes(data)
        self._span(len(data), at)
        self._pool._write(self, at, data)

    def unsafe_write(self, data: bytes, at: int = 0) -> None:
        """Write WITHOUT the bounds check, as C code would: lessons use it to show an overflow.

        Still refuses to write outside the pool's own memory, so the interpreter survives.
        """
        self._pool._require_live(self)
        self._pool._write_unchecked(self, at, bytes(data))

    def _retire(self, state: str) -> None:
        self._state = state


def require_block(value: object) -> Block:
    """`value` if it is a Block, else a clear ForeignBlock-like error."""
    if not isinstance(value, Block):
        raise ForeignBlock(f"expected a Block, got {type(value).__name__} {value!r}")
    return value


__all__ = ["Block", "Region", "require_block"]
