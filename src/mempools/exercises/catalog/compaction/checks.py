"""compaction: unlocked blocks slide down in order with their bytes; locked ones stay."""


from mempools.exercises.tester import Checks, Tester, spans_map

LESSON = "04"
TITLE = "Compaction around locked blocks"
DECLARATIONS = "size_t ex_compact(unsigned char *memory, ex_block *blocks, size_t n);"
CHECKS = Checks()


COMPACT_CASES = [  # (blocks as (offset, size, locked), capacity, offsets after, bytes moved)
    ([(8, 8, 0)], 64, [0], 8),
    ([(0, 8, 0), (16, 8, 0), (40, 16, 0)], 64, [0, 8, 16], 24),
    ([(8, 8, 0), (24, 8, 1), (40, 8, 0)], 64, [0, 24, 32], 16),
    ([(0, 16, 1), (32, 8, 0), (48, 8, 0)], 64, [0, 16, 24], 16),
]


@CHECKS("blocks slide down in order, locked ones stay, data intact")
def _compact_cases(t: Tester) -> None:
    for blocks, capacity, want, moved_want in COMPACT_CASES:
        memory = t.ffi.new("unsigned char[]", capacity)
        for i, (off, size, _) in enumerate(blocks):
            t.ffi.memmove(memory + off, bytes([65 + i]) * size, size)
        table = t.ffi.new("ex_block[]", blocks)
        t.op(f"ex_compact(memory, {blocks})")
        moved = int(t.lib.ex_compact(memory, table, len(blocks)))
        after = [int(table[i].offset) for i in range(len(blocks))]
        spans = [(after[i], blocks[i][1], chr(65 + i) + ("*" if blocks[i][2] else ""))
                 for i in range(len(blocks))]
        for i, (off, size, locked) in enumerate(blocks):
            if locked and after[i] != off:
                t.fail("locked blocks never move", f"locked block {chr(65 + i)} moved from "
                       f"{off} to {after[i]}", spans_map(spans, capacity))
            if t.ffi.buffer(memory + after[i], size)[:] != bytes([65 + i]) * size:
                t.fail("payload intact", f"block {chr(65 + i)}'s bytes are not at its new "
                       f"offset {after[i]}", spans_map(spans, capacity))
        if after != want:
            t.fail("compacted", f"offsets after compaction {after}, expected {want}",
                   spans_map(spans, capacity))
        if moved != moved_want:
            t.fail("bytes moved counted", f"returned {moved} bytes moved, expected {moved_want}",
                   spans_map(spans, capacity))


@CHECKS("an already compact pool moves nothing")
def _compact_noop(t: Tester) -> None:
    memory = t.ffi.new("unsigned char[]", 64)
    table = t.ffi.new("ex_block[]", [(0, 16, 0), (16, 8, 0)])
    t.op("ex_compact(memory, [(0, 16), (16, 8)])")
    moved = int(t.lib.ex_compact(memory, table, 2))
    if moved or table[0].offset != 0 or table[1].offset != 16:
        t.fail("no needless moves", f"a compact pool reported {moved} bytes moved")
