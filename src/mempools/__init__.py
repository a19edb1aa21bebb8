"""mempools: how C programs get memory - malloc/free and three pool allocators in real C."""

from mempools.block import Block, Region
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
from mempools.malloc import Malloc

__all__ = [
    "BadAlignment",
    "BadSize",
    "Block",
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
