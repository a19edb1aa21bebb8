"""Pictures of memory: a pure SVG renderer and the MemoryMap widget built on it."""

from mempools.viz.classic import ClassicProgram
from mempools.viz.compare import Compare
from mempools.viz.figures import MarkdownTable, markdown, plot_ratio, plot_usable_sizes
from mempools.viz.memory_map import SVG, Frame, MemoryMap, draw, picture, snapshot
from mempools.viz.png import render_png
from mempools.viz.svg import COLOURS, render_svg
from mempools.viz.timeline import Timeline

__all__ = [
    "COLOURS",
    "SVG",
    "Timeline",
    "ClassicProgram",
    "Compare",
    "Frame",
    "MarkdownTable",
    "MemoryMap",
    "draw",
    "markdown",
    "plot_ratio",
    "picture",
    "plot_usable_sizes",
    "render_png",
    "render_svg",
    "snapshot",
]
