"""aligned-bump: every piece aligned, inside the pool, overlapping no other; refusals change nothing."""

import random

from mempools.exercises.catalog import SIZE_MAX
from mempools.exercises.tester import Checks, Regions, Tester, spans_map

LESSON = "02"
TITLE = "Aligned bump allocation"
DECLARATIONS = "void *ex_bump_alloc(ex_bump *b, size_t size, size_t align);"
CHECKS = Checks()


class BumpUnderTest:
    """An ex_bump over a buffer aligned to 64, with the pieces it handed out."""

    def __init__(self, t: Tester, capacity: int) -> None:
        self.t, self.capacity = t, capacity
        self.raw = t.ffi.new("unsigned char[]", capacity + 64)
        start = (-t.address(self.raw)) % 64
        self.base = t.address(self.raw) + start
        self.b = t.ffi.new("ex_bump *", (self.raw + start, capacity, 0))
        self.pieces: list[tuple[int, int, str]] = []

    def alloc(self, size: int, align: int) -> int | None:
        self.t.op(f"ex_bump_alloc(b, {size}, {align})")
        p = self.t.lib.ex_bump_alloc(self.b, size, align)
        if p == self.t.ffi.NULL:
            return None
        off = self.t.address(p) - self.base
        self.pieces.append((off, size, f"#{len(self.pieces)}"))
        return off

    def regions(self) -> Regions:
        return spans_map(self.pieces, self.capacity)


def _bump_sequence(t: Tester, length: int, seed: int) -> None:
    rng = random.Random(seed)
    bump = BumpUnderTest(t, 256)
    for _ in range(length):
        size, align = rng.randint(1, 40), rng.choice([1, 2, 4, 8, 16, 32, 64])
        off = bump.alloc(size, align)
        if off is None:
            continue
        if off % align:
            t.fail("alignment", f"offset {off} is not a multiple of {align}", bump.regions())
        if off < 0 or off + size > bump.capacity:
            t.fail("in bounds", f"piece [{off}, {off + size}) is outside the 256-byte pool",
                   bump.regions())
        for other_off, other_size, label in bump.pieces[:-1]:
            if off < other_off + other_size and other_off < off + size:
                t.fail("no overlap", f"piece [{off}, {off + size}) overlaps {label} at "
                       f"[{other_off}, {other_off + other_size})", bump.regions())


@CHECKS("aligned, in bounds, no overlap (shortest failing sequence)")
def _bump_properties(t: Tester) -> None:
    for length in range(1, 13):  # shortest first, so the failure shown is the shortest found
        for seed in range(8):
            t.ops.clear()
            _bump_sequence(t, length, seed)


@CHECKS("the last byte is usable, one more is refused")
def _bump_exact(t: Tester) -> None:
    bump = BumpUnderTest(t, 64)
    if bump.alloc(64, 1) != 0:
        t.fail("exact fit", "a 64-byte request did not fit a 64-byte pool", bump.regions())
    if bump.alloc(1, 1) is not None:
        t.fail("exhaustion", "a full pool handed out another byte", bump.regions())


@CHECKS("refuses bad alignments and sizes near SIZE_MAX")
def _bump_refusals(t: Tester) -> None:
    bump = BumpUnderTest(t, 128)
    bump.alloc(1, 1)
    for size, align, why in [(8, 0, "alignment 0"), (8, 3, "alignment 3"), (8, 24, "alignment 24"),
                             (0, 8, "size 0"), (SIZE_MAX, 1, "size SIZE_MAX"),
                             (SIZE_MAX - 2, 8, "a size whose padding wraps around")]:
        before = bump.b.offset
        if bump.alloc(size, align) is not None:
            t.fail("refusal", f"{why} was accepted", bump.regions())
        if bump.b.offset != before:
            t.fail("unchanged after refusal", f"{why} moved the offset from {before} to "
                   f"{bump.b.offset}", bump.regions())
