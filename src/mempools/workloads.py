"""Seeded workloads for comparing pools: the same traces on every machine."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from mempools.trace import Op, Trace


def fixed_churn(seed: int, ops: int = 4000, size: int = 32, live: int = 256) -> Trace:
    """Equal blocks, random free order, about `live` alive: packets, nodes, particles."""
    return Trace.random(seed, ops, sizes=(size, size), free_ratio=0.5, max_live=live)


def lifo(seed: int, ops: int = 4000, depth: int = 64) -> Trace:
    """Random sizes, freed in reverse order of allocation: a call stack, nested scopes."""
    rng = random.Random(seed)
    out: list[Op] = []
    stack: list[int] = []
    next_id = 0
    while len(out) < ops:
        if stack and (len(stack) == depth or rng.random() < 0.5):
            out.append(Op("f", stack.pop()))
        else:
            out.append(Op("a", next_id, rng.randint(1, 256)))
            stack.append(next_id)
            next_id += 1
    out += [Op("f", i) for i in reversed(stack)]
    return Trace(out)


def fifo(seed: int, ops: int = 4000, size: int = 64, queue: int = 128) -> Trace:
    """Equal blocks freed oldest first: a message queue."""
    rng = random.Random(seed)
    out: list[Op] = []
    waiting: list[int] = []
    next_id = 0
    while len(out) < ops:
        if waiting and (len(waiting) == queue or rng.random() < 0.45):
            out.append(Op("f", waiting.pop(0)))
        else:
            out.append(Op("a", next_id, size))
            waiting.append(next_id)
            next_id += 1
    out += [Op("f", i) for i in waiting]
    return Trace(out)


def random_sizes(seed: int, ops: int = 4000) -> Trace:
    """Sizes 1..256, random lifetimes: general-purpose use."""
    return Trace.random(seed, ops, sizes=(1, 256), free_ratio=0.45, max_live=128)


def phases(seed: int, ops: int = 4000, per_phase: int = 200) -> Trace:
    """Random sizes allocated in phases and all freed at the end of each: requests, frames."""
    rng = random.Random(seed)
    out: list[Op] = []
    next_id = 0
    while len(out) < ops:
        ids = list(range(next_id, next_id + per_phase))
        next_id += per_phase
        out += [Op("a", i, rng.randint(1, 256)) for i in ids]
        out += [Op("f", i) for i in reversed(ids)]
    return Trace(out)


def malloclab(seed: int, ops: int = 4000) -> Trace:
    """malloclab-style: sizes 1..4096, reallocs, random lifetimes."""
    return Trace.random(seed, ops, sizes=(1, 4096), free_ratio=0.4, realloc_ratio=0.1,
                        max_live=96)


WORKLOADS: dict[str, Callable[[int], Trace]] = {
    "fixed-size churn": fixed_churn,
    "LIFO": lifo,
    "FIFO": fifo,
    "random sizes": random_sizes,
    "phases": phases,
    "malloclab": malloclab,
}


def bundled_traces(folder: Path) -> dict[str, Trace]:
    """Every .rep file in `folder` (the seeded ones in data/traces/, or a user's own), in any
    dialect `Trace.parse` reads, rewritten in the plain forms the C replay knows."""
    return {f"trace {p.stem}": Trace.parse(p.read_text()).canonical()
            for p in sorted(folder.glob("*.rep"))}


def write_traces(folder: Path, seeds: tuple[int, ...] = (1, 2, 3), ops: int = 2000) -> list[Path]:
    """Seeded malloclab-format traces (random sizes and reallocs), written to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for seed in seeds:
        path = folder / f"seeded-{seed}.rep"
        path.write_text(malloclab(seed, ops).to_text())
        written.append(path)
    return written
