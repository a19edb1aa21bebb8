"""Where the files the package reads at run time live: the C sources and the bundled traces."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def csrc_dir() -> Path:
    """The directory with the C sources and headers (csrc layout, exercises/ and naive/ too)."""
    return _ROOT / "csrc"


def traces_dir() -> Path:
    """The directory with the bundled malloclab traces."""
    return _ROOT / "data" / "traces"
