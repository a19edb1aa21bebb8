"""`python -m mempools grade --bench N`: grade N generated students (every catalogued exercise,
each student's sources distinct, so nothing is shared between them) and report seconds per row."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from mempools.exercises import sandbox
from mempools.exercises.catalog import CATALOG
from mempools.exercises.release import grade, rows_of

# What a generated student adds to the reference solution, in turn: nothing (every check
# passes), a compile error, and a constructor that aborts (so every check needs its own child:
# the slowest case).
VARIANTS = ["", "#error this cell does not compile\n",
            "__attribute__((constructor)) static void boom(void) { abort(); }\n"]


def _notebook(cells: list[str]) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [],
                       "execution_count": None} for c in cells],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def write_students(root: Path, students: int) -> int:
    """Write `students` submissions under `root`; returns the number of rows they make (one
    per exercise, or one per graded check for an exercise graded per check)."""
    lessons = sorted({ex.lesson for ex in CATALOG.values()})
    for s in range(students):
        folder = root / f"student{s:03d}"
        folder.mkdir(parents=True)
        for lesson in lessons:
            cells = []
            for name, ex in CATALOG.items():
                if ex.lesson == lesson:
                    variant = VARIANTS[(s + len(cells)) % len(VARIANTS)]
                    cells.append(f"%%exercise {name}\n/* student {s} */\n{variant}{ex.solution}")
            (folder / f"{lesson}-Exercises.ipynb").write_text(json.dumps(_notebook(cells)))
    return students * sum(len(rows_of(name)) for name in CATALOG)


def run(students: int, jobs: int | None, sanitize: bool) -> str:
    with tempfile.TemporaryDirectory(prefix="mempools-bench-") as tmp:
        root = Path(tmp) / "submitted"
        rows = write_students(root, students)
        start = time.perf_counter()
        grades = grade(root, Path(tmp) / "grades.csv", jobs, sanitize=sanitize)
        seconds = time.perf_counter() - start
    if len(grades) != rows:
        raise RuntimeError(f"grading made {len(grades)} rows for {rows} exercise cells")
    where = "bubblewrap sandbox" if sandbox.sandboxed() else "fallback limits (no bubblewrap)"
    return (f"graded {rows} rows ({students} students x {len(CATALOG)} exercises) in "
            f"{seconds:.1f} s on {jobs or os.cpu_count()} workers: {seconds / rows:.2f} s per row "
            f"({where}, sanitizers {'on' if sanitize else 'off'})")
