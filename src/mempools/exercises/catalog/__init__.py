"""The exercise catalog: one folder per exercise under this package, holding `solution.c` (the
reference solution with nbgrader's solution markers) and `checks.py` (LESSON, TITLE,
DECLARATIONS - the C functions the student writes - and CHECKS, in order)."""

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
        return len(self.checks)

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
