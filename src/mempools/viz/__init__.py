"""Pictures of memory: a pure SVG renderer and the MemoryMap widget built on it."""

from mempools.viz.classic import ClassicProgram
from mempools.viz.figures import plot_ratio, plot_usable_sizes
from mempools.viz.memory_map import SVG, Frame, MemoryMap, draw, snapshot
from mempools.viz.svg import COLOURS, render_svg

__all__ = [
    "COLOURS",
    "SVG",
    "ClassicProgram",
    "Frame",
    "MemoryMap",
    "draw",
    "plot_ratio",
    "plot_usable_sizes",
    "render_svg",
    "snapshot",
]
