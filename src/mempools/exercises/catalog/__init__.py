"""The exercise catalog: one folder per exercise under this package, holding `solution.c` (the
reference solution with nbgrader's solution markers) and `checks.py` (LESSON, TITLE,
DECLARATIONS - the C functions the student writes - and CHECKS, in order).

A bigger exercise (the capstone) may also set, in checks.py: SUPPORT, the stem of its own
support header and source in csrc/exercises (included for the cell, linked, declared to the
checks) and ALLOWED_CALLS, the support functions a cell may call; FORBIDDEN_CALLS, functions a
cell may not call, and FORBIDDEN_REASON; ROWS_PER_CHECK,
so `grade` writes one row per check that carries points; and it may ship `starter.c`, which
`release` puts in place of the solution instead of the not-implemented stub."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from types import ModuleType

from mempools.constants import SIZE_MAX as SIZE_MAX  # the checks' import point
from mempools.exercises.tester import Check


@dataclass(frozen=True)
class Exercise:
    """One exercise, read from its folder on first use."""

    name: str  # as in `%%exercise <name>`: the folder name with '-' for '_'

    @cached_property
    def _module(self) -> ModuleType:
        return importlib.import_module(f"{__name__}.{self.name.replace('-', '_')}.checks")

    @property
    def lesson(self) -> str:
        return self._module.LESSON

    @property
    def title(self) -> str:
        return self._module.TITLE

    @property
    def cdef(self) -> str:
        """The declarations of the functions the student writes."""
        return self._module.DECLARATIONS

    @property
    def functions(self) -> list[str]:
        """The names the student's cell must define."""
        return re.findall(r"(\w+)\s*\(", self.cdef)

    @property
    def checks(self) -> list[Check]:
        return self._module.CHECKS

    @property
    def points(self) -> int:
        return sum(c.points for c in self.checks)

    @property
    def support(self) -> str | None:
        """The stem of the exercise's own support .h/.c in csrc/exercises, if any."""
        return getattr(self._module, "SUPPORT", None)

    @property
    def forbidden_calls(self) -> dict[str, str]:
        """Symbol -> the function's name as the student wrote it, for functions a cell of this
        exercise may not call (beyond what every exercise refuses)."""
        return getattr(self._module, "FORBIDDEN_CALLS", {})

    @property
    def allowed_calls(self) -> frozenset[str]:
        """Functions of the exercise's own support a cell may call, beyond every exercise's."""
        return frozenset(getattr(self._module, "ALLOWED_CALLS", ()))

    @property
    def forbidden_reason(self) -> str:
        """Why those calls are refused, said after naming them."""
        return getattr(self._module, "FORBIDDEN_REASON", "this exercise does not allow them")

    @property
    def rows_per_check(self) -> bool:
        """Whether `grade` writes one row per check with points instead of one per exercise."""
        return getattr(self._module, "ROWS_PER_CHECK", False)

    @cached_property
    def starter(self) -> str | None:
        """What a released notebook holds in place of the solution (None: the stub)."""
        path = resources.files(__name__).joinpath(self.name.replace("-", "_"), "starter.c")
        return path.read_text() if path.is_file() else None

    @cached_property
    def solution(self) -> str:
        folder = self.name.replace("-", "_")
        return resources.files(__name__).joinpath(folder, "solution.c").read_text()


def _load() -> dict[str, Exercise]:
    folders = [entry.name for entry in resources.files(__name__).iterdir()
               if entry.is_dir() and entry.joinpath("solution.c").is_file()]
    exercises = [Exercise(folder.replace("_", "-")) for folder in folders]
    return {ex.name: ex for ex in sorted(exercises, key=lambda ex: (ex.lesson, ex.name))}


#: every exercise by name, in lesson order
CATALOG: dict[str, Exercise] = _load()
