"""The capstone in the notebook: the student's heap stepped through the picture trace (their
mm_walk beside the driver's live payloads, one slider for both), the utilisation table and
the throughput beside libc's. Reads only a Report: the student's code ran in the sandbox."""

from __future__ import annotations

from html import escape
from typing import Any

import ipywidgets as widgets

from mempools.block import Region
from mempools.exercises import capstone
from mempools.exercises.report import Report
from mempools.viz.svg import render_svg

PICTURE = "your heap, drawn from mm_walk (not graded)"


def _frames(report: Report) -> list[dict]:
    result = next((r for r in report.results if r.name == PICTURE), None)
    return result.data.get("frames", []) if result is not None else []


class HeapMap(widgets.VBox):
    """Play + slider over the picture trace: each step draws what the student's mm_walk
    reports and, below it, the payloads the driver knows are live (overlaps outlined)."""

    def __init__(self, report: Report) -> None:
        self.frames: list[dict] = _frames(report)
        if not self.frames:
            raise ValueError("this report has no heap pictures: run the %%exercise capstone "
                             "cell first (the pictures come from its checks)")
        last = len(self.frames) - 1
        self.play = widgets.Play(min=0, max=last, interval=700)
        self.slider = widgets.IntSlider(min=0, max=last, description="step")
        widgets.link((self.play, "value"), (self.slider, "value"))
        self.caption = widgets.Label()
        self.caption.add_class("mp-heap-caption")
        self.view = widgets.HTML(layout=widgets.Layout(min_height="120px"))
        self.slider.observe(lambda change: self._show(change["new"]), names="value")
        super().__init__([widgets.HBox([self.play, self.slider]), self.caption, self.view])
        self.add_class("mp-student-heap")
        self._show(self.busiest)
        self.slider.value = self.busiest

    @property
    def busiest(self) -> int:
        """The step with the most live payload bytes (the first such): where the map opens."""
        live = [sum(size for _, size, _ in f["live"]) for f in self.frames]
        return live.index(max(live))

    def regions(self, index: int) -> tuple[list[Region] | None, list[Region]]:
        """(the walk's regions or None without mm_walk, the driver's) at step `index`."""
        frame = self.frames[index]
        end = max(frame["heap"], 16)
        walk = frame["walk"]
        mine = None if walk is None else [Region(*r) for r in capstone.walker_regions(walk, end)]
        return mine, [Region(*r) for r in capstone.driver_regions(frame["live"], end)]

    def svg(self, index: int) -> str:
        mine, driver = self.regions(index)
        frame = self.frames[index]
        row = capstone_row_bytes(max(f["heap"] for f in self.frames))
        top = (render_svg(mine, row_bytes=row, title="your mm_walk: allocated and free blocks")
               if mine is not None else "<p>no mm_walk yet: write one to see your blocks</p>")
        bottom = render_svg(driver, row_bytes=row, title="the driver: live payloads by trace id")
        problem = (f"<p class='mp-heap-problem'>{escape(frame['problem'])}</p>"
                   if frame["problem"] else "")
        return f"<div class='mp-student-heap-svg'>{problem}{top}{bottom}</div>"

    def _show(self, index: int) -> None:
        self.caption.value = f"{self.frames[index]['caption']} (heap {self.frames[index]['heap']} B)"
        self.view.value = self.svg(index)

    def __repr__(self) -> str:
        return f"HeapMap(step {self.slider.value}/{len(self.frames) - 1})"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/html"] = self.svg(self.slider.value)  # what a viewer without a kernel shows
        return bundle


def capstone_row_bytes(heap: int) -> int:
    """One row width for every step, so blocks keep their place as the heap grows."""
    per_row = 64
    while per_row * 8 < heap:
        per_row *= 2
    return per_row


def utilisation_table(report: Report) -> str:
    """Markdown-free text table: trace, verdict, utilisation, points."""
    lines = [f"{'trace':<22}{'verdict':<22}{'utilisation':>12}{'points':>9}"]
    for r in report.results:
        if not r.max_points:
            continue
        verdict = "correct" if r.passed else f"FAIL: {r.prop}"
        util = f"{r.data['utilisation']:.1%}" if r.passed else "-"
        lines.append(f"{r.name:<22}{verdict:<22}{util:>12}{r.score:>5}/{r.max_points}")
    lines.append(f"{'total':<56}{report.score:>5}/{report.max_score}")
    return "\n".join(lines)


def throughput_table(report: Report) -> str:
    """Ops per second of the student's allocator and libc's on each trace (never graded)."""
    lines = [f"{'trace':<22}{'yours (ops/s)':>15}{'libc (ops/s)':>15}{'ratio':>8}"]
    for r in report.results:
        if r.passed and "ops_per_second" in r.data:
            mine, libc = r.data["ops_per_second"], r.data["libc_ops_per_second"]
            ratio = f"{mine / libc:.2f}" if mine > 0 and libc > 0 else "-"
            lines.append(f"{r.name:<22}{mine:>15,.0f}{libc:>15,.0f}{ratio:>8}")
    return "\n".join(lines)
