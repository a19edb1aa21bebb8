"""One trace format for every pool: malloc-lab text (`a id size`, `r id size`, `f id`) in the
dialects real trace sets use, and OSTEP op strings (`+10,-0,+4`); a seeded generator; replay
onto any pool with mdriver-style checks.

The rules, each with its C meaning (`Trace.parse` documents the text format):

- `a ID SIZE`: `malloc(SIZE)`, SIZE >= 1; ID must not be live.
- `f ID`: `free`; ID must be live. `f -1` is `free(NULL)`: a no-op.
- `r ID SIZE`: `realloc`. On a live ID it resizes the block, keeping the first
  min(old, new) bytes; `r ID 0` frees it (as `realloc(p, 0)` does in glibc and in the
  malloc-lab handout). On an ID that is not live it is `realloc(NULL, SIZE)`, a malloc;
  `realloc(NULL, 0)` allocates nothing (the handout's `malloc(0)` returns NULL).

`strict=True` (for `Trace.parse`) allows only what the original CS:APP mdriver accepts: a
header that matches the ops, and every `f`/`r` on a live ID with a nonzero size.
"""

from __future__ import annotations

import bisect
import functools
import operator
import random
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from mempools.block import Block
from mempools.constants import SIZE_MAX
from mempools.errors import CorruptPool, OutOfMemory, PoolError, PoolMisuse, UseAfterClose
from mempools.pool import Pool


class TraceError(PoolMisuse):
    """Malformed trace text, a bad Op or Trace, an op that makes no sense (free of an id never
    allocated), or a bad argument to `replay`. A `ValueError` and a `mp.PoolError`."""


class TraceWarning(UserWarning):
    """A trace was read, but something in it was off: a header that disagrees with the ops
    (mdriver reads the ops; the header is advisory), or lines skipped in lenient mode."""


class _OpFields(NamedTuple):
    kind: str
    id: int
    size: int | None = None


class Op(_OpFields):
    """One trace operation: kind 'a' (alloc), 'r' (realloc) or 'f' (free), an id, and a size
    for 'a' (>= 1) and 'r' (>= 0, where 0 frees). `Op('f', -1)` is free(NULL). Raises
    TraceError for anything else."""

    __slots__ = ()

    def __new__(cls, kind: str, id: int, size: int | None = None) -> Op:  # noqa: A002
        # the common case, checked without building any message
        if (kind == "f" and size is None and type(id) is int and id >= -1) or (
                kind in ("a", "r") and type(id) is int and id >= 0 and type(size) is int
                and (1 if kind == "a" else 0) <= size <= SIZE_MAX):
            return super().__new__(cls, kind, id, size)
        return super().__new__(cls, *_checked_op(kind, id, size))

    def __str__(self) -> str:
        return f"{self.kind} {self.id}" + ("" if self.size is None else f" {self.size}")


def _checked_op(kind: object, id: object, size: object) -> tuple[str, int, int | None]:  # noqa: A002
    """The fields of a valid Op made from these (numpy integers become int), or TraceError
    saying what is wrong."""
    call = f"Op({kind!r}, {id!r}, {size!r})"
    if kind not in ("a", "r", "f"):
        raise TraceError(f"{call}: unknown operation {kind!r} "
                         "(use 'a' = alloc, 'r' = realloc, 'f' = free)")
    ident = _whole(id, call, "id")
    if ident < (-1 if kind == "f" else 0):
        rule = "-1 (free(NULL)) or more" if kind == "f" else "0 or more"
        raise TraceError(f"{call}: id must be {rule}, got {ident}")
    if kind == "f":
        if size is not None:
            raise TraceError(f"{call}: a free takes no size (write Op('f', {ident}))")
        return kind, ident, None
    if size is None:
        raise TraceError(f"{call}: {'an alloc' if kind == 'a' else 'a realloc'} needs a size")
    n = _whole(size, call, "size")
    least = 1 if kind == "a" else 0
    if not least <= n <= SIZE_MAX:
        rule = "at least 1 byte" if kind == "a" else "0 (free) or more bytes"
        raise TraceError(f"{call}: size must be {rule} and fit in size_t, got {n}")
    return kind, ident, n


