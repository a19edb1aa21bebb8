"""What a student (and the grader) gets back: each check's property, the failing operations,
and the memory map at the failing step, as text and as HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from mempools.block import Region


@dataclass
class CheckResult:
    """One check: passed, or which property failed, why, after which operations."""

    name: str
    passed: bool
    prop: str = ""
    message: str = ""
    ops: list[str] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    points: int | None = None  # earned; None: 1 if passed else 0
    max_points: int = 1
    note: str = ""  # what a check worth several points says about its score
    data: dict = field(default_factory=dict)  # tables and frames a check sends for pictures

    @property
    def score(self) -> int:
        return (1 if self.passed else 0) if self.points is None else self.points

    def text(self) -> str:
        scored = f" ({self.score}/{self.max_points} points)" if self.max_points != 1 else ""
        if self.passed:
            return f"  PASS  {self.name}{scored}" + (f": {self.note}" if self.note else "")
        lines = [f"  FAIL  {self.name}{scored}", f"        [{self.prop}] {self.message}"]
        if self.ops:
            shown = self.ops[-8:]
            more = f" (last {len(shown)} of {len(self.ops)})" if len(self.ops) > len(shown) else ""
            lines.append(f"        operations{more}: " + "; ".join(shown))
        return "\n".join(lines)


@dataclass
class Report:
    """All checks of one exercise for one submission."""

    exercise: str
    title: str
    results: list[CheckResult] = field(default_factory=list)
    error: str = ""  # compile error or missing compiler: no check could run
    warnings: str = ""
    sanitizer: list[str] = field(default_factory=list)
    output: str = ""  # what the student's code printed (stdout, then stderr), capped

    @property
    def score(self) -> int:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> int:
        return sum(r.max_points for r in self.results)

    @property
    def passed(self) -> bool:
        """Every check passed (a check worth several points may still have earned fewer)."""
        return not self.error and bool(self.results) and all(r.passed for r in self.results)

    def text(self) -> str:
        unit = ("checks passed" if all(r.max_points == 1 for r in self.results)
                else "points")
        head = f"{self.exercise}: {self.title} - {self.score}/{self.max_score} {unit}"
        lines = [head]
        if self.error:
            lines.append("  did not run: " + self.error)
        lines += [r.text() for r in self.results]
        if self.warnings:
            lines.append("  compiler warnings:\n" + _indent(self.warnings))
        if self.output.strip():
            lines.append("  your code printed:\n" + _indent(self.output.rstrip()))
        if self.sanitizer:
            lines.append("  sanitizer (ASan + UBSan) reports:\n" + _indent("\n".join(self.sanitizer)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from mempools.viz.svg import render_svg  # only a notebook draws: grade never loads viz

        parts = [f"<pre class='mp-exercise-report'>{escape(self.text())}</pre>"]
        for r in self.results:
            if not r.passed and r.regions:
                parts.append(render_svg(r.regions, title=f"memory at the failing step: {r.name}"))
        return "".join(parts)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
