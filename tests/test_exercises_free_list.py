"""The free-list exercises (lesson 05): the solutions pass, the released stubs fail every check
with "not implemented yet", and each classic mistake fails the check it should, with a message
that names it and a memory map of the heap at that step."""

import csv
import json
import re
from pathlib import Path

import pytest

import mempools.exercises as ex
from mempools.exercises.catalog import CATALOG
from mempools.exercises.release import STUB, grade, release_notebook, strip_region

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "exercises" / "05-Exercises.ipynb"

NAMES = ("coalesce", "best-fit")


def _variant(name: str, old: str, new: str) -> str:
    solution = CATALOG[name].solution
    assert solution.count(old) == 1, old  # the mistake is made exactly where it is meant
    return solution.replace(old, new)


@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_plain_and_under_the_sanitizers(name):
    for sanitize in (False, True):
        report = ex.check(name, CATALOG[name].solution, sanitize=sanitize)
        assert report.passed and not report.sanitizer, report.text()


@pytest.mark.parametrize("name", NAMES)
def test_stub_fails_every_check_with_not_implemented(name):
    stub = "".join(strip_region(CATALOG[name].solution.splitlines(keepends=True),
                                "### BEGIN SOLUTION", "### END SOLUTION", STUB))
    report = ex.check(name, stub)
    assert report.max_score == len(CATALOG[name].checks) >= 4 and report.score == 0
    assert all(r.prop == "implemented" and "not implemented yet" in r.message
               for r in report.results), report.text()


# (what the mistake is, the code it changes, into what, the first check that must fail,
#  its property, words its message must contain)
COALESCE_MISTAKES = [
    ("forgets the right neighbour",
     "    if (!(right->header & EX_ALLOC)) {\n        ex_unlink(h, right);\n"
     "        size += right->header & ~(size_t)EX_FLAGS;\n    }\n", "    (void)right;\n",
     "a free right neighbour is merged", "both neighbours merged", "left out the free right"),
    ("forgets the left neighbour",
     "    if (!(b->header & EX_PREV_ALLOC)) {", "    if (0) {",
     "a free left neighbour is merged", "merged block returned", "so the merged block starts there"),
    ("merges the right neighbour without unlinking it", "        ex_unlink(h, right);\n", "",
     "a free right neighbour is merged", "neighbours unlinked", "unlink a free neighbour"),
    ("merges the left neighbour without unlinking it", "        ex_unlink(h, left);\n", "",
     "a free left neighbour is merged", "list links", "pushed while it was still on the list"),
    ("returns the freed block, not the merged one", "        b = left;\n",
     "        (void)left;\n",
     "a free left neighbour is merged", "merged block returned", "the word before its header"),
    ("writes the footer one word too far",
     "(unsigned char *)b + size - sizeof(size_t)) = b->header", "(unsigned char *)b + size) = b->header",
     "a free right neighbour is merged", "footer equals header", "one word too far"),
    ("writes the footer one word too early",
     "(unsigned char *)b + size - sizeof(size_t)) = b->header",
     "(unsigned char *)b + size - 2 * sizeof(size_t)) = b->header",
     "a free right neighbour is merged", "footer equals header", "one word too early"),
    ("drops the prev-allocated bit", "b->header = size | (b->header & EX_PREV_ALLOC);",
     "b->header = size;", "a free right neighbour is merged", "header", "EX_PREV_ALLOC bit is 0"),
    ("never puts the merged block on the list", "    ex_list_push(h, b);\n", "",
     "a free right neighbour is merged", "merged block listed", "ex_list_push"),
    ("unlink forgets the head", "    else\n        h->free_head = b->next;\n", "",
     "ex_unlink: head, middle, tail and the only block; links agree both ways", "unlinked",
     "free_head must move"),
    ("unlink forgets the back link", "    if (b->next)\n        b->next->prev = b->prev;\n", "",
     "ex_unlink: head, middle, tail and the only block; links agree both ways", "list links",
     "links disagree"),
]


@pytest.mark.parametrize("mistake", COALESCE_MISTAKES, ids=[m[0] for m in COALESCE_MISTAKES])
def test_coalesce_mistake_fails_with_its_message(mistake):
    _, old, new, check, prop, words = mistake
    _fails_first_at(ex.check("coalesce", _variant("coalesce", old, new)), check, prop, words)


BEST_FIT_MISTAKES = [
    ("first fit instead of best", "            if (have == size)\n                break;",
     "            break;", "picks the smallest block that fits, not the first",
     "smallest block that fits", "that is first fit"),
    ("an exact fit does not fit", "have >= size", "have > size",
     "a block of exactly the requested size fits, and wins", "smallest block that fits",
     ">=, not >"),
    ("a tie goes to the last", "have < best_size", "have <= best_size",
     "a tie goes to the first block on the list", "ties go to the first on the list",
     "comes first on the list"),
    ("reads the size with its flag bits", "size_t have = b->header & ~(size_t)EX_FLAGS;",
     "size_t have = b->header;", "a block of exactly the requested size fits, and wins",
     "smallest block that fits", "header & ~EX_FLAGS"),
    ("returns a block when nothing fits", "    return best;", "    return best ? best : h->free_head;",
     "NULL when nothing fits, or the list is empty", "NULL when nothing fits", "return NULL"),
    ("marks the block it finds", "    return best;",
     "    if (best) best->header |= EX_ALLOC;\n    return best;",
     "picks the smallest block that fits, not the first", "only reads the heap",
     "changed the heap's bytes"),
]


