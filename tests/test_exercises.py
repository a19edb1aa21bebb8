"""Exercises: solutions pass, crashes of every kind become failed checks, release makes stubs
that fail cleanly, grade scores a folder of submissions."""

import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import mempools.exercises as ex
from mempools.exercises.catalog import CATALOG
from mempools.exercises.release import exercise_cells, grade, release

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "notebooks" / "exercises"


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_solution_passes_every_check(name):
    report = ex.check(name, CATALOG[name].solution)
    assert report.passed, report.text()


def test_notebook_cells_are_the_solution_files():
    """Each exercise's solution lives in catalog/<name>/solution.c; the notebook cell is that file."""
    cells = {name: src for path in sorted(EXERCISES.glob("*.ipynb")) for name, src in exercise_cells(path)}
    assert set(cells) == set(CATALOG)
    for name, src in cells.items():
        folder = Path(ex.__file__).parent / "catalog" / name.replace("-", "_")
        assert src.strip() == (folder / "solution.c").read_text().strip(), name


ARRAY = "void *ex_array_alloc(size_t n, size_t size) {{ (void)n; (void)size; {body} }}"
CRASHES = {
    "segfault": (ARRAY.format(body="return *(void **)0;"), "SIGSEGV"),
    "abort": (ARRAY.format(body="abort();"), "SIGABRT"),
    "stack overflow": ("static int deep(int n) { volatile char pad[512]; pad[0] = (char)n;"
                       " return deep(n + 1) + pad[0]; }\n"
                       + ARRAY.format(body="return (void *)(intptr_t)deep(0);"), "SIGSEGV"),
    "infinite loop": (ARRAY.format(body="for (;;) {}"), "SIGXCPU"),
    "runaway allocation": (ARRAY.format(body="for (;;) { char *p = malloc(1 << 20); p[0] = 1; }"),
                           "runaway allocation"),
}


@pytest.mark.parametrize("kind", sorted(CRASHES))
def test_crashing_submission_is_a_failed_check_and_we_survive(kind):
    source, expected = CRASHES[kind]
    report = ex.check("array-alloc", source)
    first = report.results[0]
    assert not first.passed and first.prop in ("crash", "timeout"), report.text()
    assert expected in first.message and "during: ex_array_alloc(10, 8)" in first.message
    assert report.score == 0


def test_write_outside_the_pool_fails_in_bounds():
    source = ("void *ex_bump_alloc(ex_bump *b, size_t size, size_t align) {"
              " (void)size; (void)align; return b->base + b->capacity + 64; }")
    report = ex.check("aligned-bump", source)
    props = {r.prop for r in report.results if not r.passed}
    assert "in bounds" in props or "exact fit" in props, report.text()
    assert any(r.regions for r in report.results if not r.passed)  # drawn at the failing step
    assert "mp-memmap" in report._repr_html_()


def test_compile_error_points_at_student_lines():
    report = ex.check("array-alloc", "void *ex_array_alloc(size_t n, size_t size)\n{\n  return nope;\n}\n")
    assert "student.c:3" in report.error and report.score == 0


def test_no_compiler_is_a_clear_message(monkeypatch):
    monkeypatch.setenv("CC", "no-such-cc")
    monkeypatch.setenv("PATH", "/nonexistent")
    report = ex.check("array-alloc", CATALOG["array-alloc"].solution + "/* uncached */")
    assert "install gcc or clang" in report.error


def test_shortest_failing_sequence_is_reported():
    # misaligns only when align > 8: the first failing sequence is short
    source = CATALOG["aligned-bump"].solution.replace("(align - 1)) & ~", "7) & ~").replace(
        "(uintptr_t)(align - 1)", "(uintptr_t)7")
    report = ex.check("aligned-bump", source)
    failed = report.results[0]
    assert failed.prop == "alignment" and len(failed.ops) <= 3, report.text()


