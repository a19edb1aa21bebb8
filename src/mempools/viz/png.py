"""render_png: the same memory map as render_svg, as a PNG that every front end shows without
trust (an untrusted JupyterLab, GitHub, nbviewer), drawn with matplotlib from the same layout."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from mempools.block import Region
from mempools.viz.svg import (
    BOUNDARY,
    COLOURS,
    LEFT,
    LEGEND,
    LINK,
    OVERLAP,
    ROW_HEIGHT,
    TOP,
    _elide,
    _real_offset,
    _row_bytes,
    _spans,
    dead_tails,
    lane_box,
    lanes,
    link_margin,
    overlaps,
    table_note,
)


def render_png(regions: Sequence[Region], data: bytes | None = None, *,
               links: Iterable[tuple[int, int]] = (), row_bytes: int | None = None,
               width: int = 720, title: str = "", chunks: Sequence[tuple[int, int]] = ()) -> bytes:
    """PNG bytes of the memory map render_svg draws (same rows, colours, labels and arrows;
    no hover text: a picture cannot have any)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, Rectangle

    regions = dead_tails(regions, chunks)
    total = max((r.offset + r.size for r in regions), default=0)
    per_row = row_bytes or _row_bytes(total)
    drawn, shifts = _elide(regions, per_row)
    total = max((r.offset + r.size for r in drawn), default=0)
    scale = (width - LEFT - 8) / per_row
    rows = max(1, -(-total // per_row))
    links = list(links)
    y0 = TOP + (16 if title else 0) + link_margin(links)
    height = y0 + rows * ROW_HEIGHT + 46
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.axis("off")
    text = {"family": "monospace", "fontsize": 8}
    if title:
        ax.text(LEFT, TOP + 10, title, fontweight="bold", **text)
    for row in range(rows):
        ax.text(LEFT - 6, y0 + row * ROW_HEIGHT + 15, str(_real_offset(row * per_row, shifts, per_row)),
                ha="right", **text)
    for region, truth, lane in zip(drawn, regions, lanes(drawn)):
        top, tall = lane_box(lane)
        note = table_note(region, truth)
        for x, y, w in _spans(region.offset, region.size, per_row, scale, y0):
            ax.add_patch(Rectangle((x, y + top), w, tall, facecolor=COLOURS[region.kind],
                                   edgecolor="#333", linewidth=0.5,
                                   linestyle="--" if region.kind == "untouched" else "-"))
            if note:
                ax.text(x + 4, y + top + 14, note, color="#111", zorder=3, **text)
                note = ""
            if region.owner and region.kind == "payload":
                inside = w > 6 * len(region.owner) + 2  # else the label goes just after the block
                ax.text(x + 2 if inside else x + w + 2, y + top + tall / 2 + 4,
                        region.owner if inside else "\u2190" + region.owner,
                        color="white" if inside else "#111", **text)
    clashes = overlaps(drawn)
    for offset, size in clashes:
        for x, y, w in _spans(offset, size, per_row, scale, y0):
            ax.add_patch(Rectangle((x, y), w, ROW_HEIGHT - 2, fill=False, edgecolor=OVERLAP,
                                   linewidth=2.5))
    if links:
        head = next(s for s, _ in links if s not in {d for _, d in links})
        row, col = divmod(head, per_row)
        ax.text(LEFT + col * scale, y0 + row * ROW_HEIGHT - 22, "head", color=LINK,
                fontweight="bold", **text)
    for start, _ in list(chunks)[1:]:
        row, col = divmod(start, per_row)
        ax.plot([LEFT + col * scale] * 2, [y0 + row * ROW_HEIGHT - 2, y0 + (row + 1) * ROW_HEIGHT],
                color=BOUNDARY, linewidth=3)
    for src, dst in links:
        (r1, c1), (r2, c2) = divmod(src, per_row), divmod(dst, per_row)
        p1 = (LEFT + c1 * scale + 4, y0 + r1 * ROW_HEIGHT + 4)
        p2 = (LEFT + c2 * scale + 4, y0 + r2 * ROW_HEIGHT + 4)
        ax.add_patch(FancyArrowPatch(p1, p2, connectionstyle="arc3,rad=0.3", arrowstyle="-|>",
                                     mutation_scale=8, color=LINK, linewidth=1.5))
    x, y = LEFT, y0 + rows * ROW_HEIGHT + 14
    for kind, colour in COLOURS.items():
        if kind in {r.kind for r in drawn}:
            ax.add_patch(Rectangle((x, y), 12, 12, facecolor=colour, edgecolor="#333", linewidth=0.5))
            ax.text(x + 16, y + 10, LEGEND.get(kind, kind), **text)
            x += 24 + 7 * len(LEGEND.get(kind, kind))
    if clashes:
        ax.add_patch(Rectangle((x, y), 12, 12, fill=False, edgecolor=OVERLAP, linewidth=2.5))
        ax.text(x + 16, y + 10, "overlap: two blocks, same bytes", **text)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    return out.getvalue()
