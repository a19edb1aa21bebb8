"""fixed-alloc-free: exactly count blocks, LIFO reuse, payloads intact under random churn."""

import random

from mempools.exercises.tester import Checks, Regions, Tester, spans_map

LESSON = "03"
TITLE = "The fixed pool's alloc and free (lazy init)"
DECLARATIONS = "void *ex_fixed_alloc(ex_fixed *p);\nvoid ex_fixed_free(ex_fixed *p, void *block);"
CHECKS = Checks()


class FixedUnderTest:
    """An ex_fixed of `count` blocks over a 16-aligned buffer; the live blocks by label, and
    the ones freed since (drawn too, so a map at a double free shows the block in question)."""

    def __init__(self, t: Tester, stride: int = 16, count: int = 8) -> None:
        self.t, self.stride, self.count = t, stride, count
        self.raw = t.ffi.new("unsigned char[]", stride * count + 16)
        start = (-t.address(self.raw)) % 16
        self.base = t.address(self.raw) + start
        self.in_use = t.ffi.new("unsigned char[]", count)
        self.p = t.ffi.new("ex_fixed *", (self.raw + start, stride, count, 0, t.ffi.NULL,
                                          self.in_use))
        self.live: dict[int, str] = {}
        self.freed: dict[int, str] = {}

    def regions(self) -> Regions:
        spans = [(off, self.stride, label) for off, label in self.live.items()]
        spans += [(off, self.stride, f"{label} (freed)") for off, label in self.freed.items()
                  if off not in self.live]
        return spans_map(spans, self.stride * self.count)

    def alloc(self, label: str, fn: str = "ex_fixed_alloc") -> int | None:
        self.t.op(f"{label} = {fn}(p)")
        ptr = getattr(self.t.lib, fn)(self.p)
        if ptr == self.t.ffi.NULL:
            return None
        off = self.t.address(ptr) - self.base
        if off % self.stride or not 0 <= off < self.stride * self.count:
            self.t.fail("block boundary", f"{label} at offset {off} is not a block of the pool",
                        self.regions())
        if off in self.live:
            self.t.fail("no overlap", f"{label} is block {off // self.stride}, which "
                        f"{self.live[off]} still holds", self.regions())
        self.live[off] = label
        self.t.ffi.memmove(self.base_ptr(off), label.encode().ljust(self.stride, b"."), self.stride)
        return off

    def base_ptr(self, off: int) -> object:
        return self.t.ffi.cast("unsigned char *", self.base + off)

    def free(self, off: int, fn: str = "ex_fixed_free") -> int | None:
        label = self.live.pop(off)
        self.freed[off] = label
        self.t.op(f"{fn}(p, {label})")
        return getattr(self.t.lib, fn)(self.p, self.base_ptr(off))

    def intact(self) -> None:
        for off, label in self.live.items():
            if self.t.ffi.buffer(self.base_ptr(off), self.stride)[:] != label.encode().ljust(
                    self.stride, b"."):
                self.t.fail("payload intact", f"{label}'s bytes changed while it was allocated",
                            self.regions())


@CHECKS("exactly count blocks, then NULL")
def _fixed_count(t: Tester) -> None:
    pool = FixedUnderTest(t)
    for i in range(8):
        if pool.alloc(f"b{i}") is None:
            t.fail("exhaustion at the right count", f"allocation {i} returned NULL; the pool "
                   "has 8 blocks", pool.regions())
        if pool.p.high_water != i + 1:
            t.fail("lazy init", f"after {i + 1} allocations high_water is {pool.p.high_water}",
                   pool.regions())
    if pool.alloc("b8") is not None:
        t.fail("exhaustion at the right count", "a 9th block came out of an 8-block pool",
               pool.regions())
    pool.intact()


@CHECKS("reuse after free, most recent first")
def _fixed_reuse(t: Tester) -> None:
    pool = FixedUnderTest(t)
    offs = [pool.alloc(f"b{i}") for i in range(4)]
    pool.free(offs[1])
    pool.free(offs[3])
    again = pool.alloc("c0")
    if again != offs[3]:
        t.fail("reuse after free (LIFO)", f"expected the last freed block (offset {offs[3]}), "
               f"got offset {again}", pool.regions())
    if pool.alloc("c1") != offs[1]:
        t.fail("reuse after free (LIFO)", "the second allocation did not reuse the other freed "
               "block", pool.regions())
    pool.intact()


@CHECKS("random churn keeps every payload intact (shortest failing sequence)")
def _fixed_churn(t: Tester) -> None:
    for length in range(1, 30, 3):
        t.ops.clear()
        rng = random.Random(length)
        pool = FixedUnderTest(t)
        for step in range(length):
            if pool.live and (len(pool.live) == 8 or rng.random() < 0.4):
                pool.free(rng.choice(sorted(pool.live)))
            else:
                pool.alloc(f"s{step}")
            pool.intact()
