"""The raw C functions, for lessons that must show what C itself returns (a NULL pointer, a
wrapped size). Everything else should go through the validating pool classes.

    from mempools.c import ffi, lib
    lib.malloc(2**62) == ffi.NULL   # True: malloc says no by returning NULL
"""

from mempools._native import ffi, lib

__all__ = ["ffi", "lib"]
