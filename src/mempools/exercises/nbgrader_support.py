"""nbgrader's own workflow on the C exercises. `nbgrader generate_assignment` replaces each C
solution region with the *Python* code stub of the course (`# YOUR CODE HERE` /
`raise NotImplementedError()` by default); `c_source` turns those lines back into the C stub that
`python -m mempools release` writes, so an untouched exercise says "not implemented yet" instead
of failing to compile. `points` is what a graded cell returns: nbgrader scores a grade cell whose
output is a number with that number (partial credit)."""

from __future__ import annotations

import json
from pathlib import Path

from mempools.exercises.release import STUB

#: nbgrader's own default (`ClearSolutions.code_stub["python"]`)
DEFAULT_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
C_COMMENT, C_CALL = STUB  # "/* YOUR CODE HERE */", "mp_not_implemented();"


def _config_dirs(start: Path) -> list[Path]:
    """Where nbgrader reads its config (the Jupyter config path), then `start` and the folders
    above it: autograding runs each notebook in <course>/autograded/<student>/<assignment>/, and
    the course's nbgrader_config.py is in <course>."""
    try:
        from jupyter_core.paths import jupyter_config_path
        dirs = [Path(d) for d in jupyter_config_path()]
    except ImportError:  # outside Jupyter (a plain `python -m mempools grade`)
        dirs = []
    return dirs + [start, *start.parents]


def _python_stub(config_file: Path) -> str | None:
    """`ClearSolutions.code_stub` for Python from one nbgrader config file, if it sets one.
    nbgrader accepts a dict by kernel language or (older configs) one string for Python."""
    try:
        if config_file.suffix == ".json":
            stub = json.loads(config_file.read_text()).get("ClearSolutions", {}).get("code_stub")
        else:
            from traitlets.config.loader import PyFileConfigLoader
            config = PyFileConfigLoader(config_file.name, str(config_file.parent)).load_config()
            stub = config.ClearSolutions.get("code_stub")
    except Exception:  # a config that does not load here leaves nbgrader's default stub in force
        return None
    if isinstance(stub, dict):
        stub = stub.get("python")
    return stub if isinstance(stub, str) else None


def code_stubs(start: Path | None = None) -> list[str]:
    """nbgrader's default Python stub and each one a course configured (nbgrader_config.py or
    .json) where nbgrader looks or in `start` (default: the working folder) and above it."""
    stubs = [DEFAULT_STUB]
    for folder in _config_dirs(start or Path.cwd()):
        for name in ("nbgrader_config.py", "nbgrader_config.json"):
            path = folder / name
            stub = _python_stub(path) if path.is_file() else None
            if stub and stub not in stubs:
                stubs.append(stub)
    return stubs


def _c_line(stub_line: str) -> str:
    """A Python comment keeps its words as a C comment; any other stub line (the `raise`) is the
    call that makes every check report "not implemented yet"."""
    if stub_line.startswith("#"):
        words = stub_line.lstrip("#").strip().replace("*/", "* /")
        return f"/* {words} */"
    return C_CALL


def c_source(source: str, stubs: list[str] | None = None) -> str:
    """`source` with every line of an nbgrader code stub replaced, at the same indent, by its C
    counterpart. Line by line, so a student who keeps `# YOUR CODE HERE` above their code, as
    they would in Python, still compiles, and one who leaves the `raise` is told "not
    implemented yet"."""
    mapping = {}
    for stub in stubs if stubs is not None else code_stubs():
        for line in stub.splitlines():
            if line.strip():
                mapping.setdefault(line.strip(), _c_line(line.strip()))
    out = []
    for line in source.splitlines(keepends=True):
        body = line.strip()
        if body in mapping:
            indent = line[: len(line) - len(line.lstrip())]
            end = line[len(line.rstrip("\r\n")):]
            line = f"{indent}{mapping[body]}{end}"
        out.append(line)
    return "".join(out)


def points(name: str, points: float) -> float:
    """What a graded cell returns: `points` times the share of exercise `name`'s checks that its
    last run passed. nbgrader scores a grade cell whose output is one number with that number;
    the report is printed above it (stdout: nbgrader gives 0 for anything on stderr), so the
    feedback says which checks failed and why. An exercise that never ran raises KeyError, which
    nbgrader scores 0."""
    from mempools.exercises import results

    if isinstance(points, bool) or not isinstance(points, int | float) or not points > 0:
        raise ValueError(f"points must be a positive number, not {points!r}")
    report = results[name]
    print(report.text())
    if report.max_score == 0:
        return 0.0
    return float(points) * report.score / report.max_score


__all__ = ["DEFAULT_STUB", "c_source", "code_stubs", "points"]
