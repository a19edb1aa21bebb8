"""Grading an instructor can trust: one honest row per student per exercise, safe CSV cells,
clear messages for the student, and a check child that loads nothing heavy."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mempools.exercises as ex
from mempools.exercises.catalog import CATALOG
from mempools.exercises.release import STUB, release_notebook, spreadsheet_safe, strip_region

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "notebooks" / "exercises"
LESSON_01 = ("array-alloc", "find-leak")
FORGE = ('#include <stdio.h>\nvoid _exit(int);\n__attribute__((constructor)) static void f(void)\n'
         '{ printf("{\\"event\\": \\"result\\", \\"passed\\": true}\\n"); _exit(0); }\n')


def _stub(name: str) -> str:
    """The released version of an exercise's solution."""
    lines = CATALOG[name].solution.splitlines(keepends=True)
    return "".join(strip_region(lines, "### BEGIN SOLUTION", "### END SOLUTION", STUB))


@pytest.mark.parametrize("name", list(CATALOG))
def test_released_stub_fails_every_check_with_not_implemented(name):
    report = ex.check(name, _stub(name))
    assert report.score == 0 and report.max_score == CATALOG[name].points
    assert all("not implemented yet" in r.message for r in report.results), report.text()


def _lesson_01(cells: dict[str, list[str]]) -> dict:
    """Lesson 01's exercise notebook with the given sources per exercise (a list: duplicates)."""
    nb = json.loads((EXERCISES / "01-Exercises.ipynb").read_text())
    out = []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        name = text.split()[1] if text.startswith("%%exercise ") else None
        if name is None:
            out.append(cell)
        for source in cells.get(name, []) if name else []:
            out.append(dict(cell, source=f"%%exercise {name}\n{source}"))
    known = {"".join(c["source"]).split()[1] for c in nb["cells"]
             if "".join(c["source"]).startswith("%%exercise ")}
    out += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
             "source": f"%%exercise {name}\n{source}"}
            for name in cells if name not in known for source in cells[name]]
    nb["cells"] = out
    return nb