def _whole(value: object, call: str, what: str) -> int:
    """`value` as an int (numpy integers count; bool and float do not), else TraceError."""
    if isinstance(value, bool):
        raise TraceError(f"{call}: {what} must be a whole number, not {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TraceError(f"{call}: {what} must be a whole number, not {value!r}") from None


def _effect(live: set[int], op: Op, strict: bool = False) -> str | None:
    """Apply `op` to the set of live ids; return what is wrong with it (and change nothing),
    or None. This is the one statement of the dialect rules in the module docstring."""
    ident = op.id
    if op.kind == "a":
        if ident in live:
            return f"id {ident} is already allocated"
        live.add(ident)
    elif op.kind == "f":
        if ident == -1:
            return "free(NULL) ('f -1') is not in the strict dialect" if strict else None
        if ident not in live:
            return f"id {ident} is not allocated"
        live.discard(ident)
    elif ident in live:
        if op.size == 0:
            if strict:
                return "realloc to 0 is not in the strict dialect"
            live.discard(ident)
    elif strict:
        return f"id {ident} is not allocated (realloc(NULL, n) is not in the strict dialect)"
    elif op.size:
        live.add(ident)
    return None


_OSTEP = re.compile(r"^\s*[+-]\d+(\s*,\s*[+-]\d+)*\s*$")
_NUMBER = re.compile(r"-?[0-9]+")
_FORMS = {"a": "a ID SIZE", "r": "r ID SIZE", "f": "f ID"}
_OP_LINE = re.compile(r"([ar])[ \t]+([0-9]+)[ \t]+([0-9]+)|f[ \t]+(-?[0-9]+)")


@dataclass
class Trace:
    """A sequence of Ops, checked against the rules in this module's docstring (ids live
    before a free, not allocated twice); TraceError names the first op that breaks one."""

    ops: list[Op]
    heap_size: int = 0  # the malloc-lab header's suggested heap size (0 when absent)
    weight: int = 1

    def __post_init__(self) -> None:
        if isinstance(self.ops, (str, bytes)) or not isinstance(self.ops, Iterable):
            raise TraceError(f"Trace(ops): ops must be a list of Op, got "
                             f"{type(self.ops).__name__} (to read text use Trace.parse)")
        self.ops = list(self.ops)
        for name in ("heap_size", "weight"):
            value = _whole(getattr(self, name), "Trace(...)", name)
            if value < 0:
                raise TraceError(f"Trace(...): {name} must not be negative, got {value}")
            setattr(self, name, value)
        live: set[int] = set()
        for step, op in enumerate(self.ops):
            if not isinstance(op, Op) or op.kind not in _FORMS:
                raise TraceError(f"Trace(ops): op {step} is {op!r}, not an Op "
                                 "(build it with mp.Op(kind, id, size))")
            problem = _effect(live, op)
            if problem:
                raise TraceError(f"Trace(ops): op {step} ({op}): {problem}")

    def __len__(self) -> int:
        return len(self.ops)

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    @property
    def ids(self) -> int:
        """How many distinct ids the ops use (free(NULL)'s -1 is not one)."""
        return len({op.id for op in self.ops} - {-1})

    @classmethod
    def parse(cls, text: str, *, strict: bool = False, lenient: bool = False) -> Trace:
        """Read malloc-lab text or an OSTEP op string like `+10,-0,+4` (see `from_ostep`).

        malloc-lab text: an optional header of 3 or 4 lines holding one number each
        (`heap_size`, `num_ids`, `num_ops`, and `weight` in the 4-line form), then one op per
        line (`a ID SIZE`, `r ID SIZE`, `f ID`, meaning as in the module docstring). `#` starts
        a comment; blank lines are skipped. The header is advisory, as in mdriver: when its
        op or id count disagrees with the ops, a TraceWarning says so and the ops are used.

        A line that cannot be read, or an op that breaks the rules, raises TraceError naming
        its line. `lenient=True` skips such lines instead (ops on an id whose allocation was
        skipped are skipped too) and warns once, listing them. `strict=True` accepts only the
        original CS:APP dialect: the header must match, and no `f -1`, no realloc of an id
        that is not live, no realloc to 0.
        """
        call = "Trace.parse"
        if not isinstance(text, str):
            raise TraceError(f"{call}(text): text must be a str, got {type(text).__name__}")
        if strict and lenient:
            raise TraceError(f"{call}: strict=True and lenient=True contradict each other")
        if _OSTEP.match(text):
            return cls.from_ostep(text)
        header: list[int] = []
        ops: list[Op] = []
        live: set[int] = set()
        skipped: list[str] = []
        for number, raw in enumerate(text.splitlines(), start=1):
            line = (raw.split("#", 1)[0] if "#" in raw else raw).strip()
            if not line:
                continue
            plain = _OP_LINE.fullmatch(line)
            if plain:  # the common case, read without splitting into fields
                kind, ident, size, freed = plain.groups()
                try:
                    op = Op(kind, int(ident), int(size)) if kind else Op("f", int(freed))
                except TraceError:
                    pass  # read again below, for a message in the trace's words
                else:
                    if not _effect(live, op, strict):
                        ops.append(op)
                        continue
            fields = line.split()
            try:
                if len(fields) == 1 and _NUMBER.fullmatch(fields[0]):
                    if ops:
                        raise TraceError(f"a bare number {fields[0]} after the ops began "
                                         "(a header comes first)")
                    if len(header) == 4 or fields[0].startswith("-"):
                        raise TraceError(f"{fields[0]!r} is not a header number (the header "
                                         "is 3 or 4 non-negative numbers)")
                    header.append(int(fields[0]))
                    continue
                op = _parse_op(fields)
                problem = _effect(live, op, strict)
                if problem:
                    raise TraceError(f"{op}: {problem}")
            except TraceError as e:
                message = f"line {number}: {e} (in {raw.strip()!r})"
                if not lenient:
                    raise TraceError(f"{call}: {message}") from None
                skipped.append(message)
                continue
            ops.append(op)
        if header and len(header) not in (3, 4):
            raise TraceError(f"{call}: header has {len(header)} numbers; expected 3 or 4 "
                             "(heap_size, num_ids, num_ops[, weight])")
        trace = cls(ops, heap_size=header[0] if header else 0,
                    weight=header[3] if len(header) == 4 else 1)
        if skipped:
            shown = "; ".join(skipped[:5]) + ("; ..." if len(skipped) > 5 else "")
            warnings.warn(TraceWarning(f"{call}: skipped {len(skipped)} bad line(s): {shown}"),
                          stacklevel=2)
        if header:
            _check_header(header, len(ops) + len(skipped), trace.ids, strict)
        return trace

    @classmethod
    def from_ostep(cls, text: str) -> Trace:
        """OSTEP malloc.py ops: `+N` allocates N bytes (ids count allocations from 0), `-K`
        frees the K-th allocation."""
        if not isinstance(text, str):
            raise TraceError(f"Trace.from_ostep(text): text must be a str, got "
                             f"{type(text).__name__}")
        ops: list[Op] = []
        next_id = 0
        for n, item in enumerate(text.replace(" ", "").split(","), start=1):
            if not re.fullmatch(r"[+-][0-9]+", item):
                raise TraceError(f"Trace.from_ostep: item {n}: {item!r} is not +SIZE or -INDEX")
            value = int(item[1:])
            if item[0] == "+":
                if value == 0:
                    raise TraceError(f"Trace.from_ostep: item {n}: +0 allocates nothing")
                ops.append(Op("a", next_id, value))
                next_id += 1
            else:
                ops.append(Op("f", value))
        return cls(ops)

    def canonical(self) -> Trace:
        """The same trace using only the plain forms every consumer knows (what the C
        benchmark replays): free(NULL) dropped, realloc(NULL, n) written `a`, realloc to 0
        written `f`. Every op then names a live id, or allocates a new one with `a`."""
        live: set[int] = set()
        out: list[Op] = []
        for op in self.ops:
            was_live = op.id in live
            _effect(live, op)
            if op.kind == "r" and not was_live:
                if op.size:
                    out.append(Op("a", op.id, op.size))
            elif op.kind == "r" and op.size == 0:
                out.append(Op("f", op.id))
            elif op.id != -1:
                out.append(op)
        return Trace(out, heap_size=self.heap_size, weight=self.weight)

    def to_text(self, header: bool = True) -> str:
        """malloc-lab text, with the 4-line header by default."""
        lines = [str(op) for op in self.ops]
        if header:
            peak = max(_live_bytes_series(self.canonical().ops), default=0)
            lines = [str(self.heap_size or peak), str(self.ids), str(len(self.ops)),
                     str(self.weight)] + lines
        return "\n".join(lines) + "\n"

    @classmethod
    def random(cls, seed: int, ops: int = 100, sizes: tuple[int, int] = (1, 256),
               free_ratio: float = 0.4, realloc_ratio: float = 0.0, max_live: int = 32) -> Trace:
        """A seeded random trace: the same seed gives the same trace on every machine. All
        blocks are freed at the end, so a replay should leave the pool empty."""
        call = "Trace.random"
        count, lo, hi, most = (_whole(v, call, name) for v, name in
                               ((ops, "ops"), (sizes[0], "sizes[0]"), (sizes[1], "sizes[1]"),
                                (max_live, "max_live")))
        if count < 0 or not 1 <= lo <= hi or most < 1:
            raise TraceError(f"{call}: needs ops >= 0, 1 <= sizes[0] <= sizes[1] and "
                             f"max_live >= 1; got ops={count}, sizes={sizes}, max_live={most}")
        rng = random.Random(seed)
        out: list[Op] = []
        live: list[int] = []
        next_id = 0
        while len(out) < count:
            roll = rng.random()
            if live and (len(live) >= most or roll < free_ratio):
                out.append(Op("f", live.pop(rng.randrange(len(live)))))
            elif live and roll < free_ratio + realloc_ratio:
                out.append(Op("r", rng.choice(live), rng.randint(lo, hi)))
            else:
                out.append(Op("a", next_id, rng.randint(lo, hi)))
                live.append(next_id)
                next_id += 1
        out += [Op("f", i) for i in live]
        return cls(out)


def _parse_op(fields: list[str]) -> Op:
    kind = fields[0]
    form = _FORMS.get(kind)
    if form is None:
        raise TraceError(f"unknown operation {kind!r} (a ID SIZE, r ID SIZE or f ID)")
    names = form.split()[1:]
    if len(fields) - 1 != len(names):
        missing = len(fields) - 1 < len(names)
        raise TraceError(f"{'missing' if missing else 'extra'} field: expected '{form}'")
    for name, value in zip(names, fields[1:]):
        if not _NUMBER.fullmatch(value):
            raise TraceError(f"{name} {value!r} is not a whole number (digits 0-9): "
                             f"expected '{form}'")
    numbers = [int(v) for v in fields[1:]]
    try:
        return Op(kind, *numbers)
    except TraceError as e:  # say it in the trace's words, not Op(...)'s
        raise TraceError(str(e).split(": ", 1)[1]) from None


def _check_header(header: list[int], ops: int, ids: int, strict: bool) -> None:
    problems = []
    if header[2] != ops:
        problems.append(f"header says {header[2]} ops but the trace has {ops}")
    if header[1] < ids:
        problems.append(f"header says {header[1]} ids but the trace uses {ids}")
    if not problems:
        return
    if strict:
        raise TraceError(f"Trace.parse: {'; '.join(problems)} (strict=True)")
    warnings.warn(TraceWarning(f"Trace.parse: {'; '.join(problems)}; the header is advisory, "
                               "so the ops are used as written (strict=True refuses this)"),
                  stacklevel=3)


def _live_bytes_series(ops: list[Op]) -> list[int]:
    """Live payload bytes after each op of a canonical trace."""
    sizes: dict[int, int] = {}
    series, total = [], 0
    for op in ops:
        total -= sizes.pop(op.id, 0)
        if op.kind != "f":
            sizes[op.id] = op.size or 0
            total += op.size or 0
        series.append(total)
    return series


# -- fill patterns ----------------------------------------------------------------------------
# token(id, n)[j] = ((id * 31 + j) * 7 + 0x5A) & 0xFF. As 7 is odd, that repeats every 256
# bytes and is a rotation of one 256-byte ramp, so a token is a slice of a cached run made by
# bytes repetition: built and compared at memcpy/memcmp speed, never byte by byte in Python.
_RAMP = bytes((7 * k + 0x5A) & 0xFF for k in range(256))
_RUN = 16 * 1024


@functools.cache
def _run_from(start: int) -> bytes:
    return (_RAMP[start:] + _RAMP[:start]) * (_RUN // 256)


def token(block_id: int, n: int) -> bytes:
    """The fill pattern for a trace id: distinct per id, varying along the block."""
    start = (block_id * 31) & 0xFF
    if n <= _RUN:
        return _run_from(start)[:n]
    return (_run_from(start) * (n // _RUN + 1))[:n]


# -- replay -----------------------------------------------------------------------------------
class ReplayError(NamedTuple):
    """Something replay caught: at which op, and what kind (out of memory, overlap,
    misalignment, garbled payload, refused, corrupt pool). The final sweep's findings have
    step == len(trace) and op None."""

    step: int
    op: Op | None
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


class _PoolCalls:
    """Everything replay asks of a pool, looked up once: the one place that knows the names
    of the pool protocol. `read`/`write`/`address` skip the Block checks, for blocks replay
    holds and has just seen live."""

    __slots__ = ("address", "alignment", "alloc", "check", "footprint", "free", "moves",
                 "read", "realloc", "stats", "virtual", "write")

    def __init__(self, pool: Pool) -> None:
        self.alloc = pool.replay_alloc
        self.realloc = pool.replay_realloc
        self.free = pool.replay_free
        self.footprint = lambda: pool.footprint  # a property: read it after every op
        self.check = pool.check
        self.stats = lambda: pool.stats
        self.address = pool._address_of
        self.read = pool._read
        self.write = pool._write
        self.alignment = pool.alignment
        self.virtual = pool.measuring  # a dry run: blocks have no bytes
        # blocks other than the one an op names may move; such pools count the bytes they
        # moved in stats["bytes_moved"], which tells replay when to read addresses again
        self.moves = pool.moves_blocks and not self.virtual

    def moved(self) -> int | None:
        """The pool's count of bytes moved so far (None: it does not say, assume a move)."""
        return self.stats().get("bytes_moved")


class _Replayer:
    """Replays one trace onto one pool, keeping what each live id should hold.

    mdriver's checks: a block's payload is compared with its id's token when it is freed or
    reallocated; a new or moved block is checked for alignment and overlap against a sorted
    index of live spans (O(log live) per op on pools that never move blocks)."""

    def __init__(self, pool: Pool, check_every: int, verify_all: bool) -> None:
        self.calls = _PoolCalls(pool)
        self.check_every, self.verify_all = check_every, verify_all
        self.live: dict[int, Block] = {}
        self.spans: list[tuple[int, int, int]] = []  # (address, end, id) of live ids, sorted
        self.where: dict[int, tuple[int, int, int]] = {}  # id -> its entry in spans
        self.live_bytes = 0
        self.moved: int | None = None  # the pool's bytes_moved when spans were last right
        self.result = ReplayResult()

    def error(self, step: int, op: Op | None, kind: str, message: str) -> None:
        self.result.errors.append(ReplayError(step, op, kind, message))

    # -- the model of live blocks ----------------------------------------------------------
    def forget(self, ident: int) -> Block:
        block = self.live.pop(ident)
        self.live_bytes -= block.size
        span = self.where.pop(ident, None)
        if span is not None:
            spans = self.spans
            del spans[bisect.bisect_left(spans, span)]
        return block

    def verify(self, step: int, op: Op | None, ident: int, n: int | None = None) -> bool:
        """Compare the first n bytes (all by default) with the token; a mismatch is reported
        once and the id is dropped from the model."""
        block, calls = self.live[ident], self.calls
        if calls.virtual:
            return True
        n = block.size if n is None else n
        if not block.live:
            detail = f"the pool retired its block ({block._state}) behind the trace's back"
        elif calls.read(block, 0, n) == token(ident, n):
            return True
        else:
            detail = "its bytes no longer match the token written when it was allocated"
        self.error(step, op, "garbled payload", f"id {ident}: {detail}")
        self.forget(ident)
        return False

    def place(self, step: int, op: Op, block: Block, keep: int = 0) -> None:
        """Take a new or moved block into the model: alignment and overlap, then (after the
        `keep` bytes a realloc must have kept) its id's token."""
        ident, calls = op.id, self.calls
        block.label = f"id {ident}"
        if calls.moves:
            moved = calls.moved()
            if moved is None or moved != self.moved:
                self.reindex()
                self.moved = moved
        size = block.size
        self.live[ident] = block
        self.live_bytes += size
        if calls.virtual:
            return
        addr = calls.address(block)
        if addr % calls.alignment:
            self.error(step, op, "misalignment", f"id {ident} at offset {block.offset} is not "
                       f"{calls.alignment}-aligned")
        end = addr + size
        spans = self.spans
        i = bisect.bisect_left(spans, (addr,))
        span = (addr, end, ident)
        if (i and spans[i - 1][1] > addr) or (i < len(spans) and spans[i][0] < end):
            self.overlaps(step, op, block, addr, i)
            i = bisect.bisect_left(spans, span, i)
        spans.insert(i, span)
        self.where[ident] = span
        if keep and not self.verify(step, op, ident, keep):
            return
        calls.write(block, 0, token(ident, size))

    def overlaps(self, step: int, op: Op, block: Block, addr: int, i: int) -> None:
        spans, end = self.spans, addr + block.size
        hits = spans[i - 1:i] if i and spans[i - 1][1] > addr else []
        while i < len(spans) and spans[i][0] < end:
            hits.append(spans[i])
            i += 1
        for lo, hi, other in hits:
            if other != op.id:
                self.error(step, op, "overlap",
                           f"id {op.id} [{block.offset}, {block.offset + block.size}) overlaps "
                           f"id {other} [{lo - addr + block.offset}, {hi - addr + block.offset})")

    def reindex(self) -> None:
        """Read every live block's address again (after an op on a pool that moves blocks)."""
        address = self.calls.address
        self.spans = sorted((address(b), address(b) + b.size, i) for i, b in self.live.items())
        self.where = {span[2]: span for span in self.spans}

    # -- one op ----------------------------------------------------------------------------
    def step(self, step: int, op: Op) -> None:
        calls, ident, kind = self.calls, op.id, op.kind
        try:
            if kind == "a":
                self.place(step, op, calls.alloc(op.size))
            elif kind == "f":
                if ident in self.live and self.verify(step, op, ident):
                    calls.free(self.forget(ident))
            elif ident not in self.live:  # realloc(NULL, n) is malloc(n); (NULL, 0) nothing
                if op.size:
                    self.place(step, op, calls.alloc(op.size))
            elif self.verify(step, op, ident):
                old = self.forget(ident)
                if op.size == 0:
                    calls.free(old)
                else:
                    self.realloc(step, op, old)
        except OutOfMemory as e:
            self.error(step, op, "out of memory", str(e))
        except PoolError as e:
            self.error(step, op, "refused", str(e))
        if self.verify_all:
            for other in list(self.live):
                if other in self.live:
                    self.verify(step, op, other)
        if self.check_every and (self.verify_all or (step + 1) % self.check_every == 0):
            self.check_pool(step, op)
        result = self.result
        if self.live_bytes > result.peak_live_bytes:
            result.peak_live_bytes = self.live_bytes
        if kind != "f":  # a free never makes a pool use more memory
            footprint = calls.footprint()
            if footprint > result.peak_footprint:
                result.peak_footprint = footprint
        result.ops += 1

    def realloc(self, step: int, op: Op, old: Block) -> None:
        old_size = old.size  # a pool that keeps the handle resizes `old` itself
        try:
            block = self.calls.realloc(old, op.size)
        except PoolError:  # a refused realloc leaves the old block as it was
            self.live[op.id] = old
            self.live_bytes += old_size
            if self.calls.moves:
                self.reindex()
            elif not self.calls.virtual:
                addr = self.calls.address(old)
                span = (addr, addr + old.size, op.id)
                bisect.insort(self.spans, span)
                self.where[op.id] = span
            raise
        self.place(step, op, block, keep=min(old_size, block.size))

    def check_pool(self, step: int, op: Op | None) -> None:
        """The pool's own checker (its C invariants), reported as a 'corrupt pool' error."""
        try:
            self.calls.check()
        except CorruptPool as e:
            self.error(step, op, "corrupt pool", str(e))

    def sweep(self, step: int) -> None:
        """After the last op: every live block's payload, then the pool's checker."""
        for ident in list(self.live):
            if ident in self.live:
                self.verify(step, None, ident)
        if self.check_every:
            self.check_pool(step, None)


def _require_open(pool: Pool, call: str) -> None:
    if pool.closed:
        raise UseAfterClose(f"{call}: the {type(pool).__name__} is closed (replay onto an open "
                            "pool)")


class Replay:
    """A replay advanced one op at a time: `step()` runs the next op (and, after the last one,
    the final sweep); `result` holds what was measured and caught so far. `replay()` runs one
    to the end; the memory map advances one as its slider moves. Arguments as for `replay`."""

    def __init__(self, trace: Trace, pool: Pool, *, check: bool = True,
                 verify_all: bool = False, check_every: int = 1000) -> None:
        call = "replay(trace, pool, ...)"
        if not isinstance(trace, Trace):
            raise TraceError(f"{call}: replay needs a Trace as trace, got {type(trace).__name__} "
                             "(read text with mp.Trace.parse)")
        if not isinstance(pool, Pool):
            raise TraceError(f"{call}: pool must be a mempools pool (mp.Malloc(), "
                             f"mp.FixedPool(...), ...), got {type(pool).__name__}")
        for name, flag in (("check", check), ("verify_all", verify_all)):
            if not isinstance(flag, bool):
                raise TraceError(f"{call}: {name} must be True or False, got {flag!r}")
        every = _whole(check_every, call, "check_every")
        if every < 1:
            raise TraceError(f"{call}: check_every must be at least 1 (run the pool's checker "
                             f"after every N-th op), got {every}")
        _require_open(pool, call)
        self.trace, self.pool, self.position = trace, pool, 0
        self._replayer = _Replayer(pool, every if check else 0, verify_all)

    @property
    def done(self) -> bool:
        """True once every op has run (and the final sweep with it)."""
        return self.position == len(self.trace.ops)

    @property
    def result(self) -> ReplayResult:
        """What the steps run so far measured and caught."""
        return self._replayer.result

    def step(self) -> Op:
        """Run the next op and return it; TraceError when every op has run."""
        if self.done:
            raise TraceError(f"Replay.step(): all {len(self.trace.ops)} ops have run")
        _require_open(self.pool, "Replay.step()")
        op = self.trace.ops[self.position]
        self._replayer.step(self.position, op)
        self.position += 1
        if self.done:
            self._replayer.sweep(self.position)
        return op


def replay(trace: Trace, pool: Pool, on_step: Callable[[int, Op, Pool], None] | None = None,
           check: bool = True, verify_all: bool = False, check_every: int = 1000
           ) -> ReplayResult:
    """Run `trace` on `pool` as mdriver does; errors are collected, not raised.

    Each new block is checked for alignment and overlap with every live block and filled with
    its id's token; the token is compared when the block is reallocated or freed, and for
    every block still live after the last op. With `check`, the pool's own checker runs after
    every `check_every`-th op and at the end. `verify_all=True` re-reads every live block and
    runs the checker after every op: for teaching-sized traces, as it costs O(live bytes) per
    op. `on_step(step, op, pool)` runs after each op (the memory map records frames with it).
    Bad arguments raise TraceError naming the argument.
    """
    if on_step is not None and not callable(on_step):
        raise TraceError(f"replay(trace, pool, on_step): on_step must be a function "
                         f"(step, op, pool) or None, got {type(on_step).__name__}")
    run = Replay(trace, pool, check=check, verify_all=verify_all, check_every=check_every)
    replayer = run._replayer  # the loop of Replay.step, without its per-op bookkeeping
    for step, op in enumerate(trace.ops):
        replayer.step(step, op)
        if on_step is not None:
            on_step(step, op, pool)
    replayer.sweep(len(trace.ops))
    return replayer.result
