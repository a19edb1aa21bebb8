"""Every lesson keeps the skeleton of DESIGN.md and issue 13's backbone: a title, one setup cell,
at least three predict cells, the C on screen (`mp.show_c`) in every lesson after 00, a practice
cell (except in the comparison lesson), a score as the last code cell, ## Summary and
## Exercises."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
PREDICT = re.compile(r"\bmp\.predict\(")
SHOW_C = re.compile(r"\bmp\.show_c\(")
PRACTICE = re.compile(r"\bmp\.practice\.\w+\(")
SCORE = re.compile(r"\bmp\.predict\.score\(\)")


def cells(path):
    return json.loads(path.read_text())["cells"]


def sources(path, kind="code"):
    return ["".join(c["source"]) for c in cells(path) if c["cell_type"] == kind]


def count(pattern, path):
    """Code cells that call `pattern` (a cell counts once)."""
    return sum(1 for s in sources(path) if pattern.search(s))


def rel(path):
    return path.relative_to(ROOT).as_posix()


def test_there_are_lessons():
    assert len(LESSONS) >= 6, [rel(p) for p in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_lesson_asks_at_least_three_predictions(path):
    assert count(PREDICT, path) >= 3


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_lesson_shows_its_c(path):
    if path.name.startswith("00-"):
        pytest.skip("lesson 00 has no allocator of its own")
    assert count(SHOW_C, path) >= 1


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_lesson_offers_another_problem(path):
    if "Choosing" in path.name:
        pytest.skip("the comparison lesson reuses the pools' own lessons' practice topics")
    assert count(PRACTICE, path) >= 1, "a cell offers another problem (mp.practice...)"


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_lesson_ends_with_the_score(path):
    assert SCORE.search(sources(path)[-1]), "the last code cell shows mp.predict.score()"


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_lesson_keeps_the_skeleton(path):
    nb = cells(path)
    assert nb[0]["cell_type"] == "markdown" and "".join(nb[0]["source"]).startswith("# ")
    headings = [line for s in sources(path, "markdown") for line in s.splitlines()
                if line.startswith("## ")]
    assert "## Summary" in headings and "## Exercises" in headings
    assert headings.index("## Summary") < headings.index("## Exercises")
    imports = [s for s in sources(path) if re.search(r"^import mempools as mp", s, re.M)]
    assert len(imports) == 1, "one setup cell imports mempools"


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_predict_cells_print_nothing(path):
    """A predict cell shows only the question: a print() beside it would show the answer."""
    bad = [s[:60] for s in sources(path) if PREDICT.search(s) and re.search(r"^\s*print\(", s, re.M)]
    assert bad == []
