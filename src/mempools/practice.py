"""Seeded practice, OSTEP-style: `mp.practice.bump(seed=3)` is a small problem (a pool, a trace
and a question) whose answer comes from running the real C pool; the same seed always gives
the same problem, so an instructor can assign "bump, seeds 1 to 5".

Topics: bump (alignment and padding), fixed (free-list order), embedded (first fit and
compaction), free_list (split, coalesce, first and best fit), malloc (glibc chunk sizes).
A Problem displays as a predict widget; `mp.practice.drill(topic)` adds an "Another problem"
button. Command line: `python -m mempools practice TOPIC --seed N [--answer]`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mempools.block import Block
from mempools.bump import BumpPool
from mempools.embedded import EmbeddedPool
from mempools.fixed import FixedPool
from mempools.free_list import FreeListPool
from mempools.malloc import GLIBC, HEADER, Malloc
from mempools.predict import Answer, Prediction, predict

if TYPE_CHECKING:
    from ipywidgets import VBox

    from mempools.block import Block


@dataclass(frozen=True)
class Problem:
    """One generated problem. `answer`, `explain` and `output` come from the C run."""

    topic: str
    seed: int
    setup: str  # the pool the trace runs on
    trace: tuple[str, ...]  # the operations, in order
    question: str
    answer: Answer
    explain: str
    output: str  # what the pool's walker reports after the trace
    _prediction: list[Prediction] = field(default_factory=list, repr=False, compare=False)

    @property
    def given(self) -> str:
        """The setup and the trace, as the student reads them."""
        return self.setup + "\n" + "\n".join(f"    {line}" for line in self.trace)

    def text(self, answer: bool = False) -> str:
        """The problem as plain text (the command line's output); with the answer if asked."""
        lines = [f"practice {self.topic}, seed {self.seed}", "", self.given, "",
                 f"Question: {self.question}"]
        if answer:
            lines += [f"Answer: {self.answer}", f"Why: {self.explain}", "",
                      "The real output:", self.output]
        else:
            lines.append("(run again with --answer to see the answer)")
        return "\n".join(lines)

    def prediction(self) -> Prediction:
        """The predict widget for this problem (made once, then reused)."""
        if not self._prediction:
            self._prediction.append(predict(self.question, self.answer, explain=self.explain,
                                            output=self.output, given=self.given,
                                            key=f"practice-{self.topic}-{self.seed}"))
        return self._prediction[0]

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        return self.prediction()._repr_mimebundle_()


def _walk_text(pool: object, base: int = 0) -> str:
    rows = [f"{'offset':>7} {'bytes':>5}  kind      block"]
    for r in pool.walk():  # type: ignore[attr-defined]
        if r.offset + r.size <= base:
            continue
        rows.append(f"{r.offset - base:>7} {r.size:>5}  {r.kind:<9} {r.owner or ''}".rstrip())
    return "\n".join(rows)


def _rng(topic: str, seed: int) -> random.Random:
    """The problem's own random stream: the same topic and seed give the same problem."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, not {seed!r}")
    return random.Random(f"{topic}:{seed}")


def _names(n: int) -> list[str]:
    return [chr(ord("a") + i) for i in range(n)]


# -- bump: alignment and padding -------------------------------------------------------------
def bump(seed: int = 0) -> Problem:
    """A few aligned allocations from a BumpPool; asks for an offset, the padding or the room
    left."""
    rng = _rng("bump", seed)
    capacity = rng.choice([256, 288, 320])  # room for 5 blocks of 24 with 31 bytes of padding each
    pool = BumpPool(capacity, align=8)
    trace, blocks = [], []
    for name in _names(rng.randint(3, 5)):
        size, align = rng.randint(1, 24), rng.choice([None, 1, 2, 4, 16, 32])
        block = pool.alloc(size, align=align)
        block.label = name
        blocks.append(block)
        trace.append(f"{name} = alloc({size})" if align is None else
                     f"{name} = alloc({size}, align={align})")
    last = blocks[-1]
    kind = rng.choice(["offset", "padding", "available"])
    if kind == "offset":
        question, answer = f"At which offset does {last.label} start?", last.offset
        explain = (f"{last.label} starts at the first multiple of its alignment at or after the "
                   f"end of {blocks[-2].label} ({blocks[-2].offset + blocks[-2].size}).")
    elif kind == "padding":
        question, answer = "How many bytes of padding does the pool hold after the trace?", \
            pool.stats["padding"]
        regions = pool.walk()
        gaps = [f"{r.size} before {after.owner}" for r, after in zip(regions, regions[1:])
                if r.kind == "padding"]
        explain = ("Padding brings each block's start up to its alignment: "
                   + (", ".join(gaps) if gaps else "none was needed") + ".")
    else:
        question, answer = "How many bytes are still available after the trace?", pool.available
        explain = (f"The top is at {last.offset + last.size}, the end of {last.label}; "
                   f"{capacity} minus that is what is left.")
    output = _walk_text(pool)
    pool.close()
    setup = (f"pool = BumpPool({capacity}, align=8)\n"
             "# blocks are 8-aligned unless the call says otherwise; the pool starts at offset 0")
    return Problem("bump", seed, setup, tuple(trace), question, answer, explain, output)


# -- fixed: free-list order ------------------------------------------------------------------
def fixed(seed: int = 0) -> Problem:
    """Allocations and frees on a FixedPool; asks where the next allocations land."""
    rng = _rng("fixed", seed)
    block_size, count = rng.choice([8, 16, 24, 32]), rng.randint(5, 8)
    pool = FixedPool(block_size, count)
    live: dict[str, object] = {}
    trace: list[str] = []
    names = iter(_names(26))
    steps = rng.randint(6, 10)
    for step in range(steps):
        # the last step never leaves the pool full, so the question's alloc() succeeds
        if live and (len(live) >= count - (step == steps - 1) or rng.random() < 0.4):
            name = rng.choice(sorted(live))
            pool.free(live.pop(name))
            trace.append(f"free({name})")
        else:
            name = next(names)
            live[name] = pool.alloc()
            live[name].label = name  # type: ignore[attr-defined]
            trace.append(f"{name} = alloc()")
    if not any(line.startswith("free") for line in trace):  # the topic is the free list
        name = rng.choice(sorted(live))
        pool.free(live.pop(name))
        trace.append(f"free({name})")
    stride = pool.stride
    if len(live) < count - 1 and rng.random() < 0.5:
        first, second = pool.alloc(), pool.alloc()
        first.label, second.label = "next", "after"
        question = "At which offsets do the next two alloc() calls land, in order?"
        answer = f"{first.offset} {second.offset}"
        explain = ("alloc() takes the head of the free list (the block freed last); when the "
                   "list is empty it takes the next never-used block.")
    else:
        block = pool.alloc()
        block.label = "next"
        question = "At which offset does the next alloc() land?"
        answer = block.offset
        explain = ("alloc() takes the head of the free list, the block freed most recently; only "
                   "when the list is empty does it take the next never-used block.")
    output = _walk_text(pool)
    pool.close()
    setup = (f"pool = FixedPool({block_size}, {count})\n"
             f"# {count} blocks, {stride} bytes apart from offset 0; free() puts a block at the "
             "front of the free list")
    return Problem("fixed", seed, setup, tuple(trace), question, answer, explain, output)


# -- embedded: first fit and compaction ------------------------------------------------------
def embedded(seed: int = 0) -> Problem:
    """Allocations and frees on an EmbeddedPool, then one more request: where does first fit
    put it (compacting if no gap is big enough), or how many bytes does compact() move?"""
    rng = _rng("embedded", seed)
    data = rng.choice([96, 128, 160])
    pool = EmbeddedPool.for_blocks(data, slots=10, policy="first")  # 10: more than the trace uses
    base = pool.stats["table_bytes"]
    align = pool.alignment
    live: dict[str, object] = {}
    trace: list[str] = []
    names = iter(_names(26))
    for _ in range(rng.randint(5, 8)):
        size = rng.randint(1, 32)
        if live and (rng.random() < 0.35 or pool.stats["largest_gap"] < size + align):
            name = rng.choice(sorted(live))
            pool.free(live.pop(name))
            trace.append(f"free({name})")
        else:
            name = next(names)
            block = pool.alloc(size)
            block.label = name
            live[name] = block
            trace.append(f"{name} = alloc({size})")
    if rng.random() < 0.6 and pool.stats["free_bytes"] >= align:
        size = rng.randint(1, pool.stats["free_bytes"])
        name = next(names)
        gap_before = pool.stats["largest_gap"]
        block = pool.alloc(size)
        block.label = name
        trace.append(f"{name} = alloc({size})")
        question = f"At which offset (from the start of the data area) does {name} start?"
        answer = block.offset - base
        explain = (f"First fit takes the lowest gap of at least {-(-size // align) * align} bytes "
                   f"({size} rounded up to {align})"
                   + (", and finds one." if gap_before >= -(-size // align) * align else
                      "; there was none, so the pool compacted first and then placed it."))
    else:
        if not _hole_below_a_block(pool) and len(live) >= 2:
            # free the lowest block, so compaction has something to move
            name = min(live, key=lambda n: live[n].offset)  # type: ignore[attr-defined]
            pool.free(live.pop(name))
            trace.append(f"free({name})")
        trace.append("compact()")
        question = "How many bytes does compact() move?"
        answer = pool.compact()
        explain = ("compact() slides each block down to the end of the one before it; a block "
                   "that is already there does not move. It counts each moved block's bytes.")
    output = _walk_text(pool, base)
    pool.close()
    setup = (f"pool = EmbeddedPool with {data} bytes of data area\n"
             f"# offsets from the data area's start; a block takes its size rounded up to {align}; "
             "first fit")
    return Problem("embedded", seed, setup, tuple(trace), question, answer, explain, output)


def _hole_below_a_block(pool: object) -> bool:
    """Whether the pool's walker reports a free region with a block after it."""
    kinds = [r.kind for r in pool.walk()]  # type: ignore[attr-defined]
    return any(k == "free" and "payload" in kinds[i + 1:] for i, k in enumerate(kinds))


# -- free_list: split, coalesce, first and best fit ------------------------------------------
def free_list(seed: int = 0) -> Problem:
    """Allocations and frees on an address-ordered FreeListPool (first or best fit, splitting,
    immediate coalescing); asks where the next block goes or how many free blocks are left."""
    rng = _rng("free_list", seed)
    fit = rng.choice(["first", "best"])
    pool = FreeListPool(4096, lists="address", fit=fit)  # 4096: far more than a trace uses
    live: dict[str, Block] = {}
    trace: list[str] = []
    names = iter(_names(26))

    def alloc() -> Block:
        name, size = next(names), rng.randint(1, 120)
        block = pool.alloc(size)
        block.label = name
        trace.append(f"{name} = alloc({size})")
        return block

    first = alloc()
    live[first.label] = first
    base = pool.header_offset(first)  # the first block ever allocated starts the heap
    steps = rng.randint(4, 7)
    for step in range(steps):
        # at least one free: the topic is what freeing does
        must_free = step == steps - 1 and not any(t.startswith("free") for t in trace)
        if live and (must_free or rng.random() < 0.4):
            name = rng.choice(sorted(live))
            pool.free(live.pop(name))
            trace.append(f"free({name})")
        else:
            block = alloc()
            live[block.label] = block
    if rng.random() < 0.6:
        block = alloc()
        name, size = block.label, block.size
        question = f"At which offset (from the heap's start) does {name}'s payload start?"
        answer = block.offset - base
        need = pool.block_bytes(size)
        explain = (f"{name} needs a block of {need} bytes (8-byte header + {size}, rounded up to "
                   f"16, at least 32); {fit} fit takes the "
                   + ("lowest" if fit == "first" else "smallest (then lowest)")
                   + " free block that big, splits off the rest when that is 32 bytes or more, "
                   "and grows the heap only when none fits; the payload is 8 bytes past the header.")
    else:
        question = "How many free blocks does the heap hold after the trace?"
        answer = pool.stats["free_blocks"]
        explain = ("Each free merges at once with a free neighbour on either side; a split "
                   "leaves the rest of a block (32 bytes or more) as a free block of its own.")
    output = _walk_text(pool, base)
    pool.close()
    setup = (f"heap = FreeListPool(4096, lists='address', fit='{fit}')\n"
             "# splitting on, immediate coalescing; offsets count from the first block's header; "
             "a block is an 8-byte header plus the payload, rounded up to 16, at least 32 bytes")
    return Problem("free_list", seed, setup, tuple(trace), question, answer, explain, output)


# -- malloc: glibc chunk sizes ---------------------------------------------------------------
_MAX_SAMPLES = 4096  # mallocs of the same size per problem, at most
def _carved_block(heap: Malloc, n: int) -> Block:
    """A block of malloc(n) whose chunk was cut to measure: the first of two back-to-back blocks.
    glibc hands out a free chunk whole when the rest would be too small to keep, so one malloc
    (or many, when the process holds many such chunks) may get more than its size class; two
    neighbours carved one after the other show the size class itself."""
    previous = heap.malloc(n)
    for _ in range(_MAX_SAMPLES):
        block = heap.malloc(n)
        chunk = heap.chunk_size_field(previous) & ~7
        if block.address - previous.address == chunk == heap.chunk_size_field(block) & ~7:
            return previous
        previous = block
    raise RuntimeError(f"malloc({n}): no two blocks in {_MAX_SAMPLES} were carved back to back")


def malloc(seed: int = 0) -> Problem:
    """One malloc(n) on the real C library: how big is its chunk, or how many bytes are usable?"""
    if not GLIBC:
        raise RuntimeError("the malloc practice topic reads glibc's chunk headers: it needs "
                           "Linux with glibc")
    rng = _rng("malloc", seed)
    n = rng.choice([rng.randint(1, 64), rng.randint(1, 512)])
    heap = Malloc()
    block = _carved_block(heap, n)
    chunk = heap.chunk_size_field(block) & ~7  # the low 3 bits are flags, not size
    usable = heap.usable_size(block)
    heap.close()
    trace = (f"p = malloc({n})",)
    if rng.random() < 0.5:
        question = "How many bytes is p's chunk (the size glibc writes before p, flags masked off)?"
        answer = chunk
    else:
        question = "How many bytes may the program really use at p (malloc_usable_size)?"
        answer = usable
    explain = (f"glibc adds its {HEADER}-byte size word to the request and rounds up to "
               f"a multiple of {2 * HEADER} (minimum {4 * HEADER}): "
               f"chunk {chunk}, of which {usable} are usable.")
    output = f"chunk size field & ~7 = {chunk}\nmalloc_usable_size(p) = {usable}"
    setup = "# glibc malloc on this machine (64-bit)"
    return Problem("malloc", seed, setup, trace, question, answer, explain, output)


TOPICS: dict[str, Callable[[int], Problem]] = {
    "bump": bump, "fixed": fixed, "embedded": embedded, "free_list": free_list, "malloc": malloc}


def problem(topic: str, seed: int = 0) -> Problem:
    """The problem of `topic` for `seed`; ValueError for an unknown topic or a bad seed."""
    if topic not in TOPICS:
        raise ValueError(f"unknown practice topic {topic!r}; topics: {', '.join(TOPICS)}")
    return TOPICS[topic](seed)


class Drill:
    """A problem of one topic with an "Another problem" button that moves to the next seed."""

    def __init__(self, topic: str, seed: int = 1) -> None:
        self.topic, self.seed = topic, seed
        self.problem = problem(topic, seed)
        self._box = None

    def another(self) -> Problem:
        """Move to the next seed's problem (what the button does)."""
        self.problem = problem(self.topic, self.seed + 1)
        self.seed += 1
        if self._box is not None:
            self._box.children = self._children()
        return self.problem

    def _children(self) -> tuple:
        import ipywidgets as w

        title = w.HTML(f"<b>Practice: {self.topic}, seed {self.seed}</b>")
        return (title, self.problem.prediction().widget(), self._next)

    def widget(self) -> VBox:
        import ipywidgets as w

        if self._box is None:
            self._next = w.Button(description="Another problem")
            self._next.add_class("mp-practice-next")
            self._next.on_click(lambda _: self.another())
            self._box = w.VBox(self._children())
        return self._box

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        bundle = self.widget()._repr_mimebundle_()
        bundle["text/plain"] = f"Practice: {self.topic} problems from seed {self.seed} (run the cell)"
        bundle["text/html"] = f"<div><b>Practice:</b> {bundle['text/plain'][10:]}</div>"
        return bundle


def drill(topic: str, seed: int = 1) -> Drill:
    """Problems of `topic` from `seed` on, one at a time, with an "Another problem" button."""
    return Drill(topic, seed)


__all__ = ["TOPICS", "Drill", "Problem", "bump", "drill", "embedded", "fixed", "free_list", "malloc",
           "problem"]
