"""MemoryMap: the widget that shows any pool's walk(), live or stepping through a trace."""

from __future__ import annotations

import base64
import dataclasses
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from mempools.block import Block, Region
from mempools.errors import BadSize, PoolError
from mempools.pool import Pool
from mempools.trace import Op, Replay, ReplayResult, Trace, replay
from mempools.validate import as_size
from mempools.viz import explain
from mempools.viz.png import render_png
from mempools.viz.svg import render_svg


@dataclass(frozen=True)
class Frame:
    """One picture: regions, bytes and links of a pool after an op, plus a caption."""

    regions: list[Region]
    data: bytes
    links: list[tuple[int, int]]
    caption: str
    stats: dict[str, int]
    chunks: list[tuple[int, int]] = field(default_factory=list)  # (offset, size) of a chain
    pool: str = ""  # the pool's class name: how to read its bytes
    heads: list[int] = field(default_factory=list)  # offset of each free list's head, -1 if empty
    policy: str = ""  # placement policy ("good", "first", ...), for the captions
    gaps: dict[int, str] = field(default_factory=dict)  # offset of an elided run -> its story
    changed: list[int] | None = None  # indices of the regions the step changed (None: not a step)
    marks: list[tuple[int, str]] = field(default_factory=list)  # step-specific marks
    op: str = ""  # the op that made this frame, as trace text ("a 3 40")


def _heads(pool: Pool) -> list[int]:
    if hasattr(pool, "free_lists"):
        return [chain[0] + explain.WORD if chain else -1 for chain in pool.free_lists()]
    if hasattr(pool, "free_list") and hasattr(pool, "stride"):
        order = pool.free_list()
        return [order[0] * pool.stride if order else -1]
    return []


def snapshot(pool: Pool, caption: str = "") -> Frame:
    """The pool's state now, read only through walk(), memory(), stats and (if any) links(),
    chunks(), its free lists' heads and the far-apart runs it elides."""
    links = pool.links() if hasattr(pool, "links") else []
    chunks = pool.chunks() if hasattr(pool, "chunks") else []
    gaps = pool.elided() if hasattr(pool, "elided") else {}
    return Frame(pool.walk(), pool.memory(), links, caption, dict(pool.stats), chunks,
                 type(pool).__name__, _heads(pool),
                 str(getattr(pool, "policy", getattr(pool, "fit", ""))), gaps)


def step_frame(step: int, op: Op, before: Frame, pool: Pool) -> Frame:
    """The frame after op number `step` (1-based): worded caption, changed regions, marks."""
    after = snapshot(pool)
    return dataclasses.replace(after, caption=explain.caption(step, op, before, after),
                               changed=explain.changed(before.regions, after.regions),
                               marks=explain.chosen(op, before, after), op=str(op))


def frame_args(f: Frame, row_bytes: int | None, title: str) -> dict[str, Any]:
    """render_svg/render_png keyword arguments that draw frame `f`."""
    return {"links": f.links, "row_bytes": row_bytes, "title": title, "chunks": f.chunks,
            "changed": f.changed, "marks": explain.marks(f) + f.marks, "notes": explain.notes(f)}


def _bundle(svg: str, png: bytes) -> dict[str, str]:
    """SVG for a trusted notebook (hover text), PNG beside it for every viewer that refuses SVG
    from an untrusted notebook (JupyterLab before Trust, GitHub, nbviewer)."""
    return {"image/svg+xml": svg, "image/png": base64.b64encode(png).decode("ascii")}


class SVG:
    """A static memory map for notebook output: SVG plus the same picture as PNG."""

    def __init__(self, svg: str, png: bytes) -> None:
        self.svg, self.png = svg, png

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {"text/plain": repr(self), **_bundle(self.svg, self.png)}

    def __repr__(self) -> str:
        return "<memory map>"


def picture(regions: list[Region], data: bytes | None = None, *,
            links: list[tuple[int, int]] | None = None, row_bytes: int | None = None,
            title: str = "", chunks: list[tuple[int, int]] | None = None) -> SVG:
    """A static memory map of any regions (a naive pool's walk, a frame), as SVG and PNG."""
    args = {"links": links or [], "row_bytes": row_bytes, "title": title, "chunks": chunks or []}
    return SVG(render_svg(regions, data, **args), render_png(regions, data, **args))


def draw(pool: Pool, title: str = "", row_bytes: int | None = None) -> SVG:
    """A static picture of the pool now, with its pointers marked and its fields decoded."""
    f = snapshot(pool)
    args = frame_args(f, row_bytes, title)
    return SVG(render_svg(f.regions, f.data, **args), render_png(f.regions, f.data, **args))


