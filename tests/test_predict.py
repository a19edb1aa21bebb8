"""mp.predict: the answer stays in the kernel until Check. And every predict cell of every
notebook is executed here and its computed answer compared with tests/predict_answers.json,
which the student never sees: a C change that alters an answer fails this file."""

import json
import os
import re
import tempfile
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from hypothesis import given
from hypothesis import strategies as st
from nbclient import NotebookClient

import mempools as mp
from mempools import predict as predict_module
from mempools.predict import RECORD_ENV, static_html, static_text

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = json.loads((ROOT / "tests" / "predict_answers.json").read_text())
FIXTURE = ROOT / "tests" / "fixtures" / "predict.ipynb"
ASKS = re.compile(r"\bpredict\(|\bpractice\.\w+\(")
# an answer written into the source instead of computed: answer=16, answer="z", answer=True
TYPED_ANSWER = re.compile(r"\banswer\s*=\s*(?:[-+]?\.?\d|[\"'\[]|True\b|False\b)")


def code_sources(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]
            if c["cell_type"] == "code"]


def notebooks_that_ask():
    lessons = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                     if ".ipynb_checkpoints" not in p.parts)
    return [p for p in lessons if any(ASKS.search(s) for s in code_sources(p))] + [FIXTURE]


NOTEBOOKS = notebooks_that_ask()


def rel(path):
    return path.relative_to(ROOT).as_posix()


_RECORDS = {}


def recorded(path):
    """Execute the notebook (a fresh kernel, outputs discarded) and return what its predict
    cells recorded: one dict per prediction, in order."""
    if path not in _RECORDS:
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory() as tmp:
            log = Path(tmp) / "answers.jsonl"
            log.touch()
            with mock.patch.dict(os.environ, {RECORD_ENV: str(log)}):
                NotebookClient(nb, timeout=120, kernel_name="python3",
                               resources={"metadata": {"path": str(path.parent)}}).execute()
            _RECORDS[path] = [json.loads(line) for line in log.read_text().splitlines()]
    return _RECORDS[path]


def same_answer(expected, computed):
    """Equal, and of the same kind (True is not 1 here)."""
    return isinstance(expected, bool) == isinstance(computed, bool) and expected == computed


def compare(records, expected):
    """Every way the computed answers disagree with the registered ones."""
    problems, seen = [], {}
    for r in records:
        if r["key"] in seen and not same_answer(seen[r["key"]], r["answer"]):
            problems.append(f"{r['key']}: asked twice, with answers {seen[r['key']]!r} and {r['answer']!r}")
        seen[r["key"]] = r["answer"]
    for key, answer in seen.items():
        if key not in expected:
            problems.append(f"{key}: computed {answer!r}, but tests/predict_answers.json has no entry")
        elif not same_answer(expected[key], answer):
            problems.append(f"{key}: computed {answer!r}, expected {expected[key]!r}")
    problems += [f"{key}: registered, but no cell asks it" for key in expected if key not in seen]
    return problems


