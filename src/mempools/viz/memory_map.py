"""MemoryMap: the widget that shows any pool's walk(), live or stepping through a trace."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from mempools.block import Block, Region
from mempools.errors import BadSize, PoolError
from mempools.pool import Pool
from mempools.trace import Op, Replay, ReplayResult, Trace, replay
from mempools.validate import as_size
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


def snapshot(pool: Pool, caption: str = "") -> Frame:
    """The pool's state now, read only through walk(), memory(), stats and (if any) links()."""
    links = pool.links() if hasattr(pool, "links") else []
    chunks = pool.chunks() if hasattr(pool, "chunks") else []
    return Frame(pool.walk(), pool.memory(), links, caption, dict(pool.stats), chunks)


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
    """A static picture of the pool now."""
    frame = snapshot(pool)
    return picture(frame.regions, frame.data, links=frame.links, row_bytes=row_bytes, title=title,
                   chunks=frame.chunks)


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
                self.built[step + 1] = self._picture(step, op)
        if i not in self.built:
            op = self.run.trace.ops[i - 1]
            return Frame([], b"", [], f"step {i}: {op} (passed over in a jump: frames are "
                         "pictured from the step the slider lands on)", {})
        return self.built[i]

    def _picture(self, step: int, op: Op) -> Frame:
        frame = snapshot(self.run.pool, f"step {step + 1}: {op}")
        before = self.built.get(step)
        moved = frame.stats.get("bytes_moved", 0) - (before.stats.get("bytes_moved", 0)
                                                     if before else 0)
        if moved and before:  # pools that move blocks say how much each step cost
            frame = dataclasses.replace(frame, caption=f"{frame.caption} (moved {moved} bytes)")
        return frame


class MemoryMap(widgets.VBox):
    """Live memory map of a pool. With `trace`, replays it and steps through one frame per op
    (Play + slider, linked); without, offers alloc/free buttons on the pool itself.

    A trace of up to `EAGER_OPS` ops is replayed at once (the pool ends in its final state);
    a longer one is replayed as the slider moves (`_LazyFrames`), so the map opens at once
    and the pool and `result` are at the furthest step reached."""

    EAGER_OPS = 1000

    def __init__(self, pool: Pool, trace: Trace | None = None, row_bytes: int | None = None,
                 title: str = "") -> None:
        self.pool, self.row_bytes, self.title = pool, row_bytes, title
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
        frame = snapshot(pool, f"step {step + 1}: {op}")
        moved = frame.stats.get("bytes_moved", 0) - self.frames[-1].stats.get("bytes_moved", 0)
        if moved:  # pools that move blocks say how much each step cost
            frame = Frame(frame.regions, frame.data, frame.links,
                          f"{frame.caption} (moved {moved} bytes)", frame.stats, frame.chunks)
        self.frames.append(frame)

    @property
    def frame(self) -> int:
        """Index of the frame shown."""
        return self._index

    @property
    def svg(self) -> str:
        """The SVG of the frame shown (also what static viewers see)."""
        f = self.frames[self._index]
        return render_svg(f.regions, f.data, links=f.links, row_bytes=self.row_bytes,
                          title=self.title, chunks=f.chunks)

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
        self.frames.append(snapshot(self.pool, caption))
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
        args = {"links": f.links, "row_bytes": self.row_bytes, "title": title, "chunks": f.chunks}
        bundle.update(_bundle(render_svg(f.regions, f.data, **args), render_png(f.regions, f.data, **args)))
        return bundle