class _LazyFrames(Sequence[Frame]):
    """The frames of a long trace, built as the replay reaches them: opening the map costs
    nothing, and a jump forward replays the ops in between but pictures only the last
    `BACKLOG` of them (a picture of a big heap is megabytes). A step passed over in a jump
    stays a caption without a picture."""

    BACKLOG = 16

    def __init__(self, run: Replay, first: Frame) -> None:
        self.run = run
        self.built: dict[int, Frame] = {0: first}

    def __len__(self) -> int:
        return len(self.run.trace) + 1

    def __getitem__(self, index: int) -> Frame:  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]  # type: ignore[return-value]
        i = index + len(self) if index < 0 else index
        if not 0 <= i < len(self):
            raise IndexError(f"frame {index} is outside 0..{len(self) - 1}")
        while self.run.position < i:
            step = self.run.position
            op = self.run.step()
            if step + 1 >= i - self.BACKLOG:
                before = self.built.get(step)
                self.built[step + 1] = (step_frame(step + 1, op, before, self.run.pool)
                                        if before is not None and before.regions
                                        else dataclasses.replace(snapshot(
                                            self.run.pool, f"step {step + 1}: {op}"), op=str(op)))
        if i not in self.built:
            op = self.run.trace.ops[i - 1]
            return Frame([], b"", [], f"step {i}: {op} (passed over in a jump: frames are "
                         "pictured from the step the slider lands on)", {})
        return self.built[i]



