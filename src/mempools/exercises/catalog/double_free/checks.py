"""double-free: a checked free refuses double, interior, foreign and never-allocated pointers."""


from mempools.exercises.catalog.fixed_alloc_free.checks import FixedUnderTest
from mempools.exercises.tester import Checks, Tester

LESSON = "03"
TITLE = "Double-free and foreign-pointer detection"
DECLARATIONS = "int ex_fixed_free_checked(ex_fixed *p, void *block);"
CHECKS = Checks()


@CHECKS("a good free succeeds and the block is reused")
def _double_ok(t: Tester) -> None:
    pool = FixedUnderTest(t)
    a = pool.alloc("a", "ex_ref_fixed_alloc")
    got = pool.free(a, "ex_fixed_free_checked")
    if got != 0:
        t.fail("good free", f"freeing a live block returned {got}, expected 0", pool.regions())
    if pool.alloc("b", "ex_ref_fixed_alloc") != a:
        t.fail("reuse after free", "the freed block was not on the free list", pool.regions())


@CHECKS("a double free is refused and changes nothing")
def _double_double(t: Tester) -> None:
    pool = FixedUnderTest(t)
    a = pool.alloc("a", "ex_ref_fixed_alloc")
    pool.free(a, "ex_fixed_free_checked")
    t.op("ex_fixed_free_checked(p, a)  /* again */")
    got = t.lib.ex_fixed_free_checked(pool.p, pool.base_ptr(a))
    if got != 2:
        t.fail("double free detected", f"the second free returned {got}, expected 2", pool.regions())
    first, second = pool.alloc("b", "ex_ref_fixed_alloc"), pool.alloc("c", "ex_ref_fixed_alloc")
    if first == second:
        t.fail("double free detected", "two allocations got the same block", pool.regions())


@CHECKS("foreign, interior and never-allocated pointers are refused")
def _double_foreign(t: Tester) -> None:
    pool = FixedUnderTest(t)
    a = pool.alloc("a", "ex_ref_fixed_alloc")
    outside = t.ffi.new("unsigned char[]", 16)
    for what, ptr in [("an interior pointer", pool.base_ptr(a + 4)),
                      ("a pointer outside the pool", outside),
                      ("a block never handed out", pool.base_ptr(5 * pool.stride))]:
        t.op(f"ex_fixed_free_checked(p, {what})")
        got = t.lib.ex_fixed_free_checked(pool.p, ptr)
        if got != 1:
            t.fail("foreign pointer detected", f"{what} returned {got}, expected 1", pool.regions())
