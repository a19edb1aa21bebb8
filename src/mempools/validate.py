"""Argument checks shared by every wrapper: a bad argument never reaches C. Each message names
the call, the argument, the rule and, where there is one, the fix."""

from __future__ import annotations

import operator

from mempools.constants import SIZE_MAX
from mempools.errors import BadAlignment, BadSize


def _prefix(call: str) -> str:
    return f"{call}: " if call else ""


def as_int(value: object, what: str, call: str = "", error: type[Exception] = BadSize) -> int:
    """`value` as a Python int: ints and integer types such as numpy's; never bool or float."""
    if isinstance(value, bool):
        raise error(f"{_prefix(call)}{what} must be an integer, not the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise error(f"{_prefix(call)}{what} must be an integer, not {type(value).__name__} "
                    f"{value!r:.40}") from None


def as_size(value: object, what: str = "size", *, allow_zero: bool = False, call: str = "",
            unit: str = "byte") -> int:
    """Return `value` as a size_t-range int, or raise BadSize naming `what`."""
    if type(value) is int and 0 < value <= SIZE_MAX:  # the common case, checked first
        return value
    n = as_int(value, what, call)
    if n < 0:
        raise BadSize(f"{_prefix(call)}{what} must not be negative (got {n})")
    if n == 0 and not allow_zero:
        raise BadSize(f"{_prefix(call)}{what} must be at least 1 {unit} (got 0)")
    if n > SIZE_MAX:
        raise BadSize(f"{_prefix(call)}{what} {n} does not fit in size_t (max {SIZE_MAX})")
    return n


def as_alignment(value: object, *, minimum: int = 1, call: str = "") -> int:
    """Return `value` as a power-of-two alignment >= minimum, or raise BadAlignment."""
    a = as_int(value, "align", call, BadAlignment)
    if a <= 0 or a & (a - 1) or a > SIZE_MAX:
        raise BadAlignment(f"{_prefix(call)}align must be a power of two (1, 2, 4, 8, ...), "
                           f"got {a}")
    if a < minimum:
        raise BadAlignment(f"{_prefix(call)}align must be at least {minimum} here, got {a}")
    return a


def checked_product(n: object, size: object, call: str = "") -> int:
    """n * size as C's size_t must hold it, or BadSize when it would overflow."""
    count = as_size(n, "count", allow_zero=True, call=call, unit="element")
    each = as_size(size, "element size", allow_zero=True, call=call)
    total = count * each
    if total > SIZE_MAX:
        raise BadSize(f"{_prefix(call)}{count} * {each} = {total} overflows size_t "
                      f"(max {SIZE_MAX})")
    return total