def test_sanitize_mode_maps_reports_to_student_lines():
    source = ("void *ex_array_alloc(size_t n, size_t size)\n{\n"
              "    if (n == 0 || size == 0 || n > SIZE_MAX / size) return NULL;\n"
              "    char *b = malloc(n * size - 1);\n    b[n * size - 1] = 0;\n    return b;\n}\n")
    report = ex.check("array-alloc", source, sanitize=True)
    assert any("heap-buffer-overflow" in line for line in report.sanitizer)
    assert any("student.c:5" in line for line in report.sanitizer)


def test_release_makes_stubs_that_compile_and_fail_cleanly(tmp_path):
    written = release(EXERCISES, tmp_path)
    assert len(written) == len(list(EXERCISES.glob("*.ipynb")))
    for path in written:
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
        assert "mp_not_implemented();" in text
        nb = nbformat.read(path, as_version=4)
        kinds = [c.metadata.get("nbgrader", {}) for c in nb.cells]
        assert any(k.get("solution") for k in kinds) and any(k.get("grade") for k in kinds)
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"]
        reports = [o for o in outputs if "checks passed" in str(o.get("data", {}).get("text/plain", ""))]
        assert reports and all("not implemented yet" in str(o["data"]["text/plain"]) for o in reports)


def _submission(folder: Path, student: str, edits: dict[str, str]) -> None:
    target = folder / student
    target.mkdir(parents=True)
    for path in EXERCISES.glob("0[12]-Exercises.ipynb"):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            text = "".join(cell["source"])
            for name, source in edits.items():
                if text.startswith(f"%%exercise {name}\n"):
                    cell["source"] = f"%%exercise {name}\n{source}"
        (target / path.name).write_text(json.dumps(nb))


def test_grade_scores_perfect_partial_and_crashing(tmp_path):
    subs = tmp_path / "submitted"
    _submission(subs, "ada", {})
    _submission(subs, "bob", {"array-alloc": "void *ex_array_alloc(size_t n, size_t size)"
                                             " { return malloc(n * size); }"})
    _submission(subs, "cy", {"aligned-bump": "void *ex_bump_alloc(ex_bump *b, size_t s, size_t a)"
                                             " { (void)b; (void)s; (void)a; return *(void **)0; }"})
    grades = grade(subs, tmp_path / "grades.csv", jobs=2)
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert len(rows) == len(grades) == 3 * 4
    total = {s: sum(int(r["score"]) for r in rows if r["student"] == s) for s in ("ada", "bob", "cy")}
    full = sum(CATALOG[n].points for n in ("array-alloc", "find-leak", "aligned-bump", "mark-release"))
    assert total["ada"] == full
    assert total["bob"] == full - 1  # no overflow check: one property fails
    assert total["cy"] == full - CATALOG["aligned-bump"].points
    crashed = [r for r in rows if r["student"] == "cy" and r["exercise"] == "aligned-bump"][0]
    # grade runs the sanitizers by default: UBSan names the NULL load before the SIGSEGV
    assert crashed["status"] == "crashed" and "load of null pointer" in crashed["detail"]
    assert "student.c:1:" in crashed["detail"]


def test_cli_grade_and_release(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "mempools", "release", str(EXERCISES / "06-Exercises.ipynb"),
                          str(tmp_path / "rel")], capture_output=True, text=True)
    assert out.returncode == 0 and (tmp_path / "rel" / "06-Exercises.ipynb").exists()
    shutil.copy(tmp_path / "rel" / "06-Exercises.ipynb", tmp_path / "zoe.ipynb")
    (tmp_path / "rel" / "06-Exercises.ipynb").unlink()
    done = subprocess.run([sys.executable, "-m", "mempools", "grade", str(tmp_path), "--out",
                           str(tmp_path / "g.csv")], capture_output=True, text=True)
    assert done.returncode == 0 and "zoe: 0/1" in done.stdout
