"""The classic C program as a widget: malloc N ints, fill them, read them back, free."""

from __future__ import annotations

import ipywidgets as widgets

from mempools.errors import PoolError
from mempools.malloc import INT_BYTES, Malloc
from mempools.viz.svg import render_svg


class ClassicProgram(widgets.VBox):
    """Runs, in real C, the four steps every C course starts with, on its own Malloc heap:

        int *a = malloc(n * sizeof *a);  if (!a) ...;  fill;  sum;  free(a);

    The memory map shows the block between malloc and free."""

    def __init__(self, n: int = 10) -> None:
        self.heap = Malloc()
        self.count = widgets.IntSlider(value=n, min=1, max=64, description="n ints")
        self.run_button = widgets.Button(description="run")
        self.view = widgets.HTML()
        self.report = widgets.HTML()
        self.run_button.on_click(lambda _: self.run())
        super().__init__([widgets.HBox([self.count, self.run_button]), self.view, self.report])
        self.add_class("mp-classic-program")
        self.run()

    def run(self) -> int | None:
        """Do the four steps for the slider's n; returns the sum the C code read back."""
        n = self.count.value
        size = n * INT_BYTES
        try:
            block = self.heap.malloc(size)
        except PoolError as e:
            self.report.value = f"<pre>malloc failed: {e}</pre>"
            return None
        total = self.heap.ints_fill_and_sum(block)
        self.view.value = render_svg(self.heap.walk(), self.heap.memory(), row_bytes=64,
                                     title=f"the block: {n} ints = {size} bytes")
        self.heap.free(block)
        self.report.value = (
            f"<pre>int *a = malloc({n} * sizeof(int));   /* {size} bytes */\n"
            f"for (i = 0; i < {n}; i++) a[i] = i * i;\n"
            f"sum = {total}   /* read back: 0 + 1 + 4 + ... + {(n - 1) ** 2} */\n"
            f"free(a);   /* live blocks now: {self.heap.stats['live']} */</pre>")
        return total

    @property
    def svg(self) -> str:
        return self.view.value

    def __repr__(self) -> str:
        return f"ClassicProgram(n={self.count.value})"

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle["image/svg+xml"] = self.svg
        return bundle