def leaks(nb_json, records):
    """Every place the committed notebook shows a computed answer before Check."""
    problems = []
    state = nb_json.get("metadata", {}).get("widgets", {}).get(
        "application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for model_id, model in state.items():
        s = model.get("state", {})
        if "mp-predict-reveal" in s.get("_dom_classes", []) and s.get("value"):
            problems.append(f"widget {model_id}: the saved reveal is not empty: {s['value'][:80]!r}")
    saved_state = json.dumps(state)
    for r in records:
        if len(r["explain"]) >= 8 and json.dumps(r["explain"])[1:-1] in saved_state:
            problems.append(f"{r['key']}: the explanation is in the saved widget state")
    static = {(static_text(r["question"], r.get("given")), static_html(r["question"], r.get("given")))
              for r in records}
    for i, cell in enumerate(nb_json["cells"]):
        outputs = cell.get("outputs", [])
        asking = [o for o in outputs if "(run the cell to answer)" in "".join(
            o.get("data", {}).get("text/plain", ""))]
        for o in asking:
            pair = ("".join(o["data"]["text/plain"]), "".join(o["data"].get("text/html", "")))
            if pair not in static:
                problems.append(f"cell {i}: a predict output that is not the bare question: {pair[0][:80]!r}")
        if asking and len(outputs) > len(asking):
            problems.append(f"cell {i}: a predict cell must show nothing but the question")
    return problems


# -- every notebook that asks ------------------------------------------------------------------
@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_predict_cells_compute_the_registered_answers(path):
    records = recorded(path)
    assert records, f"{rel(path)} asks, but executing it recorded no prediction"
    assert compare(records, ANSWERS.get(rel(path), {})) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_committed_notebook_does_not_reveal_answers(path):
    assert leaks(json.loads(path.read_text()), recorded(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=rel)
def test_predict_cells_compute_their_answers(path):
    typed = [s for s in code_sources(path) if "predict(" in s and TYPED_ANSWER.search(s)]
    assert typed == [], "answers must be computed by the C, not written in the cell"


def test_registered_answers_belong_to_existing_notebooks():
    assert [name for name in ANSWERS if not (ROOT / name).exists()] == []


# -- the checks above can fail -----------------------------------------------------------------
def test_compare_reports_an_answer_a_c_change_altered():
    records = [dict(r) for r in recorded(FIXTURE)]
    records[0]["answer"] += 8  # what a wrong alignment in bump_pool_alloc_aligned would compute
    problems = compare(records, ANSWERS[rel(FIXTURE)])
    assert len(problems) == 1 and records[0]["key"] in problems[0]


@pytest.mark.parametrize("expected, computed, n", [
    ({"a": 1}, [{"key": "a", "answer": True}], 1),          # True is not 1
    ({"a": 1, "b": 2}, [{"key": "a", "answer": 1}], 1),     # a registered question vanished
    ({}, [{"key": "a", "answer": 1}], 1),                   # a new question nobody registered
    ({"a": 1}, [{"key": "a", "answer": 1}, {"key": "a", "answer": 2}], 2),  # one key, two answers
    ({"a": "z"}, [{"key": "a", "answer": "z"}], 0),
])
def test_compare_table(expected, computed, n):
    assert len(compare(computed, expected)) == n


def test_leaks_finds_a_saved_reveal_and_an_answer_printed_beside_the_question():
    nb = json.loads(FIXTURE.read_text())
    records = recorded(FIXTURE)
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    reveal = next(m for m in state.values()
                  if "mp-predict-reveal" in m["state"].get("_dom_classes", []))
    reveal["state"]["value"] = "Right answer: 16"
    cell = next(c for c in nb["cells"] if "bump-aligned-offset" in "".join(c["source"]))
    cell["outputs"].append({"output_type": "stream", "name": "stdout", "text": "16\n"})
    found = leaks(nb, records)
    assert any("saved reveal" in p for p in found) and any("nothing but" in p for p in found)


def test_typed_answer_pattern():
    assert TYPED_ANSWER.search('mp.predict("q", answer=16)')
    assert TYPED_ANSWER.search("mp.predict('q', answer='z')")
    assert TYPED_ANSWER.search('mp.predict("q", answer = -8)')
    assert not TYPED_ANSWER.search('mp.predict("q", answer=b.offset)')
    assert not TYPED_ANSWER.search('mp.predict("q", answer=(b.offset - base))')


# -- the widget --------------------------------------------------------------------------------
def widget_states(widget):
    """The state of a widget and all its children, as the notebook would save it."""
    out = [widget.get_state()]
    for child in getattr(widget, "children", ()):
        out += widget_states(child)
    return out


def test_answer_is_in_no_widget_trait_until_check():
    p = mp.predict("How many?", answer=4242, explain="because-4242", output="out-4242",
                   key="test-hidden")
    box = p.widget()
    assert "4242" not in json.dumps(widget_states(box), default=str)
    assert "4242" not in json.dumps(p._repr_mimebundle_())
    p._input.value = "7"
    p._button.click()
    shown = p._result.value
    assert all(s in shown for s in ("4242", "because-4242", "out-4242", "7"))
    assert p.answered and p.right is False and p._input.disabled and p._button.disabled


def test_check_without_an_answer_reveals_nothing():
    p = mp.predict("Which?", answer="b", choices=["a", "b"], key="test-empty")
    p.widget()
    p._button.click()
    assert p._result.value == "" and not p.answered and "first" in p._note.value


def test_a_non_number_for_a_number_is_refused_and_reveals_nothing():
    p = mp.predict("How many?", answer=3, key="test-nan")
    p.widget()
    p._input.value = "lots"
    p._button.click()
    assert p._result.value == "" and not p.answered and "not a whole number" in p._note.value


@pytest.mark.parametrize("response", ["lots", "16.5", "", "0x"])
def test_unreadable_numbers_are_refused(response):
    p = mp.predict("How many?", answer=16, key="test-unreadable")
    with pytest.raises(ValueError, match="whole number"):
        p.check(response)
    assert not p.answered


def test_a_prediction_is_checked_once():
    p = mp.predict("How many?", answer=3, key="test-once")
    assert p.check("3") is True
    with pytest.raises(ValueError, match="already answered"):
        p.check("4")


def test_static_rendering_shows_the_question_only():
    p = mp.predict("Where does it go?", answer=96, given="a = alloc(8)", key="test-static")
    bundle = p._repr_mimebundle_()
    assert bundle["text/plain"] == "a = alloc(8)\nPredict: Where does it go?\n(run the cell to answer)"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "96" not in bundle["text/html"] and "96" not in repr(p)


@pytest.mark.parametrize("answer, choices, response, right", [
    (16, None, "16", True),
    (16, None, " 16 bytes", True),
    (16, None, "0x10", True),
    (16, None, "24", False),
    (-8, None, "-8", True),
    (1.5, None, "1.5", True),
    (1.5, None, "1.51", True),   # within 1%
    (1.5, None, "1.6", False),
    ("32 0", None, "32, 0", True),
    ("32 0", None, "0 32", False),
    ("First Fit", None, "first fit", True),
    ("z", ["x", "y", "z"], "z", True),
    ("z", ["x", "y", "z"], "x", False),
    (True, None, "yes", True),
    (False, None, "yes", False),
])
def test_check_table(answer, choices, response, right):
    p = mp.predict("q?", answer=answer, choices=choices, key="test-table")
    assert p.check(response) is right


@pytest.mark.parametrize("kwargs, message", [
    ({"question": "", "answer": 1}, "question"),
    ({"question": None, "answer": 1}, "question"),
    ({"question": "q", "answer": None}, "answer must be"),
    ({"question": "q", "answer": [1]}, "answer must be"),
    ({"question": "q", "answer": float("nan")}, "answer must be"),
    ({"question": "q", "answer": " -> "}, "at least one word"),
    ({"question": "q", "answer": "d", "choices": ["a", "b"]}, "one of the choices"),
    ({"question": "q", "answer": "a", "choices": ["a", "a"]}, "distinct"),
    ({"question": "q", "answer": "a", "choices": ["a"]}, "at least two"),
    ({"question": "q", "answer": 1, "key": "Bad Key"}, "key"),
    ({"question": "q", "answer": 1, "explain": 3}, "text"),
    ({"question": "q", "answer": 1, "output": b"x"}, "text"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mp.predict(**kwargs)


def test_score_counts_the_latest_prediction_under_each_key():
    before = mp.predict.score()
    mp.predict("q1?", answer=1, key="test-score-1").check("1")
    mp.predict("q2?", answer=2, key="test-score-2").check("5")
    mp.predict("q2?", answer=2, key="test-score-2").check("2")  # asked again: this one counts
    after = mp.predict.score()
    assert (after.right - before.right, after.answered - before.answered,
            after.asked - before.asked) == (2, 2, 2)
    assert "right of" in repr(after)


def test_recording_writes_key_and_answer(tmp_path, monkeypatch):
    log = tmp_path / "answers.jsonl"
    monkeypatch.setenv(RECORD_ENV, str(log))
    mp.predict("q?", answer=12, key="test-record", explain="why")
    monkeypatch.delenv(RECORD_ENV)
    mp.predict("q?", answer=13, key="test-record")
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["key"], r["answer"], r["explain"]) for r in lines] == [("test-record", 12, "why")]


@given(answer=st.integers(-10**6, 10**6), typed=st.integers(-10**6, 10**6),
       unit=st.sampled_from(["", " bytes", "  "]))
def test_a_typed_number_is_right_exactly_when_it_equals_the_answer(answer, typed, unit):
    p = mp.predict("How many?", answer=answer, key="test-property")
    assert p.is_right(f"{typed}{unit}") is (typed == answer)


@given(words=st.lists(st.sampled_from(["a", "B", "32", "0"]), min_size=1, max_size=4),
       sep=st.sampled_from([" ", ", ", " -> ", "  "]))
def test_text_answers_ignore_case_and_separators(words, sep):
    p = mp.predict("Which order?", answer=" ".join(words), key="test-words")
    assert p.is_right(sep.join(w.upper() for w in words))
    assert not p.is_right(sep.join(words + ["x"]))


def test_a_float_answer_is_revealed_rounded():
    p = mp.predict("What fraction is used?", answer=2 / 3, key="test-float")
    p.widget()
    p._input.value = "0.667"
    p._button.click()
    assert p.right and "Right answer: <b>0.6667</b>" in p._result.value


def test_numpy_like_integers_become_ints():
    class Count(int):  # what numpy.int64 or a cffi integer looks like to predict()
        pass

    p = mp.predict("q?", answer=Count(5), key="test-integral")
    assert type(p.answer) is int and p.check("5")


def test_mp_predict_is_the_callable_module():
    assert mp.predict is predict_module and callable(mp.predict)
    assert isinstance(mp.predict("q?", answer=1, key="test-callable"), mp.predict.Prediction)
