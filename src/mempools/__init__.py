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

__all__ = [
    "BadAlignment",
    "BadSize",
    "Block",
    "BumpPool",
    "EmbeddedPool",
    "FixedPool",
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
]
