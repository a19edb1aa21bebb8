"""render_svg: a pure function from regions (and bytes) to an SVG memory map.

The layout is computed once (`layout`) as a list of shapes; the SVG here and the PNG in png.py
both draw that list, so the two pictures cannot disagree."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from mempools.block import Region

# Okabe & Ito's colour-blind-safe set for the kinds a student must tell apart, greys for what
# is not ours; tests/test_viz.py checks every pair stays distinct under simulated protanopia,
# deuteranopia and tritanopia.
COLOURS = {
    "header": "#CC79A7",
    "payload": "#0072B2",
    "padding": "#E69F00",
    "free": "#D0D0D0",
    "table": "#009E73",
    "untouched": "#ffffff",
    "other": "#6B6B6B",
    "footer": "#F0E442",
    "tail": "#B7A99A",  # drawing only: free bytes at the end of a chunk a bump pool has left
}
LEGEND = {"tail": "chunk tail, never used again"}
BOUNDARY = "#111"  # where one chunk of a chain ends and the next begins
OVERLAP = "#D55E00"  # outline of bytes two blocks both claim
LINK = "#D55E00"  # free-list arrows and markers
CHANGED = "#000"  # outline of what the step changed
ROW_HEIGHT = 36
BAND = 11  # room above each row's rectangles for markers ("head", "top", "gap chosen")
LEFT = 64  # room for the offset labels
TOP = 8
RULER = 16  # the offset ruler under the title
FULL = 20  # height of a region's rectangle
MIN_PX = 3.0  # narrower regions are drawn this wide (and their tooltip says so)
CHAR = 6.7  # width of one character of 11 px monospace, for label placement
DIM = 0.35  # opacity of what a step did not change


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
    """Room above the first row for the arcs of the free list."""
    return 24 if links else 0


def _real_offset(drawn: int, shifts: list[tuple[int, int]], per_row: int) -> int:
    """The real offset of the row that starts at `drawn` (rows keep their columns)."""
    real = drawn
    for at, to in shifts:
        if drawn >= at - at % per_row:
            real = drawn + (to - at)
    return real


def table_note(drawn: Region, truth: Region) -> str:
    """The words written on an allocation table: its real size, and whether it is folded."""
    if truth.kind != "table":
        return ""
    return f"table: {truth.size} bytes" + (" (folded)" if drawn.size != truth.size else "")


def lane_box(lane: int) -> tuple[int, int]:
    """(top within the row, height) of a region's rectangle: full height, or one of two lanes."""
    if lane < 0:
        return BAND + 1, FULL
    half = FULL // 2
    return BAND + 1 + lane * half, half


# -- shapes ----------------------------------------------------------------------------------
@dataclass
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str = "none"
    stroke: str = "#333"
    stroke_width: float = 0.5
    dashed: bool = False
    opacity: float = 1.0
    cls: str = ""


@dataclass
class Text:
    x: float
    y: float
    text: str
    fill: str = "#111"
    bold: bool = False
    anchor: str = "start"
    cls: str = ""


@dataclass
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float
    cls: str = ""
    tip: str = ""


@dataclass
class Arrow:
    x1: float
    y1: float
    x2: float
    y2: float
    bend: float


@dataclass
class Group:
    """One region: its rectangles (one per row it spans) and its hover text."""

    cls: str
    tip: str
    shapes: list[Rect | Text] = field(default_factory=list)
    offset: int = 0
    size: int = 0
    dump: list[str] = field(default_factory=list)  # the byte view a click opens (SVG only)


@dataclass
class Drawing:
    width: int
    height: int
    shapes: list[Group | Rect | Text | Line | Arrow]
    dump_y: float = 0  # where a clicked region's byte view is drawn (0: no byte views)


DUMP_BYTES = 48  # bytes a byte view shows (16 a line)
DUMP_LINES = 6  # header line, three lines of bytes, two of decoded fields
DUMP_REGIONS = 128  # a map of more regions gets no byte views: its SVG would be megabytes


