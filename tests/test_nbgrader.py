"""nbgrader's own workflow on the C exercises: a course directory built from
notebooks/exercises/01-Exercises.ipynb goes through `generate_assignment`, `autograde` (four
submissions), `generate_feedback` and `export`; each score matches `python -m mempools grade` on
the same student C, whether the student started from nbgrader's release or the project's."""

import csv
import json
import os
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import nbformat
import pytest

from mempools.exercises import nbgrader_support
from mempools.exercises.catalog import CATALOG
from mempools.exercises.release import exercise_cells, release

nbgrader_utils = pytest.importorskip("nbgrader.utils")
from nbgrader.api import Gradebook  # noqa: E402 - only once nbgrader is known to be there

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "exercises" / "01-Exercises.ipynb"
EXERCISES = [name for name, _ in exercise_cells(NOTEBOOK)]  # array-alloc, find-leak
LEAKY = CATALOG["find-leak"].solution.replace("tracked_free(copy);\n            /* ### END", "/* ### END")
# the student's C for each exercise; an exercise left out keeps the cell as released
SUBMISSIONS = {
    "solution": {name: CATALOG[name].solution for name in EXERCISES},
    "untouched": {},
    "partial": {  # no overflow check (2 of 3 checks), the leak left in (2 of 3)
        "array-alloc": "void *ex_array_alloc(size_t n, size_t size)\n{\n    return malloc(n * size);\n}\n",
        "find-leak": LEAKY,
    },
    "crash": {
        "array-alloc": "void *ex_array_alloc(size_t n, size_t size)\n"
                       "{\n    (void)n; (void)size;\n    return *(void *volatile *)0;\n}\n",
        "find-leak": "int ex_word_count(const char *text)\n"
                     "{\n    (void)text;\n    return *(volatile int *)0;\n}\n",
    },
}
EXPECTED = {"solution": {"array-alloc": 3, "find-leak": 3}, "untouched": {"array-alloc": 0, "find-leak": 0},
            "partial": {"array-alloc": 2, "find-leak": 2}, "crash": {"array-alloc": 0, "find-leak": 0}}


def nbgrader(course: Path, *args: str) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               JUPYTER_CONFIG_DIR=str(course / ".jupyter"))  # no instructor's own config leaks in
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def submit(released: Path, edits: dict[str, str], target: Path) -> None:
    """The released notebook with the student's C put in its exercise cells."""
    nb = json.loads(released.read_text())
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        for name, source in edits.items():
            if text.startswith(f"%%exercise {name}\n"):
                cell["source"] = f"%%exercise {name}\n{source}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(nb))


