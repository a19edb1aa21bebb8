"""What a check sees in the child process: the compiled student module, an op log sent to the
parent before each operation (so the last one is known even if the student's code kills the
process), and the way to fail with a named property and a memory map. Imports nothing heavy:
the check child loads only this, the catalog loader and one exercise's checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

Regions = list[tuple[int, int, str, "str | None"]]


class CheckFailed(Exception):
    """A property did not hold: its name, what went wrong, and the memory at that step."""

    def __init__(self, prop: str, message: str, regions: Regions | None = None) -> None:
        super().__init__(message)
        self.prop, self.message, self.regions = prop, message, regions or []


@dataclass
class Ledger:
    """The tracked allocator's ledger file (EX_LEDGER), read as it grows: the live blocks with
    their sizes, and the frees of pointers it never handed out. Counted here from what the
    allocator appended, so nothing a cell overwrites in its own process changes the count."""

    file: BinaryIO
    live: dict[int, int] = field(default_factory=dict)
    foreign: int = 0
    _rest: bytes = b""

    def update(self) -> Ledger:
        *lines, self._rest = (self._rest + self.file.read()).split(b"\n")
        for line in lines:
            what, block, size = line.split()
            address = int(block, 16)
            if what == b"A":
                self.live[address] = int(size)
            elif what == b"F" and address in self.live:
                del self.live[address]
            else:
                self.foreign += 1
        return self


class Tester:
    """Handed to every check: `ffi`, `lib`, `op()` to log an operation, `fail()`, and what the
    allocator's ledger says (`live_blocks()`, `block_size()`, `foreign_frees()`)."""

    def __init__(self, ffi: Any, lib: Any, send: Callable[[dict], None] | None = None,
                 ledger: Ledger | None = None) -> None:
        self.ffi, self.lib = ffi, lib
        self.ops: list[str] = []
        self._send = send or (lambda event: None)
        self._ledger = ledger

    def op(self, text: str) -> None:
        """Record an operation before doing it: if the process dies, this is the last one."""
        self.ops.append(text)
        self._send({"event": "op", "text": text})

    def fail(self, prop: str, message: str, regions: Regions | None = None) -> None:
        raise CheckFailed(prop, message, regions)

    def address(self, ptr: Any) -> int:
        return int(self.ffi.cast("uintptr_t", ptr))

    def live_blocks(self) -> int:
        """Blocks the tracked allocator handed out and nobody freed (no cell can reset this)."""
        if self._ledger is None:
            return int(self.lib.tracked_live())
        return len(self._ledger.update().live)

    def block_size(self, ptr: Any) -> int:
        """Bytes requested for the live block at `ptr`; 0 if the allocator never handed it out."""
        if self._ledger is None:
            return int(self.lib.ex_block_size(ptr))
        return self._ledger.update().live.get(self.address(ptr), 0)

    def foreign_frees(self) -> int:
        """Frees of pointers the tracked allocator never handed out."""
        if self._ledger is None:
            return int(self.lib.ex_foreign_frees())
        return self._ledger.update().foreign


@dataclass(frozen=True)
class Check:
    """One property, worth one point."""

    name: str
    run: Callable[[Tester], None]


class Checks(list[Check]):
    """An exercise's checks in order; `@checks("what it tests")` adds one."""

    def __call__(self, name: str) -> Callable[[Callable[[Tester], None]], Callable[[Tester], None]]:
        def register(fn: Callable[[Tester], None]) -> Callable[[Tester], None]:
            self.append(Check(name, fn))
            return fn
        return register


def spans_map(spans: list[tuple[int, int, str]], capacity: int, kind: str = "payload") -> Regions:
    """Regions for the memory map: spans (offset, size, label) of `kind`, free bytes between."""
    regions: Regions = []
    cursor = 0
    for off, size, label in sorted(spans):
        if off > cursor:
            regions.append((cursor, off - cursor, "free", None))
        regions.append((off, size, kind, label))
        cursor = max(cursor, off + size)
    if cursor < capacity:
        regions.append((cursor, capacity - cursor, "free", None))
    return regions
