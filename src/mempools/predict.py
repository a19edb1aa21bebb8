"""Predict, then reveal: `mp.predict(question, answer=...)` asks; the student commits an answer,
presses Check, and only then sees the right answer, the explanation and the real output.

The answer lives only in the Python kernel until Check is pressed: no widget trait holds it, so
neither the stored output (text/plain, text/html) nor the saved widget state of an executed
notebook reveals it. How to write a predict cell and register its expected answer for the
tests: docs/predict.md.

`mp.predict` is this module, callable: `mp.predict(...)` makes a Prediction and
`mp.predict.score()` counts the student's answers so far in this kernel.
"""

from __future__ import annotations

import html
import json
import math
import numbers
import os
import re
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ipywidgets import VBox

#: when set to a file path, every prediction appends its key and computed answer there (JSON
#: lines), for tests/test_predict.py to compare with tests/predict_answers.json
RECORD_ENV = "MEMPOOLS_PREDICT_RECORD"

Answer = int | float | str | bool

_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]*\Z")


def _tokens(text: str) -> list[str]:
    """Words and numbers of a free-text answer: case, spaces, commas and arrows do not count."""
    return re.findall(r"[a-z0-9_]+", text.lower())


def _as_number(text: str, want: type) -> int | float | None:
    """The number a student typed ('24', '24 bytes', '0x18'), or None when there is none."""
    if want is int:
        m = re.match(r"\s*([-+]?(?:0x[0-9a-fA-F]+|\d+))(?![\w.])", text)
        return int(m.group(1), 0) if m else None
    m = re.match(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", text)
    return float(m.group(1)) if m else None


def default_key(question: str) -> str:
    """The key a prediction gets when the author gives none: a slug of its question."""
    return re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")[:60] or "question"


def static_text(question: str, given: str | None = None) -> str:
    """What a notebook viewed without a kernel shows for a prediction (text/plain)."""
    return (f"{given}\n" if given else "") + f"Predict: {question}\n(run the cell to answer)"


def _given_html(given: str | None) -> str:
    return f"<pre style='margin:2px 0'>{html.escape(given)}</pre>" if given else ""


def static_html(question: str, given: str | None = None) -> str:
    """The text/html twin of static_text."""
    return (f"<div class='mp-predict-static'>{_given_html(given)}<b>Predict:</b> "
            f"{html.escape(question)}<br><i>(run the cell to answer)</i></div>")


class Prediction:
    """One question with its answer kept in Python; displays as a widget that reveals the
    answer, the explanation and the real output only after the student's Check."""

    def __init__(self, question: str, answer: Answer, *, choices: Sequence[Answer] | None = None,
                 explain: str = "", output: str | None = None, given: str | None = None,
                 key: str | None = None) -> None:
        if not isinstance(question, str) or not question.strip():
            raise ValueError("a prediction needs a question (a non-empty string)")
        if isinstance(answer, numbers.Integral) and not isinstance(answer, bool):
            answer = int(answer)  # numpy and cffi integers become plain ints
        elif isinstance(answer, numbers.Real) and not isinstance(answer, int):
            answer = float(answer)
        if not isinstance(answer, int | float | str) or (isinstance(answer, float)
                                                        and not math.isfinite(answer)):
            raise ValueError(f"the answer must be an int, float, str or bool, not {answer!r}")
        if not isinstance(explain, str) or any(v is not None and not isinstance(v, str)
                                                for v in (output, given)):
            raise ValueError("explain, output and given are text (str)")
        if isinstance(answer, str) and not _tokens(answer):
            raise ValueError(f"a text answer needs at least one word or number, not {answer!r}")
        key = default_key(question) if key is None else key
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"key must be lower-case letters, digits, '-', '_' or '.', not {key!r}")
        if choices is None and isinstance(answer, bool):
            choices = (True, False)
        labels = None
        if choices is not None:
            labels = [self._label(c) for c in choices]
            if len(labels) < 2 or len(set(labels)) != len(labels):
                raise ValueError(f"choices must be at least two distinct options, got {choices!r}")
            if self._label(answer) not in labels:
                raise ValueError("the answer must be one of the choices")
        self.question, self.given, self.key, self.choices = question, given, key, labels
        self._answer, self._explain, self._output = answer, explain, output
        self.response: str | None = None  # what the student committed, once checked
        self.right: bool | None = None
        self._widget = None
        _record(self)
        _ASKED[key] = self

    @staticmethod
    def _label(value: Answer) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return format(value, ".4g") if isinstance(value, float) else str(value)

    @property
    def answer(self) -> Answer:
        """The computed answer (kernel side; the widget shows it only after Check)."""
        return self._answer

    @property
    def answered(self) -> bool:
        return self.response is not None

    def is_right(self, response: str) -> bool | None:
        """Whether `response` (as typed or picked) matches the answer; None if it is unreadable
        (a number was expected and none was given)."""
        if self.choices is not None:
            return response.strip() == self._label(self._answer)
        if isinstance(self._answer, int | float):
            got = _as_number(response, type(self._answer))
            if got is None:
                return None
            if isinstance(self._answer, int):
                return got == self._answer
            return math.isclose(got, self._answer, rel_tol=0.01, abs_tol=1e-9)
        return _tokens(response) == _tokens(self._answer)

    def check(self, response: str) -> bool:
        """Commit `response` as the student's answer (what the Check button does); returns
        whether it was right. A prediction is checked once: later calls raise ValueError."""
        if self.answered:
            raise ValueError("this prediction is already answered; run the cell again to retry")
        right = self.is_right(str(response))
        if right is None:
            kind = "a whole number" if isinstance(self._answer, int) else "a number"
            raise ValueError(f"{response!r} is not {kind}; the answer is {kind}")
        self.response, self.right = str(response), right
        if self._widget is not None:
            self._reveal()
        return right

    # -- the widget ---------------------------------------------------------------------------
    def widget(self) -> VBox:
        """The interactive form (built on first use)."""
        if self._widget is None:
            self._widget = self._build()
        return self._widget

    def _build(self) -> VBox:
        import ipywidgets as w

        prompt = w.HTML(f"{_given_html(self.given)}<b>Predict:</b> {html.escape(self.question)}")
        if self.choices is not None:
            self._input = w.RadioButtons(options=self.choices, value=None)
        else:
            hint = "a number" if isinstance(self._answer, int | float) else "your answer"
            self._input = w.Text(placeholder=hint, layout=w.Layout(width="16em"))
        self._button = w.Button(description="Check", button_style="primary",
                                tooltip="commit to your answer, then see the real one")
        self._note = w.HTML("")
        self._result = w.HTML("")  # stays empty until Check: the answer is never a trait before
        self._input.add_class("mp-predict-input")
        self._button.add_class("mp-predict-check")
        self._result.add_class("mp-predict-reveal")
        self._button.on_click(lambda _: self._on_check())
        box = w.VBox([prompt, w.HBox([self._input, self._button, self._note]), self._result])
        box.add_class("mp-predict")
        return box

    def _on_check(self) -> None:
        value = self._input.value
        if value is None or not str(value).strip():
            self._note.value = "<i>type or pick an answer first</i>"
            return
        try:
            self.check(str(value))
        except ValueError as e:
            self._note.value = f"<i>{html.escape(str(e))}</i>"

    def _reveal(self) -> None:
        self._input.disabled = self._button.disabled = True
        self._note.value = ""
        mark = ("<span style='color:#1a7f37'>&#10004; right</span>" if self.right
                else "<span style='color:#cf222e'>&#10008; not this time</span>")
        parts = [f"<div>Your answer: <b>{html.escape(str(self.response))}</b> {mark}</div>",
                 f"<div>Right answer: <b>{html.escape(self._label(self._answer))}</b></div>"]
        if self._explain:
            parts.append(f"<div>Why: {html.escape(self._explain)}</div>")
        if self._output:
            parts.append("<div>The real output:</div><pre style='margin:2px 0'>"
                         f"{html.escape(self._output)}</pre>")
        self._result.value = "".join(parts)

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        bundle = self.widget()._repr_mimebundle_()
        bundle["text/plain"] = static_text(self.question, self.given)
        bundle["text/html"] = static_html(self.question, self.given)
        return bundle

    def __repr__(self) -> str:
        return static_text(self.question, self.given)