def mempools_grade(folder: Path, out: Path) -> dict[str, dict[str, int]]:
    done = subprocess.run([sys.executable, "-m", "mempools", "grade", str(folder), "--out", str(out),
                           "--jobs", "2"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    scores: dict[str, dict[str, int]] = {}
    for row in csv.DictReader(out.open()):
        assert int(row["max_score"]) == CATALOG[row["exercise"]].points
        scores.setdefault(row["student"], {})[row["exercise"]] = int(row["score"])
    return scores


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course directory taken through generate_assignment, autograde, feedback and export."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "docs" / "nbgrader_config.py", course)
    (course / "source" / "ps1").mkdir(parents=True)
    shutil.copy(NOTEBOOK, course / "source" / "ps1")
    nbgrader(course, "generate_assignment", "ps1")
    released = course / "release" / "ps1" / NOTEBOOK.name
    for student, edits in SUBMISSIONS.items():
        submit(released, edits, course / "submitted" / student / "ps1" / NOTEBOOK.name)
    nbgrader(course, "autograde", "ps1", "--create")
    nbgrader(course, "generate_feedback", "ps1")
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    return course


def nbgrader_scores(course: Path) -> dict[str, dict[str, float]]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {student: {name: gb.find_grade(f"{name}-tests", NOTEBOOK.stem, "ps1", student).score
                          for name in EXERCISES} for student in SUBMISSIONS}


def autograded(course: Path, student: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "autograded" / student / "ps1" / NOTEBOOK.name, as_version=4)


def exercise_output(nb: nbformat.NotebookNode, name: str) -> str:
    cell = next(c for c in nb.cells if c.source.startswith(f"%%exercise {name}"))
    return "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in cell.outputs)


def test_generate_assignment_puts_nbgrader_python_stub_in_the_c(course):
    text = (course / "release" / "ps1" / NOTEBOOK.name).read_text()
    assert "raise NotImplementedError()" in text and "BEGIN SOLUTION" not in text


def test_autograde_scores_each_submission_per_exercise(course):
    assert nbgrader_scores(course) == EXPECTED


def test_untouched_submission_says_not_implemented_not_a_compile_error(course):
    nb = autograded(course, "untouched")
    for name in EXERCISES:
        out = exercise_output(nb, name)
        assert "not implemented yet" in out and "0/3 checks passed" in out
        assert "did not run" not in out and "error:" not in out, out


def test_crashing_submission_scores_zero_and_the_kernel_lives_on(course):
    nb = autograded(course, "crash")
    assert "SIGSEGV" in exercise_output(nb, "array-alloc")
    # every cell after the crash ran in the same kernel: the last graded cell printed its report
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert code[-1].outputs[-1]["data"]["text/plain"] == "0.0"


def test_export_totals_match_the_gradebook(course):
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert set(rows) == set(SUBMISSIONS)
    for student, scores in EXPECTED.items():
        assert float(rows[student]["score"]) == sum(scores.values())
        assert float(rows[student]["max_score"]) == sum(CATALOG[n].points for n in EXERCISES)


def test_feedback_html_shows_which_checks_failed_and_why(course):
    from mempools.exercises import check

    feedback = course / "feedback"
    html = unescape((feedback / "partial" / "ps1" / f"{NOTEBOOK.stem}.html").read_text())
    for name in EXERCISES:
        failed = [r for r in check(name, SUBMISSIONS["partial"][name]).results if not r.passed]
        assert failed
        for result in failed:
            assert f"FAIL  {result.name}" in html
            assert f"[{result.prop}] {result.message[:40]}" in html
    untouched = unescape((feedback / "untouched" / "ps1" / f"{NOTEBOOK.stem}.html").read_text())
    assert "not implemented yet" in untouched


def test_scores_agree_with_mempools_grade_from_either_release(course, tmp_path):
    # the same student C, started from the project's own release and from nbgrader's
    ours = release(NOTEBOOK, tmp_path / "release")[0]
    for student, edits in SUBMISSIONS.items():
        submit(ours, edits, tmp_path / "ours" / student / NOTEBOOK.name)
    from_ours = mempools_grade(tmp_path / "ours", tmp_path / "ours.csv")
    from_nbgrader = mempools_grade(course / "submitted", tmp_path / "nbgrader.csv")
    assert from_ours == from_nbgrader == EXPECTED
    assert nbgrader_scores(course) == from_ours


# -- the pieces, without nbgrader's commands -------------------------------------------------------

@pytest.mark.parametrize("stub", [nbgrader_support.DEFAULT_STUB,
                                  "# TODO: write this part\nraise NotImplementedError('not yet')"])
def test_c_source_turns_an_nbgrader_stub_into_the_release_stub(stub):
    cell = "void f(void)\n{\n" + "".join(f"    {line}\n" for line in stub.splitlines()) + "}\n"
    c = nbgrader_support.c_source(cell, [stub])
    comment = stub.splitlines()[0].lstrip("# ")
    assert c == f"void f(void)\n{{\n    /* {comment} */\n    mp_not_implemented();\n}}\n"


def test_c_source_keeps_student_code_below_a_kept_comment():
    cell = "int g(void)\n{\n    # YOUR CODE HERE\n    return 7;\n}\n"
    assert nbgrader_support.c_source(cell, [nbgrader_support.DEFAULT_STUB]) == \
        "int g(void)\n{\n    /* YOUR CODE HERE */\n    return 7;\n}\n"


PY_CONFIG = "c = get_config()\nc.ClearSolutions.code_stub = "


@pytest.mark.parametrize("name, body", [
    ("nbgrader_config.py", PY_CONFIG + '{"python": "# DIY\\nraise ValueError()"}'),
    ("nbgrader_config.py", PY_CONFIG + '"# DIY\\nraise ValueError()"'),
    ("nbgrader_config.json", '{"ClearSolutions": {"code_stub": {"python": "# DIY\\nraise ValueError()"}}}'),
])
def test_code_stubs_reads_the_course_config_from_a_parent_folder(tmp_path, name, body):
    (tmp_path / name).write_text(body)
    notebook_dir = tmp_path / "autograded" / "ada" / "ps1"
    notebook_dir.mkdir(parents=True)
    stubs = nbgrader_support.code_stubs(notebook_dir)
    assert stubs[0] == nbgrader_support.DEFAULT_STUB and "# DIY\nraise ValueError()" in stubs


def test_a_configured_stub_left_untouched_reports_not_implemented(tmp_path, monkeypatch):
    (tmp_path / "nbgrader_config.py").write_text(
        'c = get_config()\nc.ClearSolutions.code_stub = {"python": "# write it\\nraise SystemExit"}\n')
    monkeypatch.chdir(tmp_path)
    from mempools.exercises import check

    report = check("array-alloc", "void *ex_array_alloc(size_t n, size_t size)\n{\n"
                   "    void *block = NULL;\n    # write it\n    raise SystemExit\n    return block;\n}\n")
    assert not report.error and report.score == 0
    assert all("not implemented yet" in r.message for r in report.results), report.text()


def graded_cell(outputs: list) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("", outputs=outputs)
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "points": 3, "grade_id": "x"}
    return cell


def test_points_is_a_number_nbgrader_scores_as_partial_credit(capsys):
    from mempools.exercises import check, results

    results["array-alloc"] = check("array-alloc", SUBMISSIONS["partial"]["array-alloc"])
    earned = nbgrader_support.points("array-alloc", 3)
    printed = capsys.readouterr()
    assert earned == 2.0 and "FAIL  refuses a product" in printed.out and printed.err == ""
    cell = graded_cell([nbformat.v4.new_output("stream", name="stdout", text=printed.out),
                        nbformat.v4.new_output("execute_result", data={"text/plain": repr(earned)})])
    assert nbgrader_utils.determine_grade(cell) == (2.0, 3.0)
    # and nbgrader gives the full points to a cell whose output is NOT one number: never ours
    assert nbgrader_utils.determine_grade(graded_cell([nbformat.v4.new_output(
        "execute_result", data={"text/plain": results["array-alloc"].text()})])) == (3.0, 3.0)


def test_points_of_an_exercise_that_never_ran_is_an_error_nbgrader_scores_zero():
    from mempools.exercises import results

    results.pop("find-leak", None)
    with pytest.raises(KeyError):
        nbgrader_support.points("find-leak", 3)
    error = nbformat.v4.new_output("error", ename="KeyError", evalue="'find-leak'", traceback=[])
    assert nbgrader_utils.determine_grade(graded_cell([error])) == (0, 3.0)


@pytest.mark.parametrize("bad", [0, -1, "3", True, float("nan")])
def test_points_refuses_a_bad_point_value(bad):
    with pytest.raises(ValueError):
        nbgrader_support.points("array-alloc", bad)


def test_every_graded_cell_returns_its_points_with_no_hidden_test_in_the_way():
    for path in sorted(NOTEBOOK.parent.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade"):
                continue
            last = cell.source.strip().splitlines()[-1]
            name = last.split('"')[1]
            assert last == f'mp.exercises.points("{name}", {meta["points"]})', (path.name, last)
            assert meta["points"] == CATALOG[name].points
            assert "HIDDEN TESTS" not in cell.source
