"""Where the files the package reads at run time live: the C sources and headers (for `run_c`,
the exercises and `show_c`) and the bundled traces.

`csrc/` and `data/traces/` in the repository are their one home. Building a wheel copies them
into the package (`mempools/_csrc`, `mempools/_traces`), so a wheel works anywhere; an editable
install has no copies and reads the checkout's folders instead."""

from __future__ import annotations

from functools import cache
from pathlib import Path

#: where the build puts each folder inside the package, and where it lives in a checkout
_PACKAGED = {"csrc": "_csrc", "traces": "_traces"}
_CHECKOUT = {"csrc": Path("csrc"), "traces": Path("data", "traces")}


@cache
def _locate(name: str) -> Path:
    # this module's own folder is the package's: unlike importlib.resources.files(), that also
    # holds in an exercise check's child, which imports mempools as a bare namespace
    inside = Path(__file__).resolve().parent / _PACKAGED[name]
    if inside.is_dir():
        return inside
    checkout = Path(__file__).resolve().parents[2] / _CHECKOUT[name]
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"mempools is installed without its {name} files (looked in {inside} "
                            f"and {checkout}); reinstall it from a wheel or a source checkout")


def csrc_dir() -> Path:
    """The folder of C sources and headers, laid out as csrc/ (naive/, exercises/ included)."""
    return _locate("csrc")


def traces_dir() -> Path:
    """The folder of bundled malloclab traces (*.rep)."""
    return _locate("traces")


__all__ = ["csrc_dir", "traces_dir"]
