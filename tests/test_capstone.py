"""The capstone: the student's own malloc replayed on every trace with the malloc lab's checks.
The reference passes with a high utilisation, the starter passes with a lower one, each broken
allocator is caught with the property it breaks (and the op), and grade gives one honest row
per trace for each of them."""

import csv
import json
from pathlib import Path

import pytest

import mempools.exercises as ex
from mempools.exercises import capstone
from mempools.exercises.catalog import CATALOG
from mempools.exercises.release import release_notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "exercises" / "07-Capstone-Your-Own-Malloc.ipynb"
CAPSTONE = CATALOG["capstone"]
GRADED = [c.name for c in CAPSTONE.checks if c.points]

# A correct but wasteful allocator (every block new from mem_sbrk) that each broken one bends.
BUMP = """
static int calls;
int mm_init(void) { calls = 0; return 0; }
void *mm_malloc(size_t size)
{
    calls++;
    size_t asize = (size + 15) / 16 * 16;
    void *p = mem_sbrk((intptr_t)(asize ? asize : 16));
    return p == (void *)-1 ? NULL : p;
}
void mm_free(void *ptr) { (void)ptr; }
void *mm_realloc(void *ptr, size_t size)
{
    if (!ptr) return mm_malloc(size);
    if (!size) return NULL;
    void *moved = mm_malloc(size);
    if (moved) memmove(moved, ptr, size);
    return moved;
}
"""
BROKEN = {  # name: (the change to BUMP, property, words the message must contain)
    "overlap": ("void *p = mem_sbrk((intptr_t)(asize ? asize : 16));",
                "void *p = mem_sbrk((intptr_t)(asize ? asize : 16));\n"
                "    static void *last;\n    if (size > 150 && last) return last;\n"
                "    last = p;", "payload overlap", "overlaps the live payload of id"),
    "misaligned": ("return p == (void *)-1 ? NULL : p;",
                   "return p == (void *)-1 ? NULL : (char *)p + 8 * (calls > 20);",
                   "misaligned", "not 16-byte aligned"),
    "outside": ("return p == (void *)-1 ? NULL : p;",
                "static _Alignas(16) unsigned char mine[1 << 16];\n"
                "    return calls > 30 ? mine : p;", "outside the heap", "not inside the heap"),
    "realloc-loses-data": ("if (moved) memmove(moved, ptr, size);", "(void)ptr;",
                           "realloc keeps data", "did not keep its data"),
}
LIBC = "int mm_init(void) { return 0; }\nvoid *mm_malloc(size_t n) { return malloc(n); }\n" \
       "void mm_free(void *p) { free(p); }\nvoid *mm_realloc(void *p, size_t n) " \
       "{ return realloc(p, n); }\n"
CRASH = BUMP.replace("calls++;", "if (++calls == 100) *(volatile int *)0 = 1;")
LOOP = BUMP.replace("calls++;", "if (++calls == 100) for (;;) {}")


def _broken(name: str) -> str:
    old, new, _, _ = BROKEN[name]
    assert old in BUMP
    return BUMP.replace(old, new)


@pytest.fixture(scope="module")
def reference():
    return ex.check("capstone", CAPSTONE.solution)


@pytest.fixture(scope="module")
def starter():
    return ex.check("capstone", CAPSTONE.starter)


def test_reference_passes_every_trace_with_high_utilisation(reference):
    assert reference.passed, reference.text()
    for result in reference.results[:-1]:
        assert result.data["utilisation"] >= 0.8, result.text()
        assert result.score == capstone.points(result.data["utilisation"])
    assert [r.name for r in reference.results if r.max_points] == GRADED


def test_starter_passes_every_trace_with_lower_utilisation(reference, starter):
    assert starter.passed, starter.text()
    pairs = list(zip(reference.results[:-1], starter.results[:-1]))
    assert all(s.data["utilisation"] <= r.data["utilisation"] + 1e-9 for r, s in pairs)
    assert sum(s.data["utilisation"] < r.data["utilisation"] - 0.1 for r, s in pairs) >= 4
    assert starter.score < reference.score


def test_utilisation_is_peak_live_over_peak_heap(reference):
    for result in reference.results[:-1]:
        data = result.data
        assert data["utilisation"] == pytest.approx(data["peak_live"] / data["peak_heap"])
        assert f"utilisation {data['utilisation']:.1%}" in result.note


