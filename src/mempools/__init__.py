"""mempools: how C programs get memory - malloc/free and three pool allocators in real C.

`import mempools` loads the pools, their errors, Block and traces; the heavier parts (`viz`,
`bench`, `naive`, `cprogram`, `exercises`) load on first use."""

from __future__ import annotations

import importlib
from types import ModuleType

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

#: submodules imported on first attribute access (module __getattr__, PEP 562)
_LAZY = ("bench", "c", "cprogram", "exercises", "naive", "resources", "viz", "workloads")


def __getattr__(name: str) -> ModuleType:
    if name in _LAZY:
        return importlib.import_module(f"mempools.{name}")
    raise AttributeError(f"module 'mempools' has no attribute {name!r}")


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
]