def byte_view(truth: Region, data: bytes | None, note: str) -> list[str]:
    """The lines of a region's byte view: what it is, its first bytes in hex and ASCII, and the
    decoded fields."""
    lines = [f"{truth.kind} at offset {truth.offset}, {truth.size} bytes"
             + (f", {truth.owner}" if truth.owner else "") + " (click elsewhere to close)"]
    raw = data[truth.offset:truth.offset + min(truth.size, DUMP_BYTES)] if data else b""
    for at in range(0, len(raw), 16):
        row = raw[at:at + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"+{at:<4} " + " ".join(f"{b:02x}" for b in row).ljust(48) + f" {text}")
    if truth.size > DUMP_BYTES and raw:
        lines[-1] += f"  ... {truth.size - DUMP_BYTES} more"
    lines += [w for w in note.split("\n") if w][:2]
    return lines[:DUMP_LINES]


class Labels:
    """Places text only where it overlaps no text already placed and stays inside the picture:
    a label that would collide is left off (the region's hover text still says it)."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.boxes: list[tuple[float, float, float, float]] = []

    def box(self, x: float, y: float, text: str, anchor: str = "start") -> tuple[float, float, float, float]:
        w = len(text) * CHAR
        x0 = x - w if anchor == "end" else x
        return x0, y - 10, x0 + w, y + 3  # as a browser measures 11 px monospace

    def fits(self, x: float, y: float, text: str, anchor: str = "start") -> bool:
        a = self.box(x, y, text, anchor)
        if a[0] < 0 or a[2] > self.width:
            return False
        return not any(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3] for b in self.boxes)

    def place(self, x: float, y: float, text: str, anchor: str = "start") -> bool:
        if not self.fits(x, y, text, anchor):
            return False
        self.boxes.append(self.box(x, y, text, anchor))
        return True


def _spans(offset: int, size: int, per_row: int, scale: float, y0: int):
    """(x, y, width) of each row's piece of a run of bytes (y is the row's top)."""
    start, end = offset, offset + size
    while start < end:
        row, col = divmod(start, per_row)
        span = min(end - start, per_row - col)
        yield LEFT + col * scale, y0 + row * ROW_HEIGHT, span * scale
        start += span


def tooltip(truth: Region, data: bytes | None, note: str = "") -> str:
    """Hover text: offset, size, kind, owner, first bytes (payload only: free blocks hold raw
    addresses and a glibc header's flag bit depends on its neighbour, neither the same from
    run to run, so their decoded fields in `note` say what they mean instead)."""
    return (f"offset {truth.offset}, {truth.size} bytes, {truth.kind}"
            + (f", {truth.owner}" if truth.owner else "")
            + (_hex_preview(data, truth.offset, truth.size) if truth.kind == "payload" else "")
            + (f"\n{note}" if note else ""))


def layout(regions: Sequence[Region], data: bytes | None = None, *,
           links: Iterable[tuple[int, int]] = (), row_bytes: int | None = None,
           width: int = 720, title: str = "", chunks: Sequence[tuple[int, int]] = (),
           changed: Iterable[int] | None = None, marks: Sequence[tuple[int, str]] = (),
           notes: Mapping[int, str] | None = None) -> Drawing:
    """The shapes of a memory map (see render_svg for the arguments)."""
    notes = notes or {}
    regions = dead_tails(regions, chunks)
    total = max((r.offset + r.size for r in regions), default=0)
    per_row = row_bytes or _row_bytes(total)
    real = regions
    regions, shifts = _elide(regions, per_row)
    total = max((r.offset + r.size for r in regions), default=0)
    scale = (width - LEFT - 8) / per_row
    rows = max(1, -(-total // per_row))
    links = list(links)
    lines = textwrap.wrap(title, max(20, int((width - LEFT - 8) / 7.4)))  # bold is wider[:3] if title else []
    ruler_y = TOP + 14 * len(lines) + (2 if lines else 0)
    y0 = ruler_y + RULER + link_margin(links)
    dump_y = y0 + rows * ROW_HEIGHT + 34 if len(regions) <= DUMP_REGIONS else 0
    height = (dump_y + 14 * DUMP_LINES + 4) if dump_y else y0 + rows * ROW_HEIGHT + 30
    changed_set = None if changed is None else set(changed)
    labels = Labels(width)
    shapes: list[Group | Rect | Text | Line | Arrow] = []
    for k, line in enumerate(lines):
        shapes.append(Text(LEFT, TOP + 10 + 14 * k, line, bold=True))
        labels.place(LEFT, TOP + 10 + 14 * k, line)
    step = per_row // 8
    for k in range(8):
        x = LEFT + k * step * scale
        shapes.append(Line(x, ruler_y + 12, x, ruler_y + 16, "#777", 1, "mp-ruler"))
        if labels.place(x + 2, ruler_y + 11, f"+{k * step}"):
            shapes.append(Text(x + 2, ruler_y + 11, f"+{k * step}", fill="#555", cls="mp-ruler"))
    for row in range(rows):
        y = y0 + row * ROW_HEIGHT + BAND + 15
        label = str(_real_offset(row * per_row, shifts, per_row))
        labels.place(LEFT - 6, y, label, "end")
        shapes.append(Text(LEFT - 6, y, label, anchor="end"))
    marks = list(marks)
    if links and not any(word.startswith("head") for _, word in marks):
        marks.append((next(s for s, _ in links if s not in {d for _, d in links}), "head"))
    for offset, label in marks:  # markers first: they are what a step is about
        drawn = _drawn_offset(offset, real, regions)
        row, col = divmod(drawn, per_row)
        x, y = LEFT + col * scale, y0 + row * ROW_HEIGHT
        shapes.append(Line(x, y + 2, x, y + BAND + 1, LINK, 2, "mp-marker"))
        for tx in (x + 2, x - 2 - len(label) * CHAR):
            if labels.place(tx, y + 9, label):
                shapes.append(Text(tx, y + 9, label, fill=LINK, bold=True, cls="mp-marker"))
                break
    inflated = False
    for i, (region, truth, lane) in enumerate(zip(regions, real, lanes(regions))):
        top, tall = lane_box(lane)
        dim = changed_set is not None and i not in changed_set
        hot = changed_set is not None and i in changed_set
        note = notes.get(i, "")
        group = Group(f"mp-region mp-{region.kind}" + (" mp-changed" if hot else "")
                      + (" mp-dimmed" if dim else ""), "", offset=truth.offset, size=truth.size)
        words = table_note(region, truth)
        for x, y, w in _spans(region.offset, region.size, per_row, scale, y0):
            if w < MIN_PX:
                inflated = True
                note = (note + "\n" if note else "") + (
                    f"drawn {MIN_PX:.0f} px wide to be seen: to scale it is {w:.1f} px")
                group.cls += " mp-inflated"
                w = MIN_PX
            group.shapes.append(Rect(x, y + top, w, tall, COLOURS[region.kind],
                                     CHANGED if hot else "#333", 2 if hot else 0.5,
                                     region.kind == "untouched", DIM if dim else 1.0))
            if words and labels.place(x + 4, y + top + 14, words):
                group.shapes.append(Text(x + 4, y + top + 14, words))
                words = ""
            if region.owner and region.kind == "payload":
                ty = y + top + tall / 2 + 4
                if labels.fits(x + 2, ty, region.owner) and len(region.owner) * CHAR + 4 < w:
                    labels.place(x + 2, ty, region.owner)
                    group.shapes.append(Text(x + 2, ty, region.owner, fill="#111" if dim else "white"))
                elif labels.place(x + w + 2, ty, "\u2190" + region.owner):
                    group.shapes.append(Text(x + w + 2, ty, "\u2190" + region.owner))
        if region.kind == "other" and region.size != truth.size:
            note = (note + "\n" if note else "") + f"drawn shortened: {truth.size} bytes not ours"
        group.tip = tooltip(truth, data, note)
        group.dump = byte_view(truth, data, notes.get(i, "")) if dump_y else []
        shapes.append(group)
    clashes = overlaps(regions)
    for offset, size in clashes:
        for x, y, w in _spans(offset, size, per_row, scale, y0):
            shapes.append(Rect(x, y + BAND, max(w, MIN_PX), FULL + 2, "none", OVERLAP, 2.5,
                               cls="mp-overlap"))
    for k, (start, size) in enumerate(chunks):
        if k == 0:
            continue
        row, col = divmod(start, per_row)
        x, y = LEFT + col * scale, y0 + row * ROW_HEIGHT
        shapes.append(Line(x, y + BAND - 2, x, y + ROW_HEIGHT, BOUNDARY, 3, "mp-chunk",
                           f"chunk {k} starts here: offset {start}, {size} bytes"))
    for src, dst in links:
        (r1, c1), (r2, c2) = divmod(src, per_row), divmod(dst, per_row)
        x1, y1 = LEFT + c1 * scale + 4, y0 + r1 * ROW_HEIGHT + BAND + 3
        x2, y2 = LEFT + c2 * scale + 4, y0 + r2 * ROW_HEIGHT + BAND + 3
        bend = max(min(y1, y2) - 14 - min(abs(x2 - x1) * 0.05, 14), ruler_y + RULER + 2)
        shapes.append(Arrow(x1, y1, x2, y2, bend))
    kinds = [k for k in COLOURS if k in {r.kind for r in regions}]
    x, y = LEFT, y0 + rows * ROW_HEIGHT + 10
    for kind in kinds + (["overlap"] if clashes else []) + (["widened"] if inflated else []):
        words = {"overlap": "overlap: two blocks, same bytes",
                 "widened": "widened to be seen (not to scale)"}.get(kind, LEGEND.get(kind, kind))
        shapes.append(Rect(x, y, 12, 12, COLOURS.get(kind, "none"),
                           OVERLAP if kind == "overlap" else "#333",
                           2.5 if kind == "overlap" else 0.5, kind == "widened", cls="mp-legend"))
        labels.place(x + 16, y + 10, words)
        shapes.append(Text(x + 16, y + 10, words, cls="mp-legend"))
        x += 24 + CHAR * len(words)
    return Drawing(width, height, shapes, dump_y)


def _drawn_offset(offset: int, real: Sequence[Region], drawn: Sequence[Region]) -> int:
    """Where a real offset lands once long foreign runs are shortened."""
    for t, d in zip(real, drawn):
        if t.offset <= offset < t.offset + t.size:
            return d.offset + min(offset - t.offset, d.size - 1 if d.size else 0)
    if real:
        return offset - (real[-1].offset - drawn[-1].offset)
    return offset


def to_svg(drawing: Drawing, cls: str = "mp-memmap") -> str:
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" width="{drawing.width}" '
           f'height="{drawing.height}" viewBox="0 0 {drawing.width} {drawing.height}" '
           'font-family="monospace" font-size="11">'
           '<defs><marker id="mp-arrowhead" markerWidth="6" markerHeight="6" refX="5" '
           f'refY="3" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="{LINK}"/></marker></defs>']
    if drawing.dump_y:  # a click focuses a region; CSS shows its byte view while it has focus
        out.append("<style>.mp-bytes{display:none}.mp-region{cursor:pointer;outline:none}"
                   ".mp-region:focus+.mp-bytes{display:inline}"
                   ".mp-memmap:focus-within .mp-hint{display:none}</style>")
        out.append(f'<text x="{LEFT}" y="{drawing.dump_y + 10:.0f}" fill="#777" '
                   'class="mp-hint">click a block to see its bytes</text>')
    _svg_shapes(out, drawing.shapes, drawing.dump_y)
    out.append("</svg>")
    return "".join(out)


def _svg_shapes(out: list[str], shapes: Iterable, dump_y: float = 0) -> None:
    for s in shapes:
        if isinstance(s, Group):
            focus = ' tabindex="0"' if dump_y and s.dump else ""
            out.append(f'<g class="{s.cls}" data-offset="{s.offset}" data-size="{s.size}"{focus}>'
                       f'<title>{escape(s.tip)}</title>')
            _svg_shapes(out, s.shapes)
            out.append("</g>")
            if focus:
                out.append(f'<g class="mp-bytes"><rect x="{LEFT - 4}" y="{dump_y - 2:.0f}" '
                           f'width="{8 + CHAR * max(map(len, s.dump)):.0f}" '
                           f'height="{14 * len(s.dump) + 4}" fill="#fff" stroke="#333"/>')
                out.extend(f'<text x="{LEFT}" y="{dump_y + 10 + 14 * k:.0f}" xml:space="preserve">'
                           f'{escape(line)}</text>' for k, line in enumerate(s.dump))
                out.append("</g>")
        elif isinstance(s, Rect):
            extra = (' stroke-dasharray="3,2"' if s.dashed else "") + (
                f' opacity="{s.opacity}"' if s.opacity != 1.0 else "") + (
                f' class="{s.cls}"' if s.cls else "")
            out.append(f'<rect x="{s.x:.1f}" y="{s.y:.0f}" width="{s.w:.1f}" height="{s.h:.0f}" '
                       f'fill="{s.fill}" stroke="{s.stroke}" stroke-width="{s.stroke_width}"'
                       f'{extra}/>')
        elif isinstance(s, Text):
            extra = (' font-weight="bold"' if s.bold else "") + (
                f' text-anchor="{s.anchor}"' if s.anchor != "start" else "") + (
                f' class="{s.cls}"' if s.cls else "")
            out.append(f'<text x="{s.x:.1f}" y="{s.y:.0f}" fill="{s.fill}"{extra}>'
                       f'{escape(s.text)}</text>')
        elif isinstance(s, Line):
            tip = f"<title>{escape(s.tip)}</title>" if s.tip else ""
            out.append(f'<line class="{s.cls}" x1="{s.x1:.1f}" y1="{s.y1:.0f}" x2="{s.x2:.1f}" '
                       f'y2="{s.y2:.0f}" stroke="{s.stroke}" stroke-width="{s.width}">{tip}</line>')
        elif isinstance(s, Arrow):
            out.append(f'<path class="mp-link" d="M{s.x1:.1f},{s.y1:.1f} Q{(s.x1 + s.x2) / 2:.1f},'
                       f'{s.bend:.1f} {s.x2:.1f},{s.y2:.1f}" fill="none" stroke="{LINK}" '
                       'stroke-width="1.5" marker-end="url(#mp-arrowhead)"/>')


def render_svg(regions: Sequence[Region], data: bytes | None = None, *,
               links: Iterable[tuple[int, int]] = (), row_bytes: int | None = None,
               width: int = 720, title: str = "", chunks: Sequence[tuple[int, int]] = (),
               changed: Iterable[int] | None = None, marks: Sequence[tuple[int, str]] = (),
               notes: Mapping[int, str] | None = None) -> str:
    """An SVG of memory: one rectangle per region (split across rows), coloured by kind, with a
    hover title (offset, size, kind, owner, first bytes, and `notes[i]`: region i's decoded
    fields), an offset ruler, offsets down the left, a legend of the kinds shown, `links` drawn
    as arrows between offsets (free-list next pointers), the boundaries of `chunks` (offset,
    size) of a chained pool as thick bars, `marks` (offset, word) as labelled ticks, and, when
    `changed` (indices of regions) is given, those outlined and the rest dimmed."""
    return to_svg(layout(regions, data, links=links, row_bytes=row_bytes, width=width,
                         title=title, chunks=chunks, changed=changed, marks=marks, notes=notes))
