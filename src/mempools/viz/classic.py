"""The classic C program as a widget: malloc N ints, fill them, read them back, free."""

from __future__ import annotations

import base64

import ipywidgets as widgets

from mempools.errors import PoolError
from mempools.malloc import INT_BYTES, Malloc
from mempools.viz.png import render_png
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
        ints_word = "int" if n == 1 else "ints"
        self.regions, self.data = self.heap.walk(), self.heap.memory()
        self.title = f"the block: {n} {ints_word} = {size} bytes"
        self.view.value = render_svg(self.regions, self.data, row_bytes=64, title=self.title)
        self.heap.free(block)
        self.report.value = (
            f"<pre>int *a = malloc({n} * sizeof(int));   /* {size} bytes */\n"
            f"for (i = 0; i < {n}; i++) a[i] = i * i;\n"
            f"sum = {total}   /* read back: {squares_sum_text(n)} */\n"
            f"free(a);   /* live blocks now: {self.heap.stats['live']} */</pre>")
        return total

    @property
    def png(self) -> bytes:
        return render_png(self.regions, self.data, row_bytes=64, title=self.title)

    @property
    def svg(self) -> str:
        return self.view.value

    def __repr__(self) -> str:
        return f"ClassicProgram(n={self.count.value})"

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        bundle.update({"image/svg+xml": self.svg,
                       "image/png": base64.b64encode(self.png).decode("ascii")})
        return bundle


def squares_sum_text(n: int) -> str:
    """`0 + 1 + 4 + ... + (n-1)^2`, written out in full when short, never with a wrong term."""
    terms = [str(i * i) for i in range(n)]
    if n <= 5:
        return " + ".join(terms)
    return " + ".join(terms[:3]) + " + ... + " + terms[-1]
