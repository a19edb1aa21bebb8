"""What a step did, in words and marks, from the pool's own view: worked out from two frames
(walk() regions, bytes, free-list links and heads, chunks, stats) and nothing else, so every
function here is pure and testable without a pool."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mempools.block import Region

if TYPE_CHECKING:
    from mempools.trace import Op
    from mempools.viz.memory_map import Frame

WORD = 8  # size_t on the machines the course runs on (little-endian, 64-bit)


def _word(data: bytes, offset: int) -> int | None:
    if offset < 0 or offset + WORD > len(data):
        return None
    return int.from_bytes(data[offset:offset + WORD], "little")


def changed(before: Sequence[Region], after: Sequence[Region]) -> list[int]:
    """Indices of the regions of `after` whose walk entry (offset, size, kind, owner) is not in
    `before`: exactly what the step changed."""
    old = set(before)
    return [i for i, r in enumerate(after) if r not in old]


def _payload(regions: Sequence[Region], label: str,
             before: Sequence[Region] = ()) -> Region | None:
    """The payload region of block `label`; when two carry the label (a bump pool's realloc
    leaves the old copy until it can be released), the one that is new since `before`."""
    found = [r for r in regions if r.kind == "payload" and r.owner == label]
    new = [r for r in found if r not in set(before)]
    return (new or found or [None])[0]


def _padding(regions: Sequence[Region], label: str) -> int:
    return sum(r.size for r in regions if r.kind == "padding" and r.owner == label)


def _at(regions: Sequence[Region], offset: int) -> Region | None:
    return next((r for r in regions if r.offset <= offset < r.offset + r.size), None)


def bump_top(frame: Frame) -> int | None:
    """Where a bump pool's next block goes: the start of the free run that ends its last chunk
    (the chunk's end when the chunk is full)."""
    if not frame.chunks:
        return None
    start, size = frame.chunks[-1]
    end = start + size
    free = next((r for r in frame.regions if r.kind == "free" and r.offset + r.size == end), None)
    return free.offset if free else end


def marks(frame: Frame) -> list[tuple[int, str]]:
    """The pointers a student should see: free-list heads, a bump pool's top."""
    out: list[tuple[int, str]] = []
    heads = [h for h in frame.heads if h >= 0]
    for k, head in enumerate(frame.heads):
        if head >= 0:
            out.append((head, "head" if len(heads) == 1 else f"head {k}"))
    if frame.pool == "BumpPool":
        top = bump_top(frame)
        if top is not None:
            out.append((top, "top"))
    return out


def notes(frame: Frame) -> dict[int, str]:
    """The decoded fields of each region, by index: what its bytes mean to the pool."""
    data, out = frame.data, {}
    nexts = dict(frame.links)
    listed = set(nexts) | set(nexts.values()) | {h for h in frame.heads if h >= 0}
    starts = {start: (k, size) for k, (start, size) in enumerate(frame.chunks)}
    for i, r in enumerate(frame.regions):
        words: list[str] = []
        if frame.pool == "Malloc" and r.kind == "header":
            raw = _word(data, r.offset)
            if raw is not None:
                words.append(f"glibc size field {raw:#x} = chunk {raw & ~7} bytes | flags "
                             f"PREV_INUSE={raw & 1} IS_MMAPPED={raw >> 1 & 1} "
                             f"NON_MAIN_ARENA={raw >> 2 & 1}")
        if frame.pool == "FreeListPool" and r.kind in ("header", "footer"):
            raw = _word(data, r.offset)
            if raw is not None:
                words.append(f"{r.kind} word {raw:#x}: size {raw & ~7}, allocated={raw & 1}, "
                             f"prev allocated={raw >> 1 & 1}")
        if r.kind == "free" and r.offset in listed:
            nxt = nexts.get(r.offset)
            words.append(f"next pointer -> {'NULL (end of the list)' if nxt is None else f'offset {nxt}'}")
        if r.kind == "table" and frame.stats.get("slots"):
            s = frame.stats
            words.append(f"allocation table: {s['slots']} slots, {s.get('live', 0)} live; "
                         f"each slot holds a block's offset, size, generation, lock count "
                         f"and its neighbours")
        if frame.pool == "BumpPool" and r.kind in ("free", "tail"):
            k, (start, size) = next((k, c) for k, c in enumerate(frame.chunks)
                                    if c[0] <= r.offset < c[0] + c[1])
            words.append(f"chunk {k}: offset {start}, capacity {size}, used {r.offset - start}"
                         + ("; left behind when the next chunk was chained" if r.kind == "tail"
                            else "; the top: the next block starts here"))
        if r.offset in starts and frame.pool == "BumpPool":
            k, size = starts[r.offset]
            words.append(f"chunk {k} begins: {size} bytes")
        if frame.pool == "EmbeddedPool" and r.kind == "payload":
            words += _slot(frame, r)
        if frame.pool == "EmbeddedPool" and r.kind == "free":
            words.append(f"a gap of {r.size} bytes between blocks")
        if r.kind == "other" and frame.gaps.get(r.offset):
            words.append(frame.gaps[r.offset])
        if words:
            out[i] = "\n".join(words)
    return out


SLOT = struct.Struct("<IIIHHHH")  # emb_slot: offset, size, generation:24|lock:8, prev, next, gaps


def _slot(frame: Frame, r: Region) -> list[str]:
    """The embedded pool's table slot of payload `r`, found in the table's bytes by the
    (offset, size) pair it holds, and decoded."""
    table = next((t for t in frame.regions if t.kind == "table"), None)
    if table is None:
        return []
    at = frame.data.find(struct.pack("<II", r.offset, r.size), table.offset,
                         table.offset + table.size)
    if at < 0 or at + SLOT.size > table.offset + table.size:
        return []
    offset, size, word, prev, nxt, _, _ = SLOT.unpack_from(frame.data, at)
    return [f"table slot at offset {at}: offset {offset}, size {size}, generation "
            f"{word & 0xFFFFFF}, lock count {word >> 24}, neighbours {prev} and {nxt}"]


def _moved(before: Frame, after: Frame, skip: str) -> list[str]:
    """Labels of the blocks that sit at a new offset after the step (the op's own excepted)."""
    old = {r.owner: r.offset for r in before.regions if r.kind == "payload"}
    return [r.owner for r in after.regions if r.kind == "payload" and r.owner != skip
            and r.owner in old and old[r.owner] != r.offset]


def caption(step: int, op: Op, before: Frame, after: Frame) -> str:
    """Words for step `step` (1-based): what the op did and why, as the pool sees it."""
    label = f"id {op.id}"
    pool, stats, old = after.pool, after.stats, before.stats
    pay, was = _payload(after.regions, label, before.regions), _payload(before.regions, label)
    head = f"step {step}: "
    why: list[str] = []
    moved_bytes = stats.get("bytes_moved", 0) - old.get("bytes_moved", 0)
    moved = _moved(before, after, label)
    if op.kind == "a" and pay is None:
        return head + f"alloc {op.size} for {label}: refused (no room)"
    if op.kind == "a" and pay is not None:
        pad = _padding(after.regions, label)
        text = f"alloc {op.size} \u2192 {label} at offset {pay.offset}" + (
            f", {pad} bytes of padding" if pad else "")
        where = _at(before.regions, pay.offset)
        if pool == "FixedPool" and where is not None and where.kind == "untouched":
            why.append("the free list was empty: carved the next untouched block")
        elif pool == "FixedPool":
            why.append("popped the free list's head" + (
                f"; head is now offset {after.heads[0]}" if after.heads and after.heads[0] >= 0
                else "; the list is empty"))
        elif pool == "FreeListPool":
            if stats.get("splits", 0) > old.get("splits", 0):
                why.append("split a free block")
            if stats.get("extends", 0) > old.get("extends", 0):
                why.append("no free block fitted: the heap grew")
            elif where is not None and where.kind in ("free", "header"):
                why.append(f"{after.policy} fit took the free block at offset {where.offset}")
        elif pool == "BumpPool":
            if len(after.chunks) > len(before.chunks):
                why.append(f"the chunk was full: chained chunk {len(after.chunks) - 1} of "
                           f"{after.chunks[-1][1]} bytes")
            why.append(f"the top moved to offset {bump_top(after)}")
        elif pool == "EmbeddedPool":
            if where is not None and where.kind == "free" and not moved:
                why.append(f"{after.policy} fit chose the {where.size}-byte gap at "
                           f"offset {where.offset}")
        elif pool == "Malloc" and where is not None and where.kind == "free":
            why.append(f"libc reused the {where.size}-byte block freed at offset {where.offset}")
    elif op.kind == "f":
        size = was.size if was else 0
        text = f"free {label} ({size} bytes" + (f" at offset {was.offset})" if was else ")")
        if pool in ("FixedPool", "FreeListPool") and was is not None:
            heads = [h for h in after.heads if h >= 0]
            why.append("pushed onto the free list" + (
                f", head is now offset {heads[0]}" if len(heads) == 1 else ""))
            merged = stats.get("coalesces", 0) - old.get("coalesces", 0)
            if merged:
                gap = _at(after.regions, was.offset)
                why.append(f"merged with {merged} free neighbour{'s' * (merged > 1)}"
                           + (f" into one {gap.size}-byte free block" if gap else ""))
        elif pool == "BumpPool":
            why.append("released back to the top" if pay is None else
                       "a bump pool cannot free one block: its bytes stay used until the "
                       "newer ones are freed too")
        elif pool == "EmbeddedPool" and was is not None:
            gap = _at(after.regions, was.offset)
            if gap is not None and gap.kind == "free":
                why.append(f"its bytes join a {gap.size}-byte gap")
        elif pool == "Malloc":
            why.append("given back to libc: drawn free until libc hands it out again")
    else:
        text = f"realloc {label} to {op.size} bytes"
        if pay is None:
            why.append("freed (size 0)" if op.size == 0 else "refused")
        elif pay == was and op.size != was.size:
            why.append("refused: the block is unchanged")
        elif was is not None and was.offset == pay.offset:
            why.append(f"{'grew' if pay.size >= was.size else 'shrank'} in place at offset "
                       f"{pay.offset}")
        elif was is not None:
            why.append(f"moved from offset {was.offset} to {pay.offset}, copying "
                       f"{min(was.size, pay.size)} bytes")
    if moved_bytes:
        names = (", ".join(moved[:-1]) + " and " + moved[-1] if len(moved) > 1
                 else moved[0] if moved else "blocks")
        why.append(f"compaction moved {names}, {moved_bytes} bytes")
    return head + text + (": " + "; ".join(why) if why else "")


def chosen(op: Op, before: Frame, after: Frame) -> list[tuple[int, str]]:
    """The mark of where an alloc landed, for pools whose placement is the lesson."""
    label = f"id {op.id}"
    pay = _payload(after.regions, label)
    if op.kind != "a" or pay is None or after.pool not in ("EmbeddedPool", "FreeListPool"):
        return []
    return [(pay.offset, "gap chosen" if after.pool == "EmbeddedPool" else "fit chosen")]