@pytest.mark.parametrize(("utilisation", "expected"),
                         [(0.0, 1), (0.5, 1), (0.55, 2), (0.7, 5), (0.9, 10), (1.0, 10)])
def test_points_scale(utilisation, expected):
    assert capstone.points(utilisation) == expected


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_allocator_is_caught_with_the_right_property(name):
    _, _, prop, words = BROKEN[name]
    report = ex.check("capstone", _broken(name))
    first = report.results[0]
    assert not first.passed and first.prop == prop, report.text()
    assert words in first.message and "seeded-1.rep, op " in first.message
    assert "The shortest failing prefix is ops 1.." in first.message
    assert first.score == 0 and not report.passed
    assert first.regions, "the memory at the failing step is drawn"


@pytest.mark.parametrize(("source", "prop", "words"), [
    (BUMP.replace("void mm_free(void *ptr) { (void)ptr; }",
                  "void mm_free(void *ptr) { *(volatile char *)ptr = 0; }"),
     "crash", "mm_free(NULL) or mm_malloc(0) (before op 1 of"),
    (BUMP.replace("calls++;", "calls++;\n    if (!size) return (char *)mem_heap_lo() + 4;"),
     "mm_malloc(0)", "mm_malloc(0) returned a pointer that is neither NULL"),
])
def test_free_null_and_malloc_zero_are_checked(source, prop, words):
    first = ex.check("capstone", source).results[0]
    assert first.prop == prop and words in first.message, first.text()


def test_overlap_is_shrunk_to_a_short_sequence():
    report = ex.check("capstone", _broken("overlap"))
    message = report.results[0].message
    assert "ops alone fail the same way" in message, message
    shown = message.split("fail the same way: ")[1].split(", ")
    assert len(shown) <= capstone.SHOWN_OPS


@pytest.mark.parametrize(("source", "named"), [
    (LIBC, "free() and malloc() and realloc()"),
    (BUMP.replace("mem_sbrk((intptr_t)(asize ? asize : 16))", "(malloc)(asize)"), "malloc()"),
    ("void *__libc_malloc(size_t);\n" + BUMP.replace("mem_sbrk((intptr_t)(asize ? asize : 16))",
                                                     "__libc_malloc(asize)"), "__libc_malloc()"),
    (BUMP.replace("(void)ptr; }", "(void)ptr; char *s = strdup(\"x\"); (void)s; }"),
     "strdup()"),
])
def test_allocator_calling_libc_malloc_is_refused_with_a_reason(source, named):
    report = ex.check("capstone", source)
    assert report.error.startswith(f"your allocator calls {named}: "), report.error
    assert "mem_sbrk()" in report.error and report.score == 0


def test_crash_names_the_signal_and_the_op():
    report = ex.check("capstone", CRASH)
    first = report.results[0]
    assert first.prop == "crash" and "SIGSEGV" in first.message, report.text()
    assert "op " in first.message and "mm_malloc for id" in first.message


def test_loop_is_stopped_and_names_the_op():
    report = ex.check("capstone", LOOP)
    first = report.results[0]
    assert first.prop == "timeout", report.text()
    assert "mm_malloc for id" in first.message
    assert all(r.prop == "not run" for r in report.results[1:])


def test_picture_frames_agree_with_the_driver(reference):
    picture = reference.results[-1]
    frames = picture.data["frames"]
    assert picture.passed and picture.max_points == 0
    assert len(frames) == len(capstone.Trace.read(
        Path(capstone.__file__).parent / "catalog" / "capstone" / "picture.trace").ops) + 1
    for frame in frames:
        assert capstone.walk_disagrees(frame["walk"], frame["live"], frame["heap"]) == ""


def test_wrong_walker_is_shown_failing_the_picture_only():
    lying = CAPSTONE.solution.replace("used(bp), user);", "0, user);")
    report = ex.check("capstone", lying)
    assert all(r.passed for r in report.results[:-1])
    picture = report.results[-1]
    assert picture.prop == "walker" and "not inside any block mm_walk" in picture.message
    assert report.score == ex.check("capstone", CAPSTONE.solution).score


