"""Argument checks shared by every wrapper: a bad argument never reaches C."""

from __future__ import annotations

import operator

from mempools._native import ffi
from mempools.errors import BadAlignment, BadSize

#: the largest value C's size_t holds on this platform
SIZE_MAX = 2 ** (8 * ffi.sizeof("size_t")) - 1


def as_size(value: object, what: str = "size", *, allow_zero: bool = False) -> int:
    """Return `value` as a size_t-range int, or raise BadSize naming `what`."""
    if isinstance(value, bool):
        raise BadSize(f"{what} must be an integer number of bytes, not {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise BadSize(f"{what} must be an integer number of bytes, not {value!r}") from None
    if n < 0:
        raise BadSize(f"{what} must not be negative (got {n})")
    if n == 0 and not allow_zero:
        raise BadSize(f"{what} must be at least 1 byte (got 0)")
    if n > SIZE_MAX:
        raise BadSize(f"{what} {n} does not fit in size_t (max {SIZE_MAX})")
    return n


def as_alignment(value: object, *, minimum: int = 1) -> int:
    """Return `value` as a power-of-two alignment >= minimum, or raise BadAlignment."""
    if isinstance(value, bool):
        raise BadAlignment(f"alignment must be a power of two, not {value!r}")
    try:
        a = operator.index(value)
    except TypeError:
        raise BadAlignment(f"alignment must be a power of two, not {value!r}") from None
    if a <= 0 or a & (a - 1) or a > SIZE_MAX:
        raise BadAlignment(f"alignment must be a power of two, got {a}")
    if a < minimum:
        raise BadAlignment(f"alignment must be at least {minimum} here, got {a}")
    return a


def checked_product(n: object, size: object) -> int:
    """n * size as C's size_t must hold it, or BadSize when it would overflow."""
    count, each = as_size(n, "count", allow_zero=True), as_size(size, "element size", allow_zero=True)
    total = count * each
    if total > SIZE_MAX:
        raise BadSize(f"{count} * {each} = {total} overflows size_t (max {SIZE_MAX})")
    return total
