"""The numbers csrc/pool_common.h defines, read from the compiled C through cffi: error codes,
region kinds and SIZE_MAX. Python never retypes them."""

from __future__ import annotations

from enum import IntEnum

from mempools._native import ffi


def _enum_from_c(name: str, c_type: str, prefix: str) -> type[IntEnum]:
    values = ffi.typeof(c_type).relements  # name -> value, as the C compiler computed them
    return IntEnum(name, {key.removeprefix(prefix): value
                          for key, value in sorted(values.items(), key=lambda kv: kv[1])})


#: pool_error: what every fallible C call returns (OK is 0)
ErrorCode = _enum_from_c("ErrorCode", "pool_error", "POOL_")
#: pool_region_kind: what a walker reports for each run of bytes
RegionKind = _enum_from_c("RegionKind", "pool_region_kind", "POOL_REGION_")
#: the largest value C's size_t holds on this platform
SIZE_MAX = int(ffi.cast("size_t", -1))


def kind_name(kind: int) -> str:
    """The lower-case name walk() shows for a region kind ("payload", "free", ...)."""
    return RegionKind(kind).name.lower()


__all__ = ["SIZE_MAX", "ErrorCode", "RegionKind", "kind_name"]