def _record(p: Prediction) -> None:
    path = os.environ.get(RECORD_ENV)
    if not path:
        return
    line = {"key": p.key, "question": p.question, "given": p.given, "answer": p.answer,
            "explain": p._explain, "output": p._output}
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


_ASKED: dict[str, Prediction] = {}  # the latest prediction under each key, in this kernel


@dataclass(frozen=True)
class Score:
    """How the student did on the predictions asked in this kernel so far."""

    right: int
    answered: int
    asked: int

    def __repr__(self) -> str:
        return (f"Predictions: {self.right} right of {self.answered} answered "
                f"({self.asked} asked in this session)")

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self))}</b>"


def score() -> Score:
    """Right / answered / asked over the latest prediction under each key in this kernel."""
    done = [p for p in _ASKED.values() if p.answered]
    return Score(sum(1 for p in done if p.right), len(done), len(_ASKED))


def predict(question: str, answer: Answer, *, choices: Sequence[Answer] | None = None,
            explain: str = "", output: str | None = None, given: str | None = None,
            key: str | None = None) -> Prediction:
    """Ask `question`; `answer` (computed by the C, never typed in) is revealed after Check
    with `explain` (one line) and `output` (the real output, as text). `choices` makes it a
    multiple choice (a bool answer gets yes/no); else the student types a number or words.
    `given` (text: a trace, a table) is shown above the question. `key` names the prediction
    in tests/predict_answers.json (default: a slug of the question)."""
    return Prediction(question, answer, choices=choices, explain=explain, output=output,
                      given=given, key=key)


class _CallableModule(types.ModuleType):
    """Lets `mp.predict(...)` call predict() while `mp.predict.score()` stays a module call."""

    def __call__(self, question: str, answer: Answer, **options: object) -> Prediction:
        return predict(question, answer, **options)  # type: ignore[arg-type]


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["RECORD_ENV", "Prediction", "Score", "predict", "score", "static_html", "static_text"]
