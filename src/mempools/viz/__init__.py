"""Pictures of memory: a pure SVG renderer and the MemoryMap widget built on it."""

from mempools.viz.memory_map import SVG, Frame, MemoryMap, draw, snapshot
from mempools.viz.svg import COLOURS, render_svg

__all__ = ["COLOURS", "SVG", "Frame", "MemoryMap", "draw", "render_svg", "snapshot"]
