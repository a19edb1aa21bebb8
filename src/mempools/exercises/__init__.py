"""Exercises: students write C in a `%%exercise <name>` cell (or call `check(name, source)`);
it compiles at run time and every check runs in a child process, so no mistake can kill the
kernel. `python -m mempools release` and `python -m mempools grade` are for instructors."""

from __future__ import annotations

from typing import Any

from mempools.exercises.catalog import CATALOG
from mempools.exercises.checking import check
from mempools.exercises.nbgrader_support import points
from mempools.exercises.report import CheckResult, Report

#: the latest Report per exercise name, for grading cells
results: dict[str, Report] = {}


def run_cell(line: str, cell: str) -> Report:
    """The body of the %%exercise magic: `line` is the exercise name (add --sanitize to also
    run ASan + UBSan)."""
    words = line.split()
    if not words:
        raise ValueError("usage: %%exercise <name> [--sanitize]; names: " + ", ".join(CATALOG))
    report = check(words[0], cell, sanitize="--sanitize" in words[1:])
    results[words[0]] = report
    return report


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext mempools.exercises` registers the %%exercise cell magic."""
    ipython.register_magic_function(run_cell, magic_kind="cell", magic_name="exercise")


__all__ = ["CATALOG", "CheckResult", "Report", "check", "load_ipython_extension", "points",
           "results", "run_cell"]
