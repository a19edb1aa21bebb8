"""Static matplotlib figures for the lessons: pure drawing functions that take data and an
optional Axes, in the PythonDataScienceHandbook style."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# matplotlib is imported when a figure is drawn, not with the package: exercise checks run in
# child processes (some under AddressSanitizer) that never draw and should start fast.


def plot_usable_sizes(requested: Sequence[int], usable: Sequence[int],
                      chunk: Sequence[int] | None = None, ax: Axes | None = None) -> Axes:
    """Requested vs usable bytes per block (and the whole chunk, header included, if given)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.figure(figsize=(7, 3.5)).gca()
    ax.plot(requested, requested, "--", color="grey", label="requested")
    ax.step(requested, usable, where="post", label="usable (malloc_usable_size)")
    if chunk is not None:
        ax.step(requested, chunk, where="post", label="chunk (with its header)")
    ax.set_xlabel("bytes requested")
    ax.set_ylabel("bytes")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return ax


def plot_ratio(labels: Sequence[str], values: Sequence[float], title: str,
               ax: Axes | None = None) -> Axes:
    """A horizontal bar per label (e.g. ns per operation), labelled with its value."""
    import matplotlib.pyplot as plt

    ax = ax or plt.figure(figsize=(7, 0.5 + 0.5 * len(labels))).gca()
    bars = ax.barh(list(labels), list(values), color="#4e79a7")
    ax.bar_label(bars, fmt="%.1f")
    ax.set_title(title)
    ax.invert_yaxis()
    return ax


class MarkdownTable(str):
    """A Markdown table that front ends render as a table; its text form (what nbval compares
    and a terminal prints) is the table's own text."""

    def _repr_markdown_(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return str(self)


def markdown(text: str) -> MarkdownTable:
    """Show Markdown text (a table from mp.bench.table) rendered in the notebook."""
    return MarkdownTable(text)
