"""Instructor tools: make the student release of exercise notebooks (solutions replaced by
stubs that compile and fail with "not implemented yet", hidden tests removed, nbgrader cell
metadata kept), and grade a folder of submissions into a CSV without running their cells."""

from __future__ import annotations

import csv
import json
import os
import re
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mempools.exercises.report import Report

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = ["/* YOUR CODE HERE */", "mp_not_implemented();"]
MAGIC = re.compile(r"^%%exercise\s+(\S+)")
NOTEBOOK_BYTES = 20 * 2**20  # a submitted notebook larger than this is not read: unreadable
UNKNOWN_ROWS = 10  # rows per student for %%exercise names the catalog does not have


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
    """One row of the grade sheet: one student, one catalogued exercise."""

    student: str
    notebook: str
    exercise: str
    score: int
    max_score: int
    status: str  # passed, failed checks, crashed, did not compile, missing, duplicate, ...
    detail: str

    def cells(self) -> list[str | int]:
        return [spreadsheet_safe(self.student), spreadsheet_safe(self.notebook),
                spreadsheet_safe(self.exercise), self.score, self.max_score, self.status,
                spreadsheet_safe(self.detail)]


HEADER = ["student", "notebook", "exercise", "score", "max_score", "status", "detail"]
LESSON_PREFIX = re.compile(r"^(\d\d)-")


def spreadsheet_safe(text: str) -> str:
    """A CSV cell no spreadsheet runs as a formula: a leading = + - @ (or tab, CR), also after
    leading white space, gets a '."""
    return "'" + text if text[:1] in ("\t", "\r") or text.lstrip()[:1] in ("=", "+", "-", "@") \
        else text


def exercise_cells(path: Path) -> list[tuple[str, str]]:
    """(exercise name, C source) of each %%exercise cell of a notebook, in order; raises
    ValueError when the file is not a notebook."""
    try:
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):  # it could point at another student's notebook
            raise ValueError("a symbolic link, not a notebook of the submission's own")
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the whole run
            raise ValueError("not a regular file")
        if info.st_size > NOTEBOOK_BYTES:
            raise ValueError(f"larger than {NOTEBOOK_BYTES // 2**20} MiB")
        cells = json.loads(path.read_text())["cells"]
        found = []
        for cell in cells:
            text = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            match = MAGIC.match(text)
            if cell["cell_type"] == "code" and match:
                found.append((match.group(1), text.split("\n", 1)[1] if "\n" in text else ""))
        return found
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as error:
        raise ValueError(f"{path.name} is not a readable notebook ({type(error).__name__}: "
                         f"{error})"[:200]) from None


@dataclass
class Submission:
    """What one student handed in: the cells per exercise name (in order) and the notebooks
    that could not be read."""

    student: str
    cells: dict[str, list[tuple[str, str]]]  # exercise -> [(notebook, source), ...]
    unreadable: list[str]
    lessons: set[str]


def collect(root: Path) -> list[Submission]:
    """One Submission per student: a folder under `root` per student, or one notebook each."""
    by_student: dict[str, Submission] = {}
    for path in notebooks(root):
        rel = path.relative_to(root) if root.is_dir() else Path(path.name)
        student = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        sub = by_student.setdefault(student, Submission(student, {}, [], set()))
        prefix = LESSON_PREFIX.match(path.name)
        if prefix:
            sub.lessons.add(prefix.group(1))
        try:
            found = exercise_cells(path)
        except ValueError as error:
            sub.unreadable.append(f"{rel.as_posix()}: {error}")
            continue
        for name, source in found:
            sub.cells.setdefault(name, []).append((rel.as_posix(), source))
    return [by_student[s] for s in sorted(by_student)]


