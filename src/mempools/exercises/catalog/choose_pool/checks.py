"""choose-pool: every row of lesson 06's decision guide."""


from mempools.exercises.tester import Checks, Tester

LESSON = "06"
TITLE = "Choose a pool"
DECLARATIONS = "int ex_pick_pool(const ex_workload *w);"
CHECKS = Checks()


# One case per row of lesson 06's decision guide, in its order.
CHOOSE_CASES = [  # (sizes_all_equal, freed_all_at_once, malloc_available, must_not_fragment)
    ((0, 1, 1, 0), 2, "objects die together (a parse, a request): a bump pool"),
    ((0, 1, 0, 0), 2, "no malloc, and everything is freed at once (a frame): a bump arena over "
                      "a static buffer"),
    ((1, 0, 1, 0), 3, "one size, freed one by one (network packets): a fixed pool"),
    ((1, 0, 0, 0), 3, "no malloc, one size: a fixed pool over a static buffer"),
    ((0, 0, 0, 1), 4, "no malloc, sizes vary, runs for months: the embedded pool"),
    ((0, 0, 1, 0), 1, "mixed sizes and lifetimes on a desktop: malloc"),
]


@CHECKS("picks the pool the lessons' numbers support")
def _choose(t: Tester) -> None:
    names = {1: "malloc", 2: "bump", 3: "fixed", 4: "embedded"}
    for features, want, why in CHOOSE_CASES:
        w = t.ffi.new("ex_workload *", features)
        t.op(f"ex_pick_pool({features})")
        got = int(t.lib.ex_pick_pool(w))
        if got != want:
            t.fail("right pool for the workload", f"{why}; you picked {names.get(got, got)}")
