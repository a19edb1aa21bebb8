"""mempools: how C programs get memory - malloc/free and three pool allocators in real C.

`import mempools` loads the pools, their errors, Block and traces; the heavier parts (`viz`,
`bench`, `naive`, `cprogram`, `exercises`) load on first use."""

from __future__ import annotations

import importlib

from mempools.block import Block, Region
from mempools.bump import BumpPool, Mark
from mempools.constants import ErrorCode, RegionKind
from mempools.embedded import EmbeddedPool
from mempools.errors import (
    BadAlignment,
    BadSize,
    CompileError,
    CorruptPool,
    DoubleFree,
    ForeignBlock,
    LockError,
    NoCompiler,
    OutOfMemory,
    PoolError,
    PoolMisuse,
    StaleHandle,
    UseAfterClose,
)
from mempools.fixed import FixedPool
from mempools.free_list import FreeListPool
from mempools.malloc import Malloc
from mempools.pool import Pool
from mempools.trace import (
    Op,
    Replay,
    ReplayError,
    ReplayResult,
    Trace,
    TraceError,
    TraceWarning,
    replay,
)

#: loaded on first use (module __getattr__, PEP 562): submodules by name, and a few functions
#: (`mp.predict` is the callable module mempools.predict) as (module, attribute)
_LAZY: dict[str, tuple[str, str | None]] = {
    **{name: (f"mempools.{name}", None) for name in (
        "bench", "c", "cprogram", "exercises", "naive", "practice", "predict", "resources", "viz",
        "workloads")},
    "show_c": ("mempools.source", "show_c"),
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'mempools' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "BadAlignment",
    "BadSize",
    "Block",
    "BumpPool",
    "CompileError",
    "CorruptPool",
    "DoubleFree",
    "EmbeddedPool",
    "ErrorCode",
    "FixedPool",
    "ForeignBlock",
    "FreeListPool",
    "LockError",
    "Malloc",
    "Mark",
    "NoCompiler",
    "Op",
    "OutOfMemory",
    "Pool",
    "PoolError",
    "PoolMisuse",
    "Region",
    "RegionKind",
    "Replay",
    "ReplayError",
    "ReplayResult",
    "StaleHandle",
    "Trace",
    "TraceError",
    "TraceWarning",
    "UseAfterClose",
    "replay",
    "practice",
    "predict",
    "show_c",
]