@pytest.mark.parametrize("mistake", BEST_FIT_MISTAKES, ids=[m[0] for m in BEST_FIT_MISTAKES])
def test_best_fit_mistake_fails_with_its_message(mistake):
    _, old, new, check, prop, words = mistake
    _fails_first_at(ex.check("best-fit", _variant("best-fit", old, new)), check, prop, words)


def _fails_first_at(report: "ex.Report", check: str, prop: str, words: str) -> None:
    failed = [r for r in report.results if not r.passed]
    assert failed and failed[0].name.startswith(check), report.text()
    assert failed[0].prop == prop and words in failed[0].message, report.text()
    assert failed[0].ops and failed[0].regions, report.text()  # the step, drawn
    kinds = {r.kind for r in failed[0].regions}
    assert {"header", "free"} <= kinds or "other" in kinds, kinds
    assert report.score < report.max_score


def test_a_wild_pointer_from_the_student_is_a_named_failure_not_a_crash_of_the_checker():
    report = ex.check("best-fit", _variant("best-fit", "    return best;",
                                           "    return best ? best + 1000 : best;"))
    failed = [r for r in report.results if not r.passed]
    assert failed and failed[0].prop == "a block on the list", report.text()
    assert "not a free block on the list" in failed[0].message


def test_a_student_that_corrupts_a_header_gets_a_walk_failure():
    overwrite = "    ((ex_fblock *)((unsigned char *)b + size))->header = 17;\n"
    source = _variant("coalesce", "    ex_list_push(h, b);\n", "    ex_list_push(h, b);\n" + overwrite)
    report = ex.check("coalesce", source)
    failed = [r for r in report.results if not r.passed]
    assert failed and failed[0].prop == "heap walk" and "says size 16" in failed[0].message, \
        report.text()


def test_an_infinite_loop_in_the_search_is_contained():
    report = ex.check("best-fit", _variant("best-fit", "b = b->next", "b = b"))
    first = report.results[0]
    assert not first.passed and first.prop == "timeout" and "ex_best_fit" in first.message


def test_best_fit_tables_agree_with_a_model_of_best_fit():
    from mempools.exercises.catalog.best_fit import checks

    cases = checks.SMALLEST + checks.EXACT + checks.TIES + checks.FLAGS + checks.NONE_FITS
    for blocks, order, size, want, what in cases:
        offsets = [sum(s for s, _ in blocks[:i]) for i in range(len(blocks))]
        sizes = {offsets[i]: blocks[i][0] for i in order}
        assert all(not blocks[i][1] for i in order) and size % 16 == 0, what
        got = checks._best([offsets[i] for i in order], sizes, size)
        assert got == (None if want is None else offsets[want]), what
        assert all(int(n) in offsets for n in re.findall(r"offset (\d+)", what)), what


def test_grade_scores_lesson_05_per_exercise(tmp_path):
    """An honest coalesce with a first-fit "best fit", an untouched release, a deleted cell."""
    first_fit = _variant("best-fit", "            if (have == size)\n                break;",
                         "            break;")
    nb = json.loads(NOTEBOOK.read_text())
    for cell in nb["cells"]:
        if "".join(cell["source"]).startswith("%%exercise best-fit\n"):
            cell["source"] = "%%exercise best-fit\n" + first_fit
    deleted = dict(nb, cells=[c for c in nb["cells"]
                              if not "".join(c["source"]).startswith("%%exercise coalesce")])
    for student, book in (("ana", nb), ("ben", release_notebook(nb)), ("cid", deleted)):
        (tmp_path / "in" / student).mkdir(parents=True)
        (tmp_path / "in" / student / "05-Exercises.ipynb").write_text(json.dumps(book))
    grade(tmp_path / "in", tmp_path / "g.csv", jobs=2)
    rows = {(r["student"], r["exercise"]): r for r in csv.DictReader((tmp_path / "g.csv").open())}
    assert len(rows) == 6  # every catalogued exercise of lesson 05, for every student
    assert (rows[("ana", "coalesce")]["score"], rows[("ana", "coalesce")]["status"]) == ("5", "passed")
    best = rows[("ana", "best-fit")]
    assert best["status"] == "failed checks" and best["score"] == "1" and "first fit" in best["detail"]
    assert {rows[("ben", n)]["status"] for n in NAMES} == {"not implemented"}
    assert rows[("cid", "coalesce")]["status"] == "missing" and rows[("cid", "best-fit")]["score"] == "1"


@pytest.mark.parametrize("sabotage, words", [
    ("h->free_head = (ex_fblock *)(uintptr_t)0x1234;", "outside the heap"),
    ("b->next = b;", "runs in a circle"),
    ("h->free_head = (ex_fblock *)((unsigned char *)b + 8);", "not the start of a block"),
])
def test_a_list_the_student_wrecks_is_named_without_following_it(sabotage, words):
    source = _variant("coalesce", "    ex_list_push(h, b);\n", f"    ex_list_push(h, b);\n    {sabotage}\n")
    report = ex.check("coalesce", source)
    failed = [r for r in report.results if not r.passed]
    assert failed and failed[0].prop == "list links" and words in failed[0].message, report.text()
    assert all(r.prop not in ("crash", "timeout") for r in failed), report.text()
