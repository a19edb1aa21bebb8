"""One trace format for every pool: malloclab text (`a id size`, `r id size`, `f id`) and OSTEP
op strings (`+10,-0,+4`); a seeded generator; replay onto any pool with payload checks."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from mempools.block import Block
from mempools.errors import CorruptPool, OutOfMemory, PoolError, PoolMisuse, UseAfterClose
from mempools.pool import Pool


class TraceError(PoolMisuse):
    """Malformed trace text, or an op that makes no sense (free of an id never allocated)."""


class Op(NamedTuple):
    """One trace operation: kind 'a' (alloc), 'r' (realloc) or 'f' (free)."""

    kind: str
    id: int
    size: int | None = None

    def __str__(self) -> str:
        return f"{self.kind} {self.id}" + ("" if self.size is None else f" {self.size}")


_OSTEP = re.compile(r"^\s*[+-]\d+(\s*,\s*[+-]\d+)*\s*$")


@dataclass
class Trace:
    """A sequence of ops, checked for consistency (ids allocated before use, not twice)."""

    ops: list[Op]
    heap_size: int = 0  # the malloclab header's suggested heap size (0 when absent)
    weight: int = 1

    def __post_init__(self) -> None:
        live: set[int] = set()
        for step, op in enumerate(self.ops):
            if op.kind == "a":
                if op.id in live:
                    raise TraceError(f"op {step} ({op}): id {op.id} is already allocated")
                live.add(op.id)
            elif op.id not in live:
                raise TraceError(f"op {step} ({op}): id {op.id} is not allocated")
            elif op.kind == "f":
                live.discard(op.id)

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self):  # noqa: ANN204 - an iterator of Op
        return iter(self.ops)

    @property
    def ids(self) -> int:
        return len({op.id for op in self.ops})

    @classmethod
    def parse(cls, text: str) -> Trace:
        """Read malloclab text (with a 4-line `heap_size ids ops weight` header, the older
        3-line `heap_size ids ops` one, or none) or an OSTEP op string like `+10,-0,+4`."""
        if _OSTEP.match(text):
            return cls.from_ostep(text)
        header: list[int] = []
        ops: list[Op] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if not ops and len(fields) == 1 and fields[0].isdigit():
                header.append(int(fields[0]))
                if len(header) > 4:
                    raise TraceError(f"line {number}: more than 4 header numbers: {raw!r}")
                continue
            ops.append(_parse_op(fields, number, raw))
        if header and len(header) not in (3, 4):
            raise TraceError(f"header has {len(header)} numbers; expected 3 or 4 "
                             "(heap_size, num_ids, num_ops[, weight])")
        if header and header[2] != len(ops):
            raise TraceError(f"header says {header[2]} ops but the trace has {len(ops)}")
        trace = cls(ops, heap_size=header[0] if header else 0,
                    weight=header[3] if len(header) == 4 else 1)
        if header and header[1] < trace.ids:
            raise TraceError(f"header says {header[1]} ids but the trace uses {trace.ids}")
        return trace

    @classmethod
    def from_ostep(cls, text: str, sizes: Iterable[int] | None = None) -> Trace:
        """OSTEP malloc.py ops: `+N` allocates N bytes (ids count allocations from 0), `-K`
        frees the K-th allocation."""
        ops: list[Op] = []
        next_id = 0
        for n, item in enumerate(text.replace(" ", "").split(","), start=1):
            if not re.fullmatch(r"[+-]\d+", item):
                raise TraceError(f"item {n}: {item!r} is not +SIZE or -INDEX")
            value = int(item[1:])
            if item[0] == "+":
                if value == 0:
                    raise TraceError(f"item {n}: +0 allocates nothing")
                ops.append(Op("a", next_id, value))
                next_id += 1
            else:
                ops.append(Op("f", value))
        return cls(ops)

    def to_text(self, header: bool = True) -> str:
        """malloclab text, with the 4-line header by default."""
        lines = [str(op) for op in self.ops]
        if header:
            peak = max(_live_bytes_series(self.ops), default=0)
            lines = [str(self.heap_size or peak), str(self.ids), str(len(self.ops)),
                     str(self.weight)] + lines
        return "\n".join(lines) + "\n"

    @classmethod
    def random(cls, seed: int, ops: int = 100, sizes: tuple[int, int] = (1, 256),
               free_ratio: float = 0.4, realloc_ratio: float = 0.0, max_live: int = 32) -> Trace:
        """A seeded random trace: the same seed gives the same trace on every machine. All
        blocks are freed at the end, so a replay should leave the pool empty."""
        rng = random.Random(seed)
        out: list[Op] = []
        live: list[int] = []
        next_id = 0
        while len(out) < ops:
            roll = rng.random()
            if live and (len(live) >= max_live or roll < free_ratio):
                out.append(Op("f", live.pop(rng.randrange(len(live)))))
            elif live and roll < free_ratio + realloc_ratio:
                out.append(Op("r", rng.choice(live), rng.randint(*sizes)))
            else:
                out.append(Op("a", next_id, rng.randint(*sizes)))
                live.append(next_id)
                next_id += 1
        out += [Op("f", i) for i in live]
        return cls(out)


def _parse_op(fields: list[str], number: int, raw: str) -> Op:
    kind = fields[0]
    want = {"a": 3, "r": 3, "f": 2}.get(kind)
    if want is None:
        raise TraceError(f"line {number}: unknown op {kind!r} in {raw.strip()!r} (a, r or f)")
    if len(fields) != want or not all(f.isdigit() for f in fields[1:]):
        form = "f ID" if kind == "f" else f"{kind} ID SIZE"
        raise TraceError(f"line {number}: expected '{form}' with whole numbers, got {raw.strip()!r}")
    if kind != "f" and int(fields[2]) == 0:
        raise TraceError(f"line {number}: size 0 in {raw.strip()!r}")
    return Op(kind, int(fields[1]), int(fields[2]) if kind != "f" else None)


def _live_bytes_series(ops: list[Op]) -> list[int]:
    sizes: dict[int, int] = {}
    series = []
    for op in ops:
        if op.kind == "f":
            sizes.pop(op.id, None)
        else:
            sizes[op.id] = op.size or 0
        series.append(sum(sizes.values()))
    return series


def token(block_id: int, n: int) -> bytes:
    """The fill pattern for a trace id: distinct per id, varying along the block."""
    return bytes(((block_id * 31 + j) * 7 + 0x5A) & 0xFF for j in range(n))


class ReplayError(NamedTuple):
    """Something replay caught: at which op, and what kind (out of memory, overlap,
    misalignment, garbled payload, refused, corrupt pool)."""

    step: int
    op: Op
    kind: str
    message: str


@dataclass
class ReplayResult:
    """What a replay measured and caught."""

    ops: int = 0
    peak_live_bytes: int = 0
    peak_footprint: int = 0
    errors: list[ReplayError] = field(default_factory=list)

    @property
    def utilisation(self) -> float:
        """Peak live payload / peak bytes the pool used (1.0 is perfect)."""
        return self.peak_live_bytes / self.peak_footprint if self.peak_footprint else 0.0

    def __str__(self) -> str:
        return (f"{self.ops} ops, peak live {self.peak_live_bytes} B, peak footprint "
                f"{self.peak_footprint} B, utilisation {self.utilisation:.1%}, "
                f"{len(self.errors)} error(s)")


class _Replayer:
    """Replays one trace onto one pool, keeping the Python model of what each id should hold."""

    def __init__(self, pool: Pool, check: bool, verify_all: bool) -> None:
        self.pool, self.check, self.verify_all = pool, check, verify_all
        self.live: dict[int, Block] = {}
        self.result = ReplayResult()

    def error(self, step: int, op: Op, kind: str, message: str) -> None:
        self.result.errors.append(ReplayError(step, op, kind, message))

    def verify(self, step: int, op: Op, ident: int, n: int | None = None) -> None:
        block = self.live[ident]
        n = block.size if n is None else n
        try:
            ok = block.read(n) == token(ident, n)
        except PoolError as e:
            ok, detail = False, str(e)
        else:
            detail = "its bytes no longer match the token written when it was allocated"
        if not ok:
            self.error(step, op, "garbled payload", f"id {ident}: {detail}")
            del self.live[ident]  # report each id once

    def placed(self, step: int, op: Op, block: Block) -> None:
        """Check a new or moved block: alignment, no overlap with any live block."""
        if self.pool.measuring:
            return
        addr = block.address
        if addr % self.pool.alignment:
            self.error(step, op, "misalignment",
                       f"id {op.id} at offset {block.offset} is not {self.pool.alignment}-aligned")
        for other_id, other in self.live.items():
            if other_id == op.id:
                continue
            lo = other.address
            if addr < lo + other.size and lo < addr + block.size:
                self.error(step, op, "overlap",
                           f"id {op.id} [{block.offset}, {block.offset + block.size}) overlaps "
                           f"id {other_id} [{other.offset}, {other.offset + other.size})")

    def fill(self, ident: int) -> None:
        block = self.live[ident]
        if not self.pool.measuring:
            block.write(token(ident, block.size))

    def step(self, step: int, op: Op) -> None:
        pool = self.pool
        try:
            if op.kind == "a":
                block = pool.replay_alloc(op.size)
                block.label = f"id {op.id}"
                self.placed(step, op, block)
                self.live[op.id] = block
                self.fill(op.id)
            elif op.kind == "r" and op.id in self.live:
                old = self.live[op.id]
                keep = min(old.size, op.size)
                self.verify(step, op, op.id)
                if op.id in self.live:
                    block = pool.replay_realloc(old, op.size)
                    block.label = f"id {op.id}"
                    self.live[op.id] = block
                    self.placed(step, op, block)
                    self.verify(step, op, op.id, keep)
                    if op.id in self.live:
                        self.fill(op.id)
            elif op.kind == "f" and op.id in self.live:
                self.verify(step, op, op.id)
                if op.id in self.live:
                    pool.replay_free(self.live.pop(op.id))
        except OutOfMemory as e:
            self.error(step, op, "out of memory", str(e))
        except PoolError as e:
            self.error(step, op, "refused", str(e))
        if self.verify_all:
            for ident in list(self.live):
                if ident != op.id:
                    self.verify(step, op, ident)
        if self.check:
            try:
                pool.check()
            except CorruptPool as e:
                self.error(step, op, "corrupt pool", str(e))
        live_bytes = sum(b.size for b in self.live.values())
        self.result.peak_live_bytes = max(self.result.peak_live_bytes, live_bytes)
        self.result.peak_footprint = max(self.result.peak_footprint, pool.footprint())
        self.result.ops += 1


def replay(trace: Trace, pool: Pool, on_step: Callable[[int, Op, Pool], None] | None = None,
           check: bool = True, verify_all: bool = True) -> ReplayResult:
    """Run `trace` on `pool`, filling every payload with its id's token and verifying it while
    the block lives; errors are collected, not raised. `on_step(step, op, pool)` runs after
    each op (the memory map uses it to record frames). `check` runs the pool's checker after
    every op; `verify_all` re-reads every live block after every op (else only the block an op
    touches): both on by default, both off for measuring."""
    if not isinstance(trace, Trace):
        raise TraceError(f"replay needs a Trace, got {type(trace).__name__}")
    if pool.closed:
        raise UseAfterClose(f"replay: the {type(pool).__name__} is closed (replay onto an open pool)")
    replayer = _Replayer(pool, check, verify_all)
    for step, op in enumerate(trace.ops):
        replayer.step(step, op)
        if on_step is not None:
            on_step(step, op, pool)
    return replayer.result
