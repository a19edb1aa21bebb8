"""Timeline: every state of a trace stacked, one row per step (villoc-style), so fragmentation
growing and compaction cleaning up show in one picture; same colours and hover text as the map."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from mempools.pool import Pool
from mempools.trace import Op, Trace, replay
from mempools.viz import explain
from mempools.viz.memory_map import Frame, snapshot, step_frame
from mempools.viz.png import drawing_png
from mempools.viz.svg import (
    CHANGED,
    COLOURS,
    LEGEND,
    MIN_PX,
    Drawing,
    Group,
    Labels,
    Line,
    Rect,
    Text,
    to_svg,
    tooltip,
)

STEP_LEFT = 150  # room for "step  op" down the left
STRIP = 14  # height of one step's row
FOLD = 24  # drawn width of an allocation table


def timeline_layout(frames: Sequence[Frame], width: int = 720, title: str = "") -> Drawing:
    """The shapes of a timeline: frame k drawn as row k, the whole memory in one strip, each
    region with its tooltip (plus the step's caption), what the step changed outlined."""
    total = max((r.offset + r.size for f in frames for r in f.regions), default=0) or 1
    # an allocation table that every frame starts with is bookkeeping: drawn FOLD px wide
    firsts = {f.regions[0] if f.regions else None for f in frames}
    table = next(iter(firsts)) if len(firsts) == 1 else None
    skip = table.size if table is not None and table.kind == "table" and table.offset == 0 else 0
    fold = FOLD if skip else 0
    scale = (width - STEP_LEFT - 8 - fold) / max(total - skip, 1)

    def x_of(offset: int) -> float:
        return STEP_LEFT + (offset * fold / skip if offset < skip else fold + (offset - skip) * scale)
    top = 8 + (16 if title else 0) + 14
    labels = Labels(width)
    shapes: list[Any] = []
    if title:
        shapes.append(Text(8, 18, title, bold=True))
        labels.place(8, 18, title)
    for k in range(5):  # an offset ruler over the strip
        at = skip + round(k * (total - skip) / 4)
        x = x_of(at)
        word = str(at)
        shapes.append(Line(x, top - 4, x, top, "#777", 1, "mp-ruler"))
        anchor = "end" if k == 4 else "start"
        if labels.place(x + (-2 if k == 4 else 2), top - 3, word, anchor):
            shapes.append(Text(x + (-2 if k == 4 else 2), top - 3, word, fill="#555",
                               anchor=anchor, cls="mp-ruler"))
    kinds: set[str] = set()
    for k, f in enumerate(frames):
        y = top + k * STRIP
        word = f"{k:>4} {f.op or 'start'}"
        shapes.append(Text(4, y + STRIP - 3, word, cls="mp-step"))
        hot = set(f.changed or ())
        notes = explain.notes(f)
        for i, r in enumerate(f.regions):
            kinds.add(r.kind)
            w = x_of(r.offset + r.size) - x_of(r.offset)
            tip = tooltip(r, f.data, notes.get(i, "")) + f"\n{f.caption}"
            if w < MIN_PX:
                tip += f"\ndrawn {MIN_PX:.0f} px wide to be seen: to scale it is {w:.1f} px"
            if r.kind == "table" and skip:
                tip += f"\ndrawn {fold} px wide: bookkeeping, not to scale"
            changed = i in hot
            shapes.append(Group(f"mp-region mp-{r.kind}" + (" mp-changed" if changed else ""),
                                tip, [Rect(x_of(r.offset), y + 1, max(w, MIN_PX),
                                           STRIP - 2, COLOURS.get(r.kind, "#fff"),
                                           CHANGED if changed else "white",
                                           1.5 if changed else 0.8)], r.offset, r.size))
    x, y = STEP_LEFT, top + len(frames) * STRIP + 8
    for kind in (k for k in COLOURS if k in kinds):
        words = LEGEND.get(kind, kind)
        shapes.append(Rect(x, y, 12, 12, COLOURS[kind], "#333", 0.5, cls="mp-legend"))
        shapes.append(Text(x + 16, y + 10, words, cls="mp-legend"))
        x += 24 + 6.7 * len(words)
    shapes.append(Rect(x, y, 12, 12, "none", CHANGED, 1.5, cls="mp-legend"))
    shapes.append(Text(x + 16, y + 10, "changed by the step", cls="mp-legend"))
    return Drawing(width, y + 22, shapes)


class Timeline(widgets.VBox):
    """`Timeline(pool, trace)`: replays `trace` on `pool` and shows every state at once, one
    row per step (N ops give N+1 rows: the empty pool first). Hover a block for its offset,
    size, bytes, decoded fields and the step's caption. Displays as SVG in a live notebook and
    as the same picture in PNG everywhere else (`png`)."""

    def __init__(self, pool: Pool, trace: Trace, width: int = 720, title: str = "") -> None:
        self.pool, self.title, self.width = pool, title, width
        self.frames: list[Frame] = [snapshot(pool, "start")]
        self.result = replay(trace, pool, on_step=self._record)
        self.drawing = timeline_layout(self.frames, width, title)
        self.svg = to_svg(self.drawing, "mp-timeline")
        super().__init__([widgets.HTML(self.svg)])
        self.add_class("mp-timeline-widget")

    def _record(self, step: int, op: Op, pool: Pool) -> None:
        self.frames.append(step_frame(step + 1, op, self.frames[-1], pool))

    @property
    def png(self) -> bytes:
        return drawing_png(self.drawing)

    def __repr__(self) -> str:
        return f"Timeline({type(self.pool).__name__}, {len(self.frames) - 1} steps)"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle.update({"image/svg+xml": self.svg,
                       "image/png": base64.b64encode(self.png).decode("ascii")})
        return bundle
