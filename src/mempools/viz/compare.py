"""Compare: two pools, one trace, one slider: the same step of each drawn side by side with
both captions, so a student sees where the two allocators part ways."""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

import ipywidgets as widgets

from mempools.pool import Pool
from mempools.trace import Trace
from mempools.viz.memory_map import MemoryMap, frame_args
from mempools.viz.png import render_png


def side_by_side(left: bytes, right: bytes, gap: int = 12) -> bytes:
    """Two PNGs as one, left and right, top-aligned, on white."""
    from PIL import Image  # Pillow: matplotlib's own dependency

    a, b = Image.open(io.BytesIO(left)), Image.open(io.BytesIO(right))
    out = Image.new("RGB", (a.width + gap + b.width, max(a.height, b.height)), "white")
    out.paste(a.convert("RGB"), (0, 0))
    out.paste(b.convert("RGB"), (a.width + gap, 0))
    buffer = io.BytesIO()
    out.save(buffer, format="PNG")
    return buffer.getvalue()


class Compare(widgets.VBox):
    """`Compare(pool_a, pool_b, trace)`: replays `trace` on both pools and steps both maps with
    one Play button and one slider, each map under its own worded caption."""

    def __init__(self, pool_a: Pool, pool_b: Pool, trace: Trace, names: tuple[str, str] | None = None,
                 width: int = 470) -> None:
        self.names = names or (_name(pool_a), _name(pool_b))
        self.maps = (MemoryMap(pool_a, trace, title=self.names[0]),
                     MemoryMap(pool_b, trace, title=self.names[1]))
        for m in self.maps:
            m.width = width
        steps = len(self.maps[0].frames) - 1
        self.play = widgets.Play(min=0, max=steps, interval=800)
        self.slider = widgets.IntSlider(min=0, max=steps, description="step")
        widgets.link((self.play, "value"), (self.slider, "value"))
        self.slider.observe(lambda change: self.step(change["new"]), names="value")
        # captions as HTML: a Label cuts a long sentence at the panel's edge, HTML wraps it
        self.words = [widgets.HTML(layout=widgets.Layout(width=f"{width}px")) for _ in self.maps]
        panels = [widgets.VBox([words, m.view], layout=widgets.Layout(width=f"{width + 10}px"))
                  for words, m in zip(self.words, self.maps)]
        super().__init__([widgets.HBox([self.play, self.slider]), widgets.HBox(panels)])
        self.add_class("mp-compare")
        self.step(0)

    @property
    def captions(self) -> tuple[str, str]:
        return self.maps[0].caption.value, self.maps[1].caption.value

    def step(self, index: int) -> None:
        """Show step `index` on both sides (as moving the slider does)."""
        if self.slider.value != index:
            self.slider.value = index
            return
        for words, m in zip(self.words, self.maps):
            m._show(index)
            words.value = f"<div class='mp-caption'>{escape(m.caption.value)}</div>"

    @property
    def png(self) -> bytes:
        """Both maps' last frames, side by side."""
        pictures = []
        for m in self.maps:
            f = m.frames[-1]
            pictures.append(render_png(f.regions, f.data, width=m.width,
                                       **frame_args(f, m.row_bytes, f"{m.title}: {f.caption}")))
        return side_by_side(*pictures)

    def __repr__(self) -> str:
        return f"Compare({self.names[0]} | {self.names[1]}, step {self.slider.value}/{self.slider.max})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        return bundle


def _name(pool: Pool) -> str:
    policy = getattr(pool, "policy", getattr(pool, "fit", None))
    return type(pool).__name__ + (f" ({policy} fit)" if isinstance(policy, str) else "")