def grade(root: Path, out: Path, jobs: int | None = None, sanitize: bool = True) -> list[Grade]:
    """Grade every student under `root` into the CSV `out` (and per-student totals beside it):
    one row per student per catalogued exercise of the lessons handed in, missing, duplicate
    and unreadable ones included. Each distinct (exercise, source) is built and checked once,
    in a build cache private to this run."""
    from mempools.exercises.catalog import CATALOG

    submissions = collect(root)
    handed_in = {sub.student: sub.lessons | {CATALOG[n].lesson for n in sub.cells if n in CATALOG}
                 for sub in submissions}
    # A lesson is expected of everyone once most students handed it in; what one student adds
    # (a cell naming another lesson's exercise, a notebook named 07-...) adds rows for them only.
    everyone = {lesson for lesson in set().union(*handed_in.values())
                if 2 * sum(lesson in mine for mine in handed_in.values()) > len(submissions)}
    distinct = sorted({(name, cells[-1][1]) for sub in submissions
                       for name, cells in sub.cells.items() if name in CATALOG})
    with tempfile.TemporaryDirectory(prefix="mempools-grade-") as cache, \
            ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        reports = dict(zip(distinct, pool.map(
            lambda task: _check(task, Path(cache), sanitize), distinct)))
    grades = [row for sub in submissions
              for row in _rows(sub, [name for name, ex in CATALOG.items()
                                     if ex.lesson in everyone | handed_in[sub.student]], reports)]
    write_csv(out, grades)
    write_totals(out.with_name(out.stem + "-totals.csv"), grades)
    return grades


def _check(task: tuple[str, str], cache: Path, sanitize: bool) -> Report:
    from mempools.exercises.checking import check

    return check(task[0], task[1], sanitize=sanitize, cache=cache)


def _rows(sub: Submission, expected: list[str], reports: dict) -> list[Grade]:
    from mempools.exercises.catalog import CATALOG

    rows = []
    for name in expected:
        cells = sub.cells.get(name, [])
        points = CATALOG[name].points
        if not cells:
            status = "unreadable" if sub.unreadable else "missing"
            detail = "; ".join(sub.unreadable) if sub.unreadable else \
                f"no %%exercise {name} cell in the submission"
            rows.append(Grade(sub.student, "", name, 0, points, status, detail))
            continue
        notebook, source = cells[-1]
        report = reports[(name, source)]
        status, detail = _verdict(report)
        if len(cells) > 1:
            detail = (f"{len(cells)} cells for {name}; only the last one counts ({status}"
                      + (f": {detail}" if detail else "") + ")")
            status = "duplicate"
        rows.append(Grade(sub.student, notebook, name, report.score, report.max_score, status,
                          detail[:300]))
    unknown = sorted(set(sub.cells) - set(CATALOG))
    listed = unknown[:UNKNOWN_ROWS]
    for name in listed:
        notebook = sub.cells[name][-1][0]
        more = len(unknown) - len(listed) if name == listed[-1] else 0
        rows.append(Grade(sub.student, notebook, name[:60], 0, 0, "unknown exercise",
                          "the %%exercise line names no catalogued exercise"
                          + (f" ({more} more such names not listed)" if more else "")))
    return rows


def _verdict(report: Report) -> tuple[str, str]:
    failed = [r for r in report.results if not r.passed]
    if report.error:
        first = next((line for line in report.error.splitlines() if "error" in line),
                     report.error.splitlines()[0])
        return "did not compile", first
    if not failed:
        return "passed", ""
    kinds = {r.prop for r in failed}
    status = ("forged result" if "forged" in kinds else "not implemented" if "implemented" in kinds
              else "crashed" if kinds & {"crash", "timeout", "sanitizer"} else "failed checks")
    return status, f"{failed[0].name}: [{failed[0].prop}] {failed[0].message}"


def write_csv(out: Path, grades: list[Grade]) -> None:
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(g.cells() for g in grades)


def write_totals(out: Path, grades: list[Grade]) -> None:
    """One row per student: points scored, points possible, exercises with full marks."""
    with out.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", "exercises_passed", "exercises"])
        for student in sorted({g.student for g in grades}):
            mine = [g for g in grades if g.student == student and g.max_score]
            writer.writerow([spreadsheet_safe(student), sum(g.score for g in mine),
                             sum(g.max_score for g in mine),
                             sum(g.score == g.max_score for g in mine), len(mine)])
