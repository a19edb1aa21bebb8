"""render_png: the same memory map as render_svg, as a PNG that every front end shows without
trust (an untrusted JupyterLab, GitHub, nbviewer), drawn with matplotlib from the same shapes."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence

from mempools.block import Region
from mempools.viz.svg import LINK, Arrow, Drawing, Group, Line, Rect, Text, layout


def drawing_png(drawing: Drawing) -> bytes:
    """PNG bytes of a layout's shapes (no hover text: a picture cannot have any)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, Rectangle

    fig = Figure(figsize=(drawing.width / 100, drawing.height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, drawing.width)
    ax.set_ylim(drawing.height, 0)
    ax.axis("off")

    def draw(shapes: Iterable) -> None:
        for s in shapes:
            if isinstance(s, Group):
                draw(s.shapes)
            elif isinstance(s, Rect):
                ax.add_patch(Rectangle((s.x, s.y), s.w, s.h, fill=s.fill != "none",
                                       facecolor=None if s.fill == "none" else s.fill,
                                       edgecolor=s.stroke, linewidth=s.stroke_width,
                                       linestyle="--" if s.dashed else "-", alpha=s.opacity))
            elif isinstance(s, Text):
                ax.text(s.x, s.y, s.text, color=s.fill, family="monospace", fontsize=8,
                        fontweight="bold" if s.bold else "normal",
                        ha="right" if s.anchor == "end" else "left", zorder=3)
            elif isinstance(s, Line):
                ax.plot([s.x1, s.x2], [s.y1, s.y2], color=s.stroke, linewidth=s.width)
            elif isinstance(s, Arrow):
                ax.add_patch(FancyArrowPatch((s.x1, s.y1), (s.x2, s.y2),
                                             connectionstyle="arc3,rad=0.3", arrowstyle="-|>",
                                             mutation_scale=8, color=LINK, linewidth=1.5))

    draw(drawing.shapes)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()


def render_png(regions: Sequence[Region], data: bytes | None = None, *,
               links: Iterable[tuple[int, int]] = (), row_bytes: int | None = None,
               width: int = 720, title: str = "", chunks: Sequence[tuple[int, int]] = (),
               changed: Iterable[int] | None = None, marks: Sequence[tuple[int, str]] = (),
               notes: Mapping[int, str] | None = None) -> bytes:
    """PNG bytes of the memory map render_svg draws (same shapes)."""
    return drawing_png(layout(regions, data, links=links, row_bytes=row_bytes, width=width,
                              title=title, chunks=chunks, changed=changed, marks=marks,
                              notes=notes))
