"""Exercises: students write C in a `%%exercise <name>` cell (or call `check(name, source)`);
it compiles at run time and every check runs in a sandboxed child process, so no mistake can
kill the kernel. `python -m mempools release` and `python -m mempools grade` are for instructors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mempools.exercises.report import Report

#: the latest Report per exercise name, for grading cells
results: dict[str, Report] = {}


def run_cell(line: str, cell: str) -> Report | None:
    """The body of the %%exercise magic: `line` is the exercise name (add --sanitize to run
    the checks under ASan + UBSan). A wrong name is said plainly, not raised."""
    from mempools.exercises.catalog import CATALOG
    from mempools.exercises.checking import check

    words = line.split()
    if not words or words[0] not in CATALOG:
        given = f"there is no exercise named {words[0]!r}; " if words else ""
        print(f"{given}write %%exercise <name> [--sanitize], with <name> one of: "
              + ", ".join(CATALOG))
        return None
    report = check(words[0], cell, sanitize="--sanitize" in words[1:])
    results[words[0]] = report
    return report


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext mempools.exercises` registers the %%exercise cell magic."""
    ipython.register_magic_function(run_cell, magic_kind="cell", magic_name="exercise")


def __getattr__(name: str) -> Any:
    """CATALOG, check, points, CheckResult and Report load on first use."""
    if name == "CATALOG":
        from mempools.exercises.catalog import CATALOG
        return CATALOG
    if name == "check":
        from mempools.exercises.checking import check
        return check
    if name == "points":
        from mempools.exercises.nbgrader_support import points
        return points
    if name in ("CheckResult", "Report"):
        from mempools.exercises import report
        return getattr(report, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CATALOG", "CheckResult", "Report", "check", "load_ipython_extension", "points",
           "results", "run_cell"]
