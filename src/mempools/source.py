"""The C on screen: `show_c("fixed_pool_alloc")` shows the real source of a C function.

The text is read at run time from the C sources the package was built from
(`mempools.resources.csrc_dir()`), so what a lesson shows is the code that runs.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from mempools.resources import csrc_dir

_IDENT = re.compile(r"[A-Za-z_]\w*\Z")


@dataclass(frozen=True)
class CFunction:
    """One C function definition: where it is and its lines (leading comment included)."""

    name: str
    path: Path
    first_line: int  # 1-based line number of lines[0] in the file
    lines: tuple[str, ...]

    @property
    def last_line(self) -> int:
        return self.first_line + len(self.lines) - 1

    @property
    def where(self) -> str:
        """'csrc/fixed_pool.c' - the file as the repository names it."""
        return f"csrc/{self.path.relative_to(csrc_dir()).as_posix()}"

    @property
    def code(self) -> str:
        return "\n".join(self.lines) + "\n"


def _strip_literals(line: str, in_comment: bool) -> tuple[str, bool]:
    """`line` without comments, strings and character literals (so braces in them do not
    count), and whether a block comment is still open at its end."""
    out, i = [], 0
    while i < len(line):
        if in_comment:
            end = line.find("*/", i)
            if end < 0:
                return "".join(out), True
            i, in_comment = end + 2, False
        elif line.startswith("/*", i):
            in_comment, i = True, i + 2
        elif line.startswith("//", i):
            break
        elif line[i] in "\"'":
            quote, i = line[i], i + 1
            while i < len(line) and line[i] != quote:
                i += 2 if line[i] == "\\" else 1
            i += 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_comment


def _definition_end(lines: list[str], start: int) -> int | None:
    """Index of the line that closes the function whose signature starts at `start`, or None
    when the signature ends in ';' (a prototype, not a definition)."""
    depth, opened, in_comment = 0, False, False
    for k in range(start, len(lines)):
        code, in_comment = _strip_literals(lines[k], in_comment)
        for ch in code:
            if ch == ";" and not opened:
                return None
            if ch == "{":
                depth, opened = depth + 1, True
            elif ch == "}":
                depth -= 1
                if opened and depth == 0:
                    return k
    return None


def _comment_start(lines: list[str], start: int) -> int:
    """The first line of the comment block right above line `start` (no blank line between),
    or `start` when there is none."""
    k = start - 1
    if k < 0 or not lines[k].rstrip().endswith("*/"):
        return start
    while k >= 0 and "/*" not in lines[k]:
        k -= 1
    return k if k >= 0 and lines[k].lstrip().startswith("/*") else start


def _definitions_in(path: Path, name: str) -> list[CFunction]:
    lines = path.read_text().splitlines()
    head = re.compile(rf"^[A-Za-z_][\w \t*]*?\b{name}\s*\(")
    found = []
    for k, line in enumerate(lines):
        if head.match(line):
            end = _definition_end(lines, k)
            if end is not None:
                top = _comment_start(lines, k)
                found.append(CFunction(name, path, top + 1, tuple(lines[top:end + 1])))
    return found


def find_c(name: str, file: str | None = None) -> CFunction:
    """The definition of C function `name` in csrc/ (in `file`, e.g. "embedded_pool.c", when
    two files define a static function of that name). ValueError when absent or ambiguous."""
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ValueError(f"a C function name is an identifier, not {name!r}")
    root = csrc_dir()
    paths = sorted([*root.rglob("*.c"), *root.rglob("*.h")])  # inline fast paths live in headers
    if file is not None:
        paths = [p for p in paths if p.name == file or p.relative_to(root).as_posix() == file]
        if not paths:
            raise ValueError(f"no C file {file!r} in {root}")
    found = [f for p in paths for f in _definitions_in(p, name)]
    if not found:
        raise ValueError(f"no definition of {name}() in the C sources ({root})")
    if len(found) > 1:
        places = ", ".join(f.where for f in found)
        raise ValueError(f"{name}() is defined in {places}: pass file=... to choose one")
    return found[0]


_STYLE = ("font-family:var(--jp-code-font-family,monospace);font-size:var(--jp-code-font-size,13px);"
          "min-width:0;flex:1 1 28em")


class CSource:
    """What show_c displays: one or more C functions, highlighted (HTML) with a plain-text
    fallback that numbers every line as the file does."""

    def __init__(self, functions: list[CFunction]) -> None:
        self.functions = functions

    def __repr__(self) -> str:
        parts = []
        for f in self.functions:
            width = len(str(f.last_line))
            body = "\n".join(f"{n:>{width}}  {text}" for n, text in
                             enumerate(f.lines, start=f.first_line))
            parts.append(f"// {f.where}, lines {f.first_line}-{f.last_line}\n{body}")
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import CLexer

        boxes = []
        for f in self.functions:
            formatter = HtmlFormatter(noclasses=True, linenos="inline", linenostart=f.first_line,
                                      style="default", nobackground=False)
            caption = (f"<div style='font-size:90%;margin-bottom:2px'><code>{html.escape(f.where)}"
                       f"</code>, lines {f.first_line}&ndash;{f.last_line}</div>")
            boxes.append(f"<div class='mp-c-source' style='{_STYLE}'>{caption}"
                         f"{highlight(f.code, CLexer(), formatter)}</div>")
        return f"<div style='display:flex;gap:1em;flex-wrap:wrap'>{''.join(boxes)}</div>"


def show_c(*names: str, file: str | None = None) -> CSource:
    """The real source of the named C functions from csrc/, highlighted, with file and line
    numbers; several names are shown side by side (a naive version next to the real one)."""
    if not names:
        raise ValueError("show_c needs at least one C function name")
    return CSource([find_c(name, file) for name in names])


__all__ = ["CFunction", "CSource", "find_c", "show_c"]
