"""array-alloc: the block must hold n * size bytes (the tracked allocator knows its size), and
products that overflow size_t must be refused."""

from mempools.exercises.catalog import SIZE_MAX
from mempools.exercises.tester import Checks, Tester

LESSON = "01"
TITLE = "An overflow-safe array allocation"
DECLARATIONS = "void *ex_array_alloc(size_t n, size_t size);"
CHECKS = Checks()


def _alloc(t: Tester, n: int, size: int) -> object:
    t.op(f"ex_array_alloc({n}, {size})")
    return t.lib.ex_array_alloc(n, size)


def _holds(t: Tester, p: object, n: int, size: int) -> None:
    """The block came from malloc and holds all n * size bytes."""
    got = t.block_size(p)
    if got == 0:
        t.fail("block from malloc", f"ex_array_alloc({n}, {size}) returned memory that malloc "
               "did not hand out (a static or stack buffer, or a pointer into a block?)")
    if got < n * size:
        t.fail("block size", f"ex_array_alloc({n}, {size}) returned a block of {got} bytes; "
               f"{n} elements of {size} bytes need {n * size}")


@CHECKS("returns a usable block of n * size bytes")
def _array_usable(t: Tester) -> None:
    p = _alloc(t, 10, 8)
    if p == t.ffi.NULL:
        t.fail("usable block", "ex_array_alloc(10, 8) returned NULL")
    _holds(t, p, 10, 8)
    t.op("write and read back all 80 bytes")
    t.ffi.memmove(p, bytes(range(80)), 80)
    if t.ffi.buffer(p, 80)[:] != bytes(range(80)):
        t.fail("payload intact", "the 80 bytes did not read back")
    t.op("free(block)")
    t.lib.ex_free(p)


@CHECKS("refuses a product that overflows size_t")
def _array_overflow(t: Tester) -> None:
    for n, size in [(2**61 + 1, 8), (SIZE_MAX, 2), (2**63, 2), (2**32 + 1, 2**32)]:
        p = _alloc(t, n, size)
        if p != t.ffi.NULL:
            t.lib.ex_free(p)
            t.fail("overflow", f"ex_array_alloc({n}, {size}) returned a block, but {n} * {size} "
                   f"does not fit in size_t: it wrapped to {(n * size) % (SIZE_MAX + 1)} bytes")


@CHECKS("does not refuse products that fit, and sizes them right")
def _array_fits(t: Tester) -> None:
    for n, size in [(1 << 20, 16), (3, 1), (1, 3), (2**24, 1), (7, 13)]:
        p = _alloc(t, n, size)
        if p == t.ffi.NULL:
            t.fail("no false refusal", f"ex_array_alloc({n}, {size}) returned NULL for "
                   f"{n * size} bytes, which fit")
        _holds(t, p, n, size)
        t.op(f"write the last byte, offset {n * size - 1}")
        t.ffi.cast("unsigned char *", p)[n * size - 1] = 0xAB
        t.lib.ex_free(p)
