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
}
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
    """Shorten long runs of memory that is not ours (libc's heap between our blocks) to one or
    two rows, keeping every later region in its column. Returns the regions in drawing offsets
    and the (drawn, real) offset pairs where the two differ."""
    drawn: list[Region] = []
    shifts: list[tuple[int, int]] = []
    cut = 0
    for r in regions:
        size = r.size
        if r.kind == "other" and r.size > 3 * per_row:
            size = r.size - (r.size // per_row - 2) * per_row
        drawn.append(Region(r.offset - cut, size, r.kind, r.owner))
        if size != r.size:
            cut += r.size - size
            shifts.append((r.offset + r.size - cut, r.offset + r.size))
    return drawn, shifts


def _real_offset(drawn: int, shifts: list[tuple[int, int]], per_row: int) -> int:
    """The real offset of the row that starts at `drawn` (rows keep their columns)."""
    real = drawn
    for at, to in shifts:
        if drawn >= at - at % per_row:
            real = drawn + (to - at)
    return real


def render_svg(regions: Sequence[Region], data: bytes | None = None, *,
               links: Iterable[tuple[int, int]] = (), row_bytes: int | None = None,
               width: int = 720, title: str = "") -> str:
    """An SVG of memory: one rectangle per region (split across rows), coloured by kind, with a
    hover title (offset, size, kind, owner, first bytes), offsets down the left, a legend, and
    `links` drawn as arrows between offsets (free-list next pointers)."""
    total = max((r.offset + r.size for r in regions), default=0)
    per_row = row_bytes or _row_bytes(total)
    real = regions
    regions, shifts = _elide(regions, per_row)
    total = max((r.offset + r.size for r in regions), default=0)
    scale = (width - LEFT - 8) / per_row
    rows = max(1, -(-total // per_row))
    height = TOP + rows * ROW_HEIGHT + 46 + (16 if title else 0)
    y0 = TOP + (16 if title else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="mp-memmap" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" '
           'font-size="11">']
    if title:
        out.append(f'<text x="{LEFT}" y="{TOP + 10}" font-weight="bold">{escape(title)}</text>')
    for row in range(rows):
        y = y0 + row * ROW_HEIGHT
        label = _real_offset(row * per_row, shifts, per_row)
        out.append(f'<text x="{LEFT - 6}" y="{y + 15}" text-anchor="end">{label}</text>')
    for region, truth in zip(regions, real):
        _region_rects(out, region, truth, data, per_row, scale, y0)
    for src, dst in links:
        out.append(_arrow(src, dst, per_row, scale, y0))
    _legend(out, {r.kind for r in regions}, y0 + rows * ROW_HEIGHT + 14)
    out.append("</svg>")
    return "".join(out)


def _region_rects(out: list[str], region: Region, truth: Region, data: bytes | None,
                  per_row: int, scale: float, y0: int) -> None:
    tip = (f"offset {truth.offset}, {truth.size} bytes, {truth.kind}"
           + (f", {truth.owner}" if truth.owner else "")
           # payload bytes only: free blocks hold raw next pointers (addresses) and a glibc
           # header's flag bit depends on its neighbour, neither the same from run to run
           + (_hex_preview(data, truth.offset, truth.size) if truth.kind == "payload" else ""))
    start, end = region.offset, region.offset + region.size
    dash = ' stroke-dasharray="3,2"' if region.kind == "untouched" else ""
    out.append(f'<g class="mp-region mp-{region.kind}"><title>{escape(tip)}</title>')
    while start < end:
        row, col = divmod(start, per_row)
        span = min(end - start, per_row - col)
        x, w = LEFT + col * scale, max(span * scale, 1.0)
        out.append(f'<rect x="{x:.1f}" y="{y0 + row * ROW_HEIGHT + 2}" width="{w:.1f}" '
                   f'height="{ROW_HEIGHT - 6}" fill="{COLOURS[region.kind]}" stroke="#333" '
                   f'stroke-width="0.5"{dash}/>')
        if region.owner and region.kind == "payload" and w > 7 * len(region.owner) + 4:
            out.append(f'<text x="{x + 3:.1f}" y="{y0 + row * ROW_HEIGHT + 16}" '
                       f'fill="white">{escape(region.owner)}</text>')
        start += span
    out.append("</g>")


def _arrow(src: int, dst: int, per_row: int, scale: float, y0: int) -> str:
    def point(offset: int) -> tuple[float, float]:
        row, col = divmod(offset, per_row)
        return LEFT + col * scale + 4, y0 + row * ROW_HEIGHT + 4

    (x1, y1), (x2, y2) = point(src), point(dst)
    bend = min(y1, y2) - 14 - abs(x2 - x1) * 0.08
    return (f'<path class="mp-link" d="M{x1:.1f},{y1:.1f} Q{(x1 + x2) / 2:.1f},{bend:.1f} '
            f'{x2:.1f},{y2:.1f}" fill="none" stroke="#c0392b" stroke-width="1.5" '
            f'marker-end="url(#mp-arrowhead)"/>'
            '<defs><marker id="mp-arrowhead" markerWidth="6" markerHeight="6" refX="5" '
            'refY="3" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="#c0392b"/></marker></defs>')


def _legend(out: list[str], kinds: set[str], y: int) -> None:
    x = LEFT
    for kind, colour in COLOURS.items():
        if kind not in kinds:
            continue
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}" '
                   f'stroke="#333" stroke-width="0.5"/><text x="{x + 16}" y="{y + 10}">{kind}</text>')
        x += 24 + 7 * len(kind)
