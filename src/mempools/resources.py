"""Where the package's data lives at run time: the C sources and the bundled traces."""

from __future__ import annotations

from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]


def csrc_dir() -> Path:
    """The folder holding the allocators' C sources and headers."""
    return _ROOT / "csrc"


def traces_dir() -> Path:
    """The folder holding the bundled malloclab-style traces."""
    return _ROOT / "data" / "traces"