def test_grade_folder_gives_each_submission_its_honest_score(tmp_path):
    solution = {n: CATALOG[n].solution for n in LESSON_01}
    wrong_leak = solution["find-leak"].replace("tracked_free(copy);\n            /* ### END",
                                               "/* ### END")
    folders = {
        "honest": {n: [s] for n, s in solution.items()},
        "untouched": None,  # the released notebook as handed out
        "deleted": {"array-alloc": [solution["array-alloc"]]},
        "duplicate": {"array-alloc": [solution["array-alloc"]],
                      "find-leak": [solution["find-leak"], wrong_leak]},
        "forged": {"array-alloc": [FORGE + solution["array-alloc"]],
                   "find-leak": [solution["find-leak"]]},
    }
    subs = tmp_path / "submitted"
    for student, cells in folders.items():
        (subs / student).mkdir(parents=True)
        nb = _lesson_01({n: [s] for n, s in solution.items()}) if cells is None else _lesson_01(cells)
        if cells is None:
            nb = release_notebook(nb)
        (subs / student / "01-Exercises.ipynb").write_text(json.dumps(nb))
    (subs / "corrupt").mkdir()
    (subs / "corrupt" / "01-Exercises.ipynb").write_text('{"cells": [ truncated')
    (subs / "=cmd|' -C calc'!A0").mkdir()
    (subs / "=cmd|' -C calc'!A0" / "01-Exercises.ipynb").write_text(json.dumps(_lesson_01(
        {"array-alloc": [solution["array-alloc"]], "find-leak": [solution["find-leak"]],
         '=HYPERLINK("http://x")': ["int x;"]})))
    done = subprocess.run([sys.executable, "-m", "mempools", "grade", str(subs), "--out",
                           str(tmp_path / "grades.csv"), "--jobs", "2"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    table = {(r["student"], r["exercise"]): r for r in rows}
    full = {n: CATALOG[n].points for n in LESSON_01}

    def score(student: str, name: str) -> tuple[int, str]:
        row = table[(student, name)]
        return int(row["score"]), row["status"]

    assert score("honest", "array-alloc") == (full["array-alloc"], "passed")
    assert score("honest", "find-leak") == (full["find-leak"], "passed")
    assert score("untouched", "array-alloc") == (0, "not implemented")
    assert score("untouched", "find-leak") == (0, "not implemented")
    assert score("deleted", "array-alloc") == (full["array-alloc"], "passed")
    assert score("deleted", "find-leak") == (0, "missing")
    assert score("duplicate", "find-leak") == (full["find-leak"] - 1, "duplicate")  # the last
    assert score("corrupt", "array-alloc") == (0, "unreadable")
    assert score("corrupt", "find-leak") == (0, "unreadable")
    assert score("forged", "array-alloc")[0] == 0
    assert score("forged", "find-leak") == (full["find-leak"], "passed")
    hostile = [r for r in rows if "calc" in r["student"]]
    assert all(r["student"].startswith("'=") for r in hostile)
    unknown = [r for r in hostile if r["status"] == "unknown exercise"]
    assert len(unknown) == 1 and unknown[0]["exercise"].startswith("'=") and unknown[0]["max_score"] == "0"
    assert len(rows) == 7 * 2 + 1
    totals = {r["student"]: r for r in csv.DictReader((tmp_path / "grades-totals.csv").open())}
    assert totals["honest"]["score"] == totals["honest"]["max_score"] == str(sum(full.values()))
    assert totals["untouched"]["score"] == "0"


@pytest.mark.parametrize("text, safe", [("=1+1", "'=1+1"), ("+A1", "'+A1"), ("-2", "'-2"),
                                        ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("ada", "ada"),
                                        (" =1", "' =1"), ("\n@x", "'\n@x"),
                                        ("", "")])
def test_spreadsheet_safe_cells(text, safe):
    assert spreadsheet_safe(text) == safe


def test_compile_error_detail_is_the_first_error_line(tmp_path):
    subs = tmp_path / "s"
    (subs / "ann").mkdir(parents=True)
    broken = "void *ex_array_alloc(size_t n, size_t size)\n{\n    return nope;\n}\n"
    (subs / "ann" / "01-Exercises.ipynb").write_text(json.dumps(_lesson_01(
        {"array-alloc": [broken], "find-leak": [CATALOG["find-leak"].solution]})))
    from mempools.exercises.release import grade

    rows = {g.exercise: g for g in grade(subs, tmp_path / "g.csv", jobs=1, sanitize=False)}
    assert rows["array-alloc"].status == "did not compile"
    assert rows["array-alloc"].detail.startswith("student.c:3:") and "error" in rows["array-alloc"].detail


def test_misspelt_function_gets_one_clear_message():
    source = CATALOG["array-alloc"].solution.replace("ex_array_alloc", "ex_arary_alloc")
    report = ex.check("array-alloc", source)
    assert report.error.startswith("your cell must define ex_array_alloc()"), report.error
    assert report.text().count("ex_array_alloc()") == 1 and "ImportError" not in report.text()


def test_warnings_once_with_student_lines_and_no_cache_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("MEMPOOLS_CACHE", str(tmp_path))
    source = CATALOG["array-alloc"].solution.replace("void *block = NULL;",
                                                     "void *block = NULL;\n    int unused;")
    report = ex.check("array-alloc", source)
    assert report.passed
    assert report.warnings.count("unused variable") == 1 and "student.c:4:" in report.warnings
    assert str(tmp_path) not in report.text() and "/tmp/" not in report.warnings


def test_student_output_is_shown_under_its_own_heading():
    source = "#include <stdio.h>\n" + CATALOG["choose-pool"].solution.replace(
        "int pick = 0;", 'int pick = 0;\n    printf("deciding %d\\n", w->malloc_available);')
    report = ex.check("choose-pool", source)
    assert report.passed and "deciding 1" in report.output
    assert "your code printed:\n    deciding" in report.text()


def test_student_output_is_capped():
    source = "#include <stdio.h>\n" + CATALOG["choose-pool"].solution.replace(
        "int pick = 0;", 'int pick = 0;\n    for (int i = 0; i < 100000; i++) printf("spam spam spam\\n");')
    report = ex.check("choose-pool", source)
    assert report.passed and len(report.output) < 2200 and "more characters not shown" in report.output


def test_check_child_imports_no_widgets_or_plotting():
    code = ("import sys, runpy\nsys.argv = ['runner']\n"
            "from mempools.exercises import runner\n"
            "for name in [m for m in sys.modules if m.startswith('mempools')]: del sys.modules[name]\n"
            "runner._package_without_init()\n"
            "from mempools.exercises.catalog import CATALOG\n"
            "[ex.checks for ex in CATALOG.values()]\n"
            "print(sorted(sys.modules))\n")
    out = subprocess.run([sys.executable, "-I", "-c", code.replace(
        "from mempools.exercises import runner\n", "import importlib.util as u\n"
        f"s = u.spec_from_file_location('r', {str(Path(ex.__file__).parent / 'runner.py')!r})\n"
        "runner = u.module_from_spec(s); s.loader.exec_module(runner)\n")],
                         capture_output=True, text=True, check=True).stdout
    assert "ipywidgets" not in out and "matplotlib" not in out and "mempools.viz" not in out
    assert "'mempools.exercises.tester'" in out


def test_choose_pool_covers_every_row_of_the_decision_guide():
    from mempools.exercises.catalog.choose_pool.checks import CHOOSE_CASES

    lesson = ROOT / "notebooks" / "06-Choosing-a-Pool.ipynb"
    guide = json.loads(lesson.read_text())
    text = next("".join(c["source"]) for c in guide["cells"] if "## Decision guide" in "".join(c["source"]))
    rows = [line for line in text.splitlines() if line.startswith("| ") and "**" in line]
    picks = {"bump": 2, "fixed": 3, "embedded": 4, "`malloc`": 1}
    chosen = [next(v for k, v in picks.items() if f"**{k}" in row) for row in rows]
    assert chosen == [want for _, want, _ in CHOOSE_CASES]  # one case per row, in order
    static_bump = [f for f, want, _ in CHOOSE_CASES if want == 2 and f[2] == 0 and f[1] == 1]
    assert static_bump, "no malloc + everything freed at once must be a (static) bump arena"


def test_double_free_map_shows_the_block_in_question():
    wrong = CATALOG["double-free"].solution.replace("if (!p->in_use[i])\n        return FREE_DOUBLE;\n", "")
    report = ex.check("double-free", wrong)
    failed = [r for r in report.results if not r.passed]
    assert failed and failed[0].regions, report.text()
    assert any(r.kind == "payload" for r in failed[0].regions)


def test_fallback_without_bubblewrap_says_so_once_and_still_contains_crashes():
    code = ("import mempools.exercises as ex\n"
            "from mempools.exercises.catalog import CATALOG\n"
            "print(ex.check('array-alloc', CATALOG['array-alloc'].solution).passed)\n"
            "r = ex.check('array-alloc', 'void *ex_array_alloc(size_t n, size_t s)"
            " { (void)n; (void)s; return *(void **)0; }')\n"
            "print(r.score, 'SIGSEGV' in r.results[0].message)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "MEMPOOLS_NO_BWRAP": "1"}, timeout=300)
    assert done.stdout.split() == ["True", "0", "True"], done.stderr
    assert done.stderr.count("sandbox is OFF") == 1


@pytest.mark.parametrize("line", ["", "array-aloc", "array-aloc --sanitize"])
def test_magic_with_a_wrong_name_says_so_without_a_traceback(line, capsys):
    assert ex.run_cell(line, CATALOG["array-alloc"].solution) is None
    out = capsys.readouterr().out
    assert "%%exercise <name>" in out and "array-alloc" in out


@pytest.mark.parametrize("name", list(CATALOG))
def test_solution_passes_under_the_sanitizers_as_grade_runs_it(name):
    report = ex.check(name, CATALOG[name].solution, sanitize=True)
    assert report.passed and not report.sanitizer, report.text()