@pytest.mark.parametrize(("spans", "expected"), [
    ([], [(0, 64, "untouched", None)]),
    ([(16, 16, "payload", "id 1")], [(0, 16, "untouched", None), (16, 16, "payload", "id 1"),
                                     (32, 32, "untouched", None)]),
    ([(16, 32, "payload", "id 2"), (0, 32, "payload", "id 1")],
     [(0, 32, "payload", "id 1"), (16, 32, "payload", "id 2"), (48, 16, "untouched", None)]),
    ([(-8, 16, "free", None), (60, 100, "free", None), (200, 8, "free", None)],
     [(0, 8, "free", None), (8, 52, "untouched", None), (60, 4, "free", None)]),
    ([(0, 16, "free", "a"), (16, 16, "free", "a")],
     [(0, 16, "free", "a"), (16, 16, "free", "a"), (32, 32, "untouched", None)]),
])
def test_partition_covers_the_heap_and_keeps_overlaps(spans, expected):
    assert capstone.partition(spans, 64) == expected


def _notebook(source: str) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                       "execution_count": None, "source": f"%%exercise capstone\n{source}"}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_release_puts_the_starter_in_place_of_the_solution():
    released = release_notebook(_notebook(CAPSTONE.solution))
    source = released["cells"][0]["source"]
    assert source == "%%exercise capstone\n" + CAPSTONE.starter
    assert "BEGIN SOLUTION" not in source and "coalesce" not in source


def test_grade_gives_three_honest_rows_per_trace(tmp_path):
    from mempools.exercises.release import grade

    released = release_notebook(_notebook(CAPSTONE.solution))
    started = "".join(released["cells"][0]["source"]).split("\n", 1)[1]
    sources = {"ada": CAPSTONE.solution, "bob": started, "cy": _broken("overlap")}
    for student, source in sources.items():
        (tmp_path / student).mkdir()
        (tmp_path / student / "07-Capstone.ipynb").write_text(json.dumps(_notebook(source)))
    grades = grade(tmp_path, tmp_path / "grades.csv")
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert len(grades) == len(rows) == 3 * len(GRADED)
    by = {(r["student"], r["exercise"]): r for r in rows}
    reference, starter = ex.check("capstone", CAPSTONE.solution), ex.check("capstone", started)
    for trace, ref, start in zip(GRADED, reference.results, starter.results):
        a, b, c = (by[(s, f"capstone/{trace}")] for s in ("ada", "bob", "cy"))
        assert (a["status"], int(a["score"]), a["max_score"]) == ("passed", ref.score, "10")
        assert (b["status"], int(b["score"])) == ("passed", start.score)
        assert a["detail"].startswith("utilisation ") and b["detail"].startswith("utilisation ")
        assert c["status"] == "failed checks" and c["score"] == "0"
    assert "payload overlap" in by[("cy", f"capstone/{GRADED[0]}")]["detail"]
    assert sum(int(by[("ada", f"capstone/{t}")]["score"]) for t in GRADED) > \
        sum(int(by[("bob", f"capstone/{t}")]["score"]) for t in GRADED)


def test_heap_map_draws_the_walk_beside_the_driver(reference):
    from mempools.exercises.capstone_view import HeapMap

    heap = HeapMap(reference)
    frame = heap.frames[heap.busiest]
    assert heap.slider.value == heap.busiest and heap.caption.value.startswith(frame["caption"])
    assert heap.view.value.count("<svg") == 2 and "id 8" in heap.view.value
    mine, driver = heap.regions(heap.busiest)
    for off, size, ident in frame["live"]:
        assert any(r.offset <= off and off + size <= r.offset + r.size and r.kind == "payload"
                   for r in mine)
        assert (off, size, "payload", f"id {ident}") in driver
    heap.slider.value = 0
    assert heap.caption.value.startswith("step 0: after mm_init()")


def test_heap_map_without_a_walker_and_with_an_overlap():
    from mempools.exercises.capstone_view import HeapMap

    report = ex.check("capstone", _broken("overlap"))
    heap = HeapMap(report)
    assert "no mm_walk yet" in heap.view.value
    last = len(heap.frames) - 1
    heap.slider.value = last
    assert "overlaps the live payload" in heap.frames[last]["problem"]
    from mempools.viz.svg import overlaps

    assert overlaps(heap.regions(last)[1]), "the two payloads claim the same bytes"
    assert "mp-overlap" in heap.view.value and "overlap: two blocks" in heap.view.value


def test_released_notebook_runs_the_starter(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    released = release_notebook(json.loads(NOTEBOOK.read_text()))
    nb = nbformat.reads(json.dumps(released), as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    from mempools.exercises.capstone_view import utilisation_table

    table = utilisation_table(ex.check("capstone", CAPSTONE.starter))
    assert text.count(table) == 2  # the student's cell holds the starter, and the comparison