class MemoryMap(widgets.VBox):
    """Live memory map of a pool. With `trace`, replays it and steps through one frame per op
    (Play + slider, linked); without, offers alloc/free buttons on the pool itself.

    A trace of up to `EAGER_OPS` ops is replayed at once (the pool ends in its final state);
    a longer one is replayed as the slider moves (`_LazyFrames`), so the map opens at once
    and the pool and `result` are at the furthest step reached."""

    EAGER_OPS = 1000

    def __init__(self, pool: Pool, trace: Trace | None = None, row_bytes: int | None = None,
                 title: str = "", width: int = 720) -> None:
        self.pool, self.row_bytes, self.title, self.width = pool, row_bytes, title, width
        self.view = widgets.HTML(layout=widgets.Layout(min_height="60px"))
        self.caption = widgets.Label()
        self.status = widgets.Label()
        self.frames: list[Frame] | _LazyFrames = [snapshot(pool, "start")]
        self._result = None
        controls: list[Any]
        if trace is not None and len(trace) > self.EAGER_OPS:
            self.frames = _LazyFrames(Replay(trace, pool), self.frames[0])
        elif trace is not None:
            self._result = replay(trace, pool, on_step=self._record)
        if trace is not None:
            self.play = widgets.Play(min=0, max=len(self.frames) - 1, interval=600)
            self.slider = widgets.IntSlider(min=0, max=len(self.frames) - 1,
                                            description="step")
            widgets.link((self.play, "value"), (self.slider, "value"))
            self.slider.observe(lambda change: self._show(change["new"]), names="value")
            controls = [widgets.HBox([self.play, self.slider])]
        else:
            controls = [self._live_controls()]
        super().__init__(controls + [self.caption, self.view, self.status])
        self.add_class("mp-memory-map")
        self._show(len(self.frames) - 1 if trace is None else 0)

    # -- frames -----------------------------------------------------------------------------
    @property
    def result(self) -> ReplayResult | None:
        """What the replay measured and caught (so far, for a long trace); None without one."""
        if isinstance(self.frames, _LazyFrames):
            return self.frames.run.result
        return self._result

    def _record(self, step: int, op: Op, pool: Pool) -> None:
        self.frames.append(step_frame(step + 1, op, self.frames[-1], pool))

    @property
    def frame(self) -> int:
        """Index of the frame shown."""
        return self._index

    @property
    def svg(self) -> str:
        """The SVG of the frame shown (also what static viewers see)."""
        f = self.frames[self._index]
        return render_svg(f.regions, f.data, width=self.width,
                          **frame_args(f, self.row_bytes, self.title))

    def _show(self, index: int) -> None:
        self._index = index
        self.caption.value = self.frames[index].caption
        self.view.value = self.svg

    def step(self, index: int) -> None:
        """Show frame `index` (as moving the slider does)."""
        if hasattr(self, "slider"):
            self.slider.value = index
        else:
            self._show(index)

    def save(self, path: str | os.PathLike[str], duration_ms: int = 700) -> int:
        """Write every frame, its caption as the title, for slides: an animated GIF when `path`
        ends in .gif, else one PNG with the frames stacked top to bottom. Returns the number
        of frames written. (A long trace is replayed to its end to do it.)"""
        from PIL import Image  # Pillow: matplotlib's own dependency

        pictures = []
        for f in self.frames:
            title = f"{self.title} - {f.caption}" if self.title else f.caption
            png = render_png(f.regions, f.data, width=self.width,
                             **frame_args(f, self.row_bytes, title))
            pictures.append(Image.open(io.BytesIO(png)).convert("RGB"))
        w, h = max(p.width for p in pictures), max(p.height for p in pictures)
        if str(path).lower().endswith(".gif"):
            canvases = []
            for p in pictures:  # one size for every frame, or viewers rescale each one
                canvas = Image.new("RGB", (w, h), "white")
                canvas.paste(p, (0, 0))
                canvases.append(canvas)
            canvases[0].save(path, save_all=True, append_images=canvases[1:],
                             duration=duration_ms, loop=0)
        else:
            strip = Image.new("RGB", (w, sum(p.height for p in pictures)), "white")
            y = 0
            for p in pictures:
                strip.paste(p, (0, y))
                y += p.height
            strip.save(path, format="PNG")
        return len(pictures)

    # -- live operations --------------------------------------------------------------------
    def _live_controls(self) -> widgets.Widget:
        # not Bounded: a bad size must reach the pool and be refused there, not be clamped
        self.size = widgets.IntText(value=16, description="bytes", layout=widgets.Layout(width="160px"))
        self.alloc_button = widgets.Button(description="alloc")
        self.block_menu = widgets.Dropdown(options=[], description="block",
                                           layout=widgets.Layout(width="200px"))
        self.free_button = widgets.Button(description="free")
        self.alloc_button.on_click(lambda _: self.alloc(self.size.value))
        self.free_button.on_click(lambda _: self.free(self.block_menu.value))
        self._refresh_menu()
        return widgets.HBox([self.size, self.alloc_button, self.block_menu, self.free_button])

    def _refresh_menu(self) -> None:
        """List the live blocks and select the newest, the one a student most likely frees."""
        live = list(self.pool.live)
        self.block_menu.options = [(b.label, b) for b in live]
        self.block_menu.value = max(live, key=lambda b: b.id) if live else None

    def _after(self, caption: str) -> None:
        before, after = self.frames[-1], snapshot(self.pool, caption)
        self.frames.append(dataclasses.replace(
            after, changed=explain.changed(before.regions, after.regions)))
        self._refresh_menu()
        self._show(len(self.frames) - 1)

    def alloc(self, size: int) -> Block | None:
        """Allocate through the pool's own call and redraw; errors go to the status line."""
        try:
            if hasattr(self.pool, "malloc"):
                block = self.pool.malloc(size)
            elif hasattr(self.pool, "block_size"):
                if as_size(size) > self.pool.block_size:
                    raise BadSize(f"{size} bytes do not fit in a {self.pool.block_size}-byte "
                                  "block of this FixedPool")
                block = self.pool.alloc()
            else:
                block = self.pool.alloc(size)
        except PoolError as e:
            self.status.value = f"refused: {e}"
            return None
        self.status.value = ""
        self._after(f"alloc {size} -> {block.label} at offset {block.offset}")
        return block

    def free(self, block: Block | None) -> None:
        """Free through the pool and redraw; errors go to the status line."""
        if block is None:
            self.status.value = "nothing to free"
            return
        try:
            self.pool.free(block)
        except (PoolError, AttributeError) as e:
            self.status.value = f"refused: {e}"
            return
        self.status.value = ""
        self._after(f"free {block.label}")

    # -- display ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        return (f"MemoryMap({type(self.pool).__name__}, frame {self._index}/"
                f"{len(self.frames) - 1})")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget, plus a static picture for viewers without a kernel: the last frame (a
        trace's first frame is an empty pool), its caption in the title; for a long trace
        replayed lazily, the frame shown (picturing the last would replay all of it)."""
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        f = self.frames[-1] if isinstance(self.frames, list) else self.frames[self._index]
        title = f"{self.title} - {f.caption}" if self.title else f.caption
        args = {"width": self.width, **frame_args(f, self.row_bytes, title)}
        bundle.update(_bundle(render_svg(f.regions, f.data, **args), render_png(f.regions, f.data, **args)))
        return bundle
