"""Instructor tools: make the student release of exercise notebooks (solutions replaced by
stubs that compile and fail with "not implemented yet", hidden tests removed, nbgrader cell
metadata kept), and grade a folder of submissions into a CSV without running their cells."""

from __future__ import annotations

import csv
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = ["/* YOUR CODE HERE */", "mp_not_implemented();"]
MAGIC = re.compile(r"^%%exercise\s+(\S+)")


def notebooks(root: Path) -> list[Path]:
    """Every notebook under `root` (or `root` itself), checkpoints excluded."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def strip_region(lines: list[str], begin: str, end: str, stub: list[str] | None) -> list[str]:
    """Remove every begin..end region (marker lines included), putting `stub` lines, indented
    like the begin marker, in its place."""
    out: list[str] = []
    inside = False
    for line in lines:
        if begin in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out += [f"{indent}{s}\n" for s in stub or []]
        elif end in line:
            inside = False
        elif not inside:
            out.append(line)
    return out


def release_notebook(source: dict) -> dict:
    """The student version of one notebook (a dict as nbformat JSON)."""
    nb = json.loads(json.dumps(source))
    for cell in nb["cells"]:
        lines = cell["source"].splitlines(keepends=True) if isinstance(cell["source"], str) \
            else list(cell["source"])
        lines = strip_region(lines, BEGIN_SOLUTION, END_SOLUTION, STUB)
        lines = strip_region(lines, BEGIN_HIDDEN, END_HIDDEN, None)
        cell["source"] = "".join(lines)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    return nb


def release(src: Path, dst: Path) -> list[Path]:
    """Write the student version of every notebook under `src` to the same place under `dst`."""
    written = []
    for path in notebooks(src):
        target = dst / (path.relative_to(src) if src.is_dir() else path.name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(release_notebook(json.loads(path.read_text())), indent=1) + "\n")
        written.append(target)
    return written


@dataclass
class Grade:
    """One row of the grade sheet."""

    student: str
    notebook: str
    exercise: str
    score: int
    max_score: int
    status: str
    detail: str


def exercise_cells(path: Path) -> list[tuple[str, str]]:
    """(exercise name, C source) of each %%exercise cell of a notebook, in order."""
    cells = json.loads(path.read_text())["cells"]
    found = []
    for cell in cells:
        text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        match = MAGIC.match(text)
        if cell["cell_type"] == "code" and match:
            found.append((match.group(1), text.split("\n", 1)[1] if "\n" in text else ""))
    return found


def _grade_one(task: tuple[str, str, str, str]) -> Grade:
    from mempools.exercises.checking import check

    student, notebook, name, source = task
    try:
        report = check(name, source)
    except ValueError as error:  # an exercise name the catalog does not have
        return Grade(student, notebook, name, 0, 0, "unknown exercise", str(error))
    failed = [r for r in report.results if not r.passed]
    if report.error:
        status, detail = "did not compile", report.error.splitlines()[0] if report.error else ""
    elif failed:
        kinds = {r.prop for r in failed}
        status = "crashed" if kinds & {"crash", "timeout"} else "failed checks"
        detail = f"{failed[0].name}: [{failed[0].prop}] {failed[0].message}"
    else:
        status, detail = "passed", ""
    return Grade(student, notebook, name, report.score, report.max_score, status, detail[:300])


def grade(root: Path, out: Path, jobs: int | None = None) -> list[Grade]:
    """Check every exercise cell of every notebook under `root` (one folder or file per
    student), in parallel; write one CSV row per student, notebook and exercise."""
    tasks = []
    for path in notebooks(root):
        rel = path.relative_to(root) if root.is_dir() else Path(path.name)
        student = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        tasks += [(student, rel.as_posix(), name, src) for name, src in exercise_cells(path)]
    with ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        grades = list(pool.map(_grade_one, tasks))
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "notebook", "exercise", "score", "max_score", "status", "detail"])
        for g in grades:
            writer.writerow([g.student, g.notebook, g.exercise, g.score, g.max_score, g.status,
                             g.detail])
    return grades
