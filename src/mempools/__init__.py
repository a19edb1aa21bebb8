"""mempools: how C programs get memory - malloc/free and three pool allocators in real C."""

from mempools import bench, cprogram, naive, viz
from mempools.block import Block, Region
from mempools.bump import BumpPool, Mark
from mempools.embedded import EmbeddedPool
from mempools.errors import (
    BadAlignment,
    BadSize,
    CorruptPool,
    DoubleFree,
    ForeignBlock,
    LockError,
    OutOfMemory,
    PoolError,
    PoolMisuse,
    StaleHandle,
    UseAfterClose,
)
from mempools.fixed import FixedPool
from mempools.free_list import FreeListPool
from mempools.malloc import Malloc
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

# loaded on first use: `mp.predict` is the (callable) module mempools.predict
_LAZY = {"predict": ("mempools.predict", None), "practice": ("mempools.practice", None),
         "show_c": ("mempools.source", "show_c")}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'mempools' has no attribute {name!r}")
    import importlib

    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)


__all__ = [
    "BadAlignment",
    "BadSize",
    "Block",
    "BumpPool",
    "EmbeddedPool",
    "FixedPool",
    "FreeListPool",
    "Mark",
    "Op",
    "Replay",
    "ReplayError",
    "ReplayResult",
    "Trace",
    "TraceError",
    "TraceWarning",
    "bench",
    "cprogram",
    "naive",
    "replay",
    "viz",
    "CorruptPool",
    "DoubleFree",
    "ForeignBlock",
    "LockError",
    "Malloc",
    "OutOfMemory",
    "PoolError",
    "PoolMisuse",
    "Region",
    "StaleHandle",
    "UseAfterClose",
    "practice",
    "predict",
    "show_c",
]
