"""What a check sees in the child process: the compiled student module, an op log the parent
reads even if the process dies, and the way to fail with a named property and a memory map."""

from __future__ import annotations

import json
import sys
from typing import Any

NOT_IMPLEMENTED = "not implemented yet: replace the YOUR CODE HERE stub"


class CheckFailed(Exception):
    """A property did not hold: its name, what went wrong, and the memory at that step."""

    def __init__(self, prop: str, message: str, regions: list[tuple[int, int, str, str | None]]
                 | None = None) -> None:
        super().__init__(message)
        self.prop, self.message, self.regions = prop, message, regions or []


class Tester:
    """Handed to every check: `ffi`, `lib`, `op()` to log an operation, `fail()`."""

    def __init__(self, ffi: Any, lib: Any, out: Any = None) -> None:
        self.ffi, self.lib = ffi, lib
        self.ops: list[str] = []
        self._out = out or sys.stdout

    def op(self, text: str) -> None:
        """Record an operation before doing it: if the process dies, this is the last one."""
        self.ops.append(text)
        self._out.write(json.dumps({"event": "op", "text": text}) + "\n")
        self._out.flush()

    def fail(self, prop: str, message: str,
             regions: list[tuple[int, int, str, str | None]] | None = None) -> None:
        raise CheckFailed(prop, message, regions)

    def require_implemented(self) -> None:
        if self.lib.mp_was_not_implemented():
            self.fail("implemented", NOT_IMPLEMENTED)

    def address(self, ptr: Any) -> int:
        return int(self.ffi.cast("uintptr_t", ptr))
