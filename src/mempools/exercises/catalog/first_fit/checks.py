"""first-fit: the lowest gap that fits, never overlapping a live block."""


from mempools.exercises.tester import Checks, Regions, Tester, spans_map

LESSON = "04"
TITLE = "First fit that checks the gap"
DECLARATIONS = "long ex_first_fit(const ex_block *blocks, size_t n, size_t capacity, size_t size);"
CHECKS = Checks()


FIRST_FIT_CASES = [  # (blocks as (offset, size), capacity, request, expected, what it tests)
    ([], 64, 16, 0, "an empty pool"),
    ([(16, 16)], 64, 16, 0, "a gap before the first block"),
    ([(0, 16), (24, 8), (48, 16)], 64, 16, 32, "skipping a gap that is too small"),
    ([(0, 16), (32, 16)], 64, 16, 16, "a gap of exactly the size"),
    ([(0, 16), (16, 16)], 64, 32, 32, "the tail"),
    ([(0, 16), (24, 16), (48, 16)], 64, 9, -1, "no gap big enough"),
    ([(0, 10), (20, 10), (40, 24)], 64, 12, -1, "10, free, 10, free: the classic 20 after 10"),
]


def _fit_case(t: Tester, blocks: list[tuple[int, int]], capacity: int, size: int) -> int:
    table = t.ffi.new("ex_block[]", [(o, s, 0) for o, s in blocks] or [(0, 0, 0)])
    t.op(f"ex_first_fit({blocks}, capacity {capacity}, size {size})")
    return int(t.lib.ex_first_fit(table, len(blocks), capacity, size))


def _fit_map(blocks: list[tuple[int, int]], capacity: int, got: int, size: int) -> Regions:
    spans = [(o, s, f"#{i}") for i, (o, s) in enumerate(blocks)]
    if got >= 0:
        spans.append((got, size, "new"))
    return spans_map(spans, capacity)


@CHECKS("finds the lowest gap that fits")
def _fit_lowest(t: Tester) -> None:
    for blocks, capacity, size, want, what in FIRST_FIT_CASES[:4]:
        got = _fit_case(t, blocks, capacity, size)
        if got != want:
            t.fail("first fit", f"{what}: got offset {got}, expected {want}",
                   _fit_map(blocks, capacity, got, size))


@CHECKS("never overlaps a live block")
def _fit_overlap(t: Tester) -> None:
    for blocks, capacity, size, want, what in FIRST_FIT_CASES:
        got = _fit_case(t, blocks, capacity, size)
        if got >= 0 and any(got < o + s and o < got + size for o, s in blocks):
            t.fail("no overlap", f"{what}: the new block at {got} overlaps a live block",
                   _fit_map(blocks, capacity, got, size))
        if got != want:
            t.fail("first fit", f"{what}: got {got}, expected {want}",
                   _fit_map(blocks, capacity, got, size))
