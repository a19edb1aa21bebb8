"""render_svg: a pure function from regions (and bytes) to an SVG memory map."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from mempools.block import Region

COLOURS = {
    "header": "#9c755f",
    "payload": "#4e79a7",
    "padding": "#f28e2b",
    "free": "#d9d9d9",
    "table": "#76b7b2",
    "untouched": "#ffffff",
    "other": "#bab0ac",
    "footer": "#c9a27e",
    "tail": "#fbe3d6",  # drawing only: free bytes at the end of a chunk a bump pool has left
}
LEGEND = {"tail": "chunk tail, never used again"}
BOUNDARY = "#111"  # where one chunk of a chain ends and the next begins
OVERLAP = "#d62728"  # outline of bytes two blocks both claim
LINK = "#c0392b"  # free-list arrows
ROW_HEIGHT = 26
LEFT = 64  # room for the offset labels
TOP = 8


def _row_bytes(total: int, rows: int = 16) -> int:
    """Bytes per row: a power of two (at least 64) that keeps the map to about `rows` rows."""
    per_row = 64
    while per_row * rows < total:
        per_row *= 2
    return per_row


def _hex_preview(data: bytes | None, offset: int, size: int) -> str:
    if not data or offset >= len(data):
        return ""
    chunk = data[offset:offset + min(size, 8)]
    more = " ..." if size > 8 else ""
    return "\nbytes: " + " ".join(f"{b:02x}" for b in chunk) + more


def _elide(regions: Sequence[Region], per_row: int) -> tuple[list[Region], list[tuple[int, int]]]:
    """Shorten long runs of memory that is not ours (libc's heap between our blocks) to two rows
    and an allocation table to one, keeping every later region in its column. Returns the
    regions in drawing offsets and the (drawn, real) offset pairs where the two differ."""
    drawn: list[Region] = []
    shifts: list[tuple[int, int]] = []
    cut = 0
    for r in regions:
        size = r.size
        if r.kind == "other" and r.size > 3 * per_row:
            size = r.size - (r.size // per_row - 2) * per_row
        elif r.kind == "table" and r.size > 2 * per_row:  # bookkeeping: fold it, keep the blocks big
            size = r.size - (r.size // per_row - 1) * per_row
        drawn.append(Region(r.offset - cut, size, r.kind, r.owner))
        if size != r.size:
            cut += r.size - size
            shifts.append((r.offset + r.size - cut, r.offset + r.size))
    return drawn, shifts


def dead_tails(regions: Sequence[Region], chunks: Sequence[tuple[int, int]]) -> list[Region]:
    """Free bytes at the end of any chunk but the last of a chain are not free to use: a bump
    pool only carves its last chunk. Give them their own colour so they do not look usable."""
    ends = {start + size for start, size in list(chunks)[:-1]}
    return [Region(r.offset, r.size, "tail", r.owner) if r.kind == "free" and r.offset + r.size in ends
            else r for r in regions]


def lanes(regions: Sequence[Region]) -> list[int]:
    """For each region: -1 when it overlaps no other (drawn full height), else its lane, 0 or 1
    (drawn in the top or bottom half of the row), so a bug that hands out the same bytes twice
    shows as two blocks stacked on the same bytes instead of one hiding the other."""
    out, ends = [-1] * len(regions), [0, 0]
    order = sorted(range(len(regions)), key=lambda i: regions[i].offset)
    for i in order:
        r = regions[i]
        for j in order:
            o = regions[j]
            if j != i and r.kind == o.kind == "payload" and r.offset < o.offset + o.size \
                    and o.offset < r.offset + r.size:
                out[i] = 0 if r.offset >= ends[0] else 1
                ends[out[i]] = max(ends[out[i]], r.offset + r.size)
                break
    return out


def overlaps(regions: Sequence[Region]) -> list[tuple[int, int]]:
    """(offset, size) of every run of bytes that two payload regions both claim."""
    pays = sorted((r for r in regions if r.kind == "payload"), key=lambda r: r.offset)
    out = []
    for i, a in enumerate(pays):
        for b in pays[i + 1:]:
            lo, hi = max(a.offset, b.offset), min(a.offset + a.size, b.offset + b.size)
            if lo < hi:
                out.append((lo, hi - lo))
    return out


def link_margin(links: Sequence[tuple[int, int]]) -> int:
    """Room above the first row for the arcs of the free list (and its "head" label)."""
    return 34 if links else 0


def _real_offset(drawn: int, shifts: list[tuple[int, int]], per_row: int) -> int:
    """The real offset of the row that starts at `drawn` (rows keep their columns)."""
    real = drawn
    for at, to in shifts:
        if drawn >= at - at % per_row:
            real = drawn + (to - at)
    return real


def render_svg(regions: Sequence[Region], data: bytes | None = None, *,
               links: Iterable[tuple[int, int]] = (), row_bytes: int | None = None,
               width: int = 720, title: str = "", chunks: Sequence[tuple[int, int]] = ()) -> str:
    """An SVG of memory: one rectangle per region (split across rows), coloured by kind, with a
    hover title (offset, size, kind, owner, first bytes), offsets down the left, a legend,
    `links` drawn as arrows between offsets (free-list next pointers) and the boundaries of
    `chunks` (offset, size) of a chained pool as thick bars."""
    regions = dead_tails(regions, chunks)
    total = max((r.offset + r.size for r in regions), default=0)
    per_row = row_bytes or _row_bytes(total)
    real = regions
    regions, shifts = _elide(regions, per_row)
    total = max((r.offset + r.size for r in regions), default=0)
    scale = (width - LEFT - 8) / per_row
    rows = max(1, -(-total // per_row))
    links = list(links)
    y0 = TOP + (16 if title else 0) + link_margin(links)
    height = y0 + rows * ROW_HEIGHT + 46
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="mp-memmap" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" '
           'font-size="11">']
    if title:
        out.append(f'<text x="{LEFT}" y="{TOP + 10}" font-weight="bold">{escape(title)}</text>')
    for row in range(rows):
        y = y0 + row * ROW_HEIGHT
        label = _real_offset(row * per_row, shifts, per_row)
        out.append(f'<text x="{LEFT - 6}" y="{y + 15}" text-anchor="end">{label}</text>')
    for region, truth, lane in zip(regions, real, lanes(regions)):
        _region_rects(out, region, truth, data, per_row, scale, y0, lane)
    clashes = overlaps(regions)
    for offset, size in clashes:
        for x, y, w in _spans(offset, size, per_row, scale, y0):
            out.append(f'<rect class="mp-overlap" x="{x:.1f}" y="{y}" width="{w:.1f}" '
                       f'height="{ROW_HEIGHT - 2}" fill="none" stroke="{OVERLAP}" stroke-width="2.5"/>')
    for start, _ in list(chunks)[1:]:
        row, col = divmod(start, per_row)
        x = LEFT + col * scale
        out.append(f'<line class="mp-chunk" x1="{x:.1f}" y1="{y0 + row * ROW_HEIGHT - 2}" '
                   f'x2="{x:.1f}" y2="{y0 + row * ROW_HEIGHT + ROW_HEIGHT}" stroke="{BOUNDARY}" '
                   f'stroke-width="3"/>')
    for src, dst in links:
        out.append(_arrow(src, dst, per_row, scale, y0))
    if links:
        head = next(s for s, _ in links if s not in {d for _, d in links})
        row, col = divmod(head, per_row)
        out.append(f'<text x="{LEFT + col * scale:.1f}" y="{y0 + row * ROW_HEIGHT - 22}" '
                   f'fill="{LINK}" font-weight="bold">head</text>')
    kinds = {r.kind for r in regions} | ({"overlap"} if clashes else set())
    _legend(out, kinds, y0 + rows * ROW_HEIGHT + 14)
    out.append("</svg>")
    return "".join(out)


def _spans(offset: int, size: int, per_row: int, scale: float, y0: int):
    """(x, y, width) of each row's piece of a run of bytes."""
    start, end = offset, offset + size
    while start < end:
        row, col = divmod(start, per_row)
        span = min(end - start, per_row - col)
        yield LEFT + col * scale, y0 + row * ROW_HEIGHT + 1, max(span * scale, 1.0)
        start += span


def _region_rects(out: list[str], region: Region, truth: Region, data: bytes | None,
                  per_row: int, scale: float, y0: int, lane: int = -1) -> None:
    tip = (f"offset {truth.offset}, {truth.size} bytes, {truth.kind}"
           + (f", {truth.owner}" if truth.owner else "")
           # payload bytes only: free blocks hold raw next pointers (addresses) and a glibc
           # header's flag bit depends on its neighbour, neither the same from run to run
           + (_hex_preview(data, truth.offset, truth.size) if truth.kind == "payload" else ""))
    dash = ' stroke-dasharray="3,2"' if region.kind == "untouched" else ""
    top, tall = lane_box(lane)
    out.append(f'<g class="mp-region mp-{region.kind}"><title>{escape(tip)}</title>')
    note = table_note(region, truth)
    for x, y, w in _spans(region.offset, region.size, per_row, scale, y0):
        out.append(f'<rect x="{x:.1f}" y="{y + top}" width="{w:.1f}" '
                   f'height="{tall}" fill="{COLOURS[region.kind]}" stroke="#333" '
                   f'stroke-width="0.5"{dash}/>')
        if note:
            out.append(f'<text x="{x + 4:.1f}" y="{y + top + 14}" fill="#111">{escape(note)}</text>')
            note = ""
        if region.owner and region.kind == "payload":
            inside = w > 6 * len(region.owner) + 2  # else the label goes just after the block
            out.append(f'<text x="{x + 2 if inside else x + w + 2:.1f}" '
                       f'y="{y + top + tall / 2 + 4:.0f}" fill="{"white" if inside else "#111"}">'
                       f'{"" if inside else "&#8592;"}{escape(region.owner)}</text>')
    out.append("</g>")


def table_note(drawn: Region, truth: Region) -> str:
    """The words written on an allocation table: its real size, and whether it is folded."""
    if truth.kind != "table":
        return ""
    return f"table: {truth.size} bytes" + (" (folded)" if drawn.size != truth.size else "")


def lane_box(lane: int) -> tuple[int, int]:
    """(top within the row, height) of a region's rectangle: full height, or one of two lanes."""
    full = ROW_HEIGHT - 6
    if lane < 0:
        return 1, full
    half = full // 2
    return 1 + lane * (half + 1), half


def _arrow(src: int, dst: int, per_row: int, scale: float, y0: int) -> str:
    def point(offset: int) -> tuple[float, float]:
        row, col = divmod(offset, per_row)
        return LEFT + col * scale + 4, y0 + row * ROW_HEIGHT + 4

    (x1, y1), (x2, y2) = point(src), point(dst)
    bend = min(y1, y2) - 14 - min(abs(x2 - x1) * 0.05, 14)
    return (f'<path class="mp-link" d="M{x1:.1f},{y1:.1f} Q{(x1 + x2) / 2:.1f},{bend:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" stroke="{LINK}" stroke-width="1.5" '
            f'marker-end="url(#mp-arrowhead)"/>'
            '<defs><marker id="mp-arrowhead" markerWidth="6" markerHeight="6" refX="5" '
            'refY="3" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#c0392b"/></marker></defs>')


def _legend(out: list[str], kinds: set[str], y: int) -> None:
    x = LEFT
    for kind, colour in COLOURS.items():
        if kind not in kinds:
            continue
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}" '
                   f'stroke="#333" stroke-width="0.5"/><text x="{x + 16}" y="{y + 10}">'
                   f'{LEGEND.get(kind, kind)}</text>')
        x += 24 + 7 * len(LEGEND.get(kind, kind))
    if "overlap" in kinds:
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="none" stroke="{OVERLAP}" '
                   f'stroke-width="2.5"/><text x="{x + 16}" y="{y + 10}">overlap: two blocks, '
                   'same bytes</text>')
