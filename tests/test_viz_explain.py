"""A memory map that teaches: worded captions per op per pool, changed regions, markers, decoded
fields in tooltips, readable layout (min width, no overlapping labels, colour-blind-safe
palette), Timeline, Compare, save to GIF/PNG, and Malloc's far-apart runs."""

import io
import re
import threading
from html import unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mempools as mp
from mempools.viz import explain
from mempools.viz.memory_map import frame_args
from mempools.viz.svg import CHAR, COLOURS, MIN_PX, Group, Text, layout

TRACE = "a 0 24\na 1 40\na 2 8\nf 1\na 3 16\nr 0 64\nf 2\n"


def pools():
    return {
        "Malloc": mp.Malloc(),
        "BumpPool": mp.BumpPool(256, growable=True),
        "FixedPool": mp.FixedPool(64, 8),
        "EmbeddedPool good": mp.EmbeddedPool.for_blocks(512, 8),
        "EmbeddedPool first": mp.EmbeddedPool.for_blocks(512, 8, policy="first"),
        "FreeListPool": mp.FreeListPool(2048),
        "FreeListPool footers": mp.FreeListPool(2048, footers="all"),
    }


def titles(svg):
    return [unescape(t) for t in re.findall(r"<title>(.*?)</title>", svg, re.S)]


@pytest.mark.parametrize("name", list(pools()))
def test_every_op_on_every_pool_gets_words_that_agree_with_the_walk(name):
    pool = pools()[name]
    trace = mp.Trace.parse(TRACE.replace("r 0 64", "r 0 20") if name == "FixedPool" else TRACE)
    m = mp.viz.MemoryMap(pool, trace)
    caps = [f.caption for f in m.frames]
    for k, f in enumerate(m.frames[1:], 1):
        assert f.caption.startswith(f"step {k}: ")
        op = trace.ops[k - 1]
        if op.kind == "a":
            pay = next(r for r in f.regions if r.kind == "payload" and r.owner == f"id {op.id}")
            assert f"alloc {op.size} \u2192 id {op.id} at offset {pay.offset}" in f.caption
    was = next(r for r in m.frames[3].regions if r.kind == "payload" and r.owner == "id 1")
    assert f"free id 1 ({was.size} bytes at offset {was.offset})" in caps[4]
    assert "realloc id 0 to" in caps[6]
    why = {"Malloc": "given back to libc", "BumpPool": "cannot free one block",
           "FixedPool": "pushed onto the free list, head is now offset",
           "EmbeddedPool good": "join a", "EmbeddedPool first": "join a",
           "FreeListPool": "pushed onto the free list",
           "FreeListPool footers": "pushed onto the free list"}[name]
    assert why in caps[4], caps[4]
    if name.startswith("EmbeddedPool"):
        assert f"{pool.policy} fit chose the" in caps[1]
    if name == "BumpPool":
        assert "the top moved to offset 24" in caps[1]
    if name == "FixedPool":
        assert "carved the next untouched block" in caps[1]
        assert "popped the free list's head" in caps[5]


def test_compaction_is_told_with_the_blocks_it_moved_and_the_bytes():
    pool = mp.EmbeddedPool.for_blocks(128, slots=8)
    m = mp.viz.MemoryMap(pool, mp.Trace.parse("a 0 32\na 1 32\na 2 32\na 3 32\nf 0\nf 2\na 4 64\n"))
    moved = m.frames[-1].stats["bytes_moved"] - m.frames[-2].stats["bytes_moved"]
    assert moved > 0
    assert m.frames[-1].caption.endswith(f"compaction moved id 1 and id 3, {moved} bytes")


def test_a_realloc_that_moves_says_from_where_to_where():
    pool = mp.FreeListPool(2048)
    m = mp.viz.MemoryMap(pool, mp.Trace.parse("a 0 24\na 1 8\nr 0 200\n"))
    before = next(r for r in m.frames[2].regions if r.owner == "id 0" and r.kind == "payload")
    after = next(r for r in m.frames[3].regions if r.owner == "id 0" and r.kind == "payload")
    assert before.offset != after.offset
    assert f"moved from offset {before.offset} to {after.offset}, copying 24 bytes" in m.frames[3].caption


region_lists = st.lists(st.builds(mp.Region, st.integers(0, 64), st.integers(1, 16),
                                  st.sampled_from(["payload", "free", "header"]),
                                  st.sampled_from([None, "id 1", "id 2"])), max_size=8)


@given(region_lists, region_lists)
def test_changed_regions_are_exactly_the_walk_entries_that_differ(before, after):
    hot = explain.changed(before, after)
    assert [after[i] for i in hot] == [r for r in after if r not in before]
    svg = mp.viz.render_svg(after, changed=hot) if after else ""
    assert svg.count(" mp-changed") == len(hot)
    assert svg.count(" mp-dimmed") == len(after) - len(hot)


def test_the_step_outlines_what_it_changed_and_dims_the_rest():
    m = mp.viz.MemoryMap(mp.FixedPool(16, 4), mp.Trace.parse("+8,+8,-0"))
    m.step(3)
    f = m.frames[3]
    assert [f.regions[i] for i in f.changed] == [mp.Region(0, 16, "free", None)]
    assert m.svg.count(" mp-changed") == 1 and 'opacity="0.35"' in m.svg


def test_tooltips_carry_offset_size_hex_and_decoded_fields():
    pool = mp.FixedPool(16, 4)
    a, b, c = pool.alloc(), pool.alloc(), pool.alloc()
    a.write(b"\x41\x42")
    pool.free(b)
    pool.free(c)
    tips = titles(mp.viz.draw(pool).svg)
    assert any(t.startswith("offset 0, 16 bytes, payload, #0\nbytes: 41 42 ") for t in tips)
    assert "offset 32, 16 bytes, free\nnext pointer -> offset 16" in tips
    assert "offset 16, 16 bytes, free\nnext pointer -> NULL (end of the list)" in tips

    fl = mp.FreeListPool(1024, footers="all")
    block = fl.alloc(40)
    tag = fl.tag(fl.header_offset(block))
    tips = titles(mp.viz.draw(fl).svg)
    assert any(f"header word {tag.raw:#x}: size {tag.size}, allocated=1" in t for t in tips)
    assert any("footer word" in t and f"size {tag.size}" in t for t in tips)

    bump = mp.BumpPool(128)
    bump.alloc(40)
    assert any("chunk 0: offset 0, capacity 128, used 40" in t for t in titles(mp.viz.draw(bump).svg))

    emb = mp.EmbeddedPool.for_blocks(256, 8)
    held = emb.alloc(16)
    emb.lock(held)
    tips = titles(mp.viz.draw(emb).svg)
    assert any("allocation table: 8 slots, 1 live" in t for t in tips)
    assert any(re.search(rf"table slot at offset \d+: offset {held.offset}, size 16, generation \d+, "
                         r"lock count 1", t) for t in tips), tips


@pytest.mark.skipif(not mp.malloc.GLIBC, reason="glibc's chunk header is decoded only on glibc")
def test_glibc_header_tooltip_decodes_size_and_flags():
    heap = mp.Malloc()
    block = heap.malloc(40)
    word = heap.chunk_size_field(block)
    tips = titles(mp.viz.draw(heap).svg)
    assert any(f"glibc size field {word:#x} = chunk {word & ~7} bytes | flags PREV_INUSE={word & 1}"
               in t for t in tips)


def _marks(svg):
    return re.findall(r'<text[^>]*class="mp-marker">([^<]*)</text>', svg)


def test_markers_per_pool_kind():
    fixed = mp.FixedPool(16, 4)
    fixed.free(fixed.alloc())
    assert _marks(mp.viz.draw(fixed).svg) == ["head"]

    fl = mp.FreeListPool(1024)
    keep = [fl.alloc(32) for _ in range(3)]
    fl.free(keep[1])
    assert _marks(mp.viz.draw(fl).svg) == ["head"]

    bump = mp.BumpPool(128)
    bump.alloc(40)
    assert _marks(mp.viz.draw(bump).svg) == ["top"]

    m = mp.viz.MemoryMap(mp.EmbeddedPool.for_blocks(256, 8), mp.Trace.parse("a 0 16\n"))
    m.step(1)
    assert _marks(m.svg) == ["gap chosen"]

    # the marks stand where the pool says: the head at the free list's first block
    row = re.search(r'<line class="mp-marker" x1="([\d.]+)"', mp.viz.draw(fixed).svg)
    assert row is not None and float(row.group(1)) == 64.0  # LEFT + offset 0


def test_a_timeline_of_n_steps_has_n_plus_one_rows_and_the_same_tooltips():
    trace = mp.Trace.parse(TRACE)
    tl = mp.viz.Timeline(mp.FreeListPool(2048), trace)
    assert tl.svg.count('class="mp-step"') == len(trace) + 1
    assert len(tl.frames) == len(trace) + 1
    assert any("next pointer" in t for t in titles(tl.svg))
    assert tl.png.startswith(b"\x89PNG") and "image/png" in tl._repr_mimebundle_()
    assert repr(tl) == f"Timeline(FreeListPool, {len(trace)} steps)"


def test_compare_drives_two_maps_with_one_slider_and_shows_where_they_differ():
    trace = mp.Trace.parse("a 0 64\na 1 16\na 2 16\na 3 16\nf 0\nf 2\na 4 16\n")
    c = mp.viz.Compare(mp.EmbeddedPool.for_blocks(256, 8),
                       mp.EmbeddedPool.for_blocks(256, 8, policy="first"), trace)
    c.play.value = 7
    assert c.maps[0].frame == c.maps[1].frame == 7
    good, first = c.captions
    assert good != first and "good fit" in good and "first fit" in first
    from PIL import Image

    both = Image.open(io.BytesIO(c.png))
    assert both.width > 2 * 470


@pytest.mark.parametrize("suffix", ["gif", "png"])
def test_save_writes_every_frame(tmp_path, suffix):
    from PIL import Image

    m = mp.viz.MemoryMap(mp.FixedPool(32, 8), mp.Trace.parse("+8,+8,-0,+8"))
    path = tmp_path / f"map.{suffix}"
    assert m.save(path) == 5
    picture = Image.open(path)
    if suffix == "gif":
        assert picture.n_frames == 5
    else:
        assert picture.height >= 5 * 80


def _text_boxes(drawing):
    out = []
    for s in drawing.shapes:
        for t in s.shapes if isinstance(s, Group) else [s]:
            if isinstance(t, Text):
                w = len(t.text) * CHAR
                x0 = t.x - w if t.anchor == "end" else t.x
                out.append((x0, t.y - 10, x0 + w, t.y + 3, t.text))
    return out


def test_labels_never_overlap_even_when_blocks_are_tiny():
    crowded = [mp.Region(i * 8, 8, "payload" if i % 2 else "free", f"id {i}") for i in range(200)]
    d = layout(crowded, row_bytes=512, title="crowded", marks=[(0, "head"), (8, "top")])
    boxes = _text_boxes(d)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_tiny_regions_are_widened_and_say_so():
    svg = mp.viz.render_svg([mp.Region(0, 1, "header", None), mp.Region(1, 4095, "free", None)],
                            row_bytes=4096)
    widths = [float(w) for w in re.findall(r'<g class="mp-region mp-header[^"]*"[^>]*>'
                                            r'<title>[^<]*</title><rect x="[\d.]+" y="\d+" '
                                            r'width="([\d.]+)"', svg)]
    assert widths == [MIN_PX]
    assert "mp-inflated" in svg and "to scale it is 0.2 px" in svg
    assert "widened to be seen" in svg  # and the legend says what the wider block means


def test_the_ruler_and_the_legend_list_only_what_is_shown():
    svg = mp.viz.render_svg([mp.Region(0, 64, "payload", "a")], row_bytes=64)
    assert svg.count('class="mp-ruler"') >= 8 and ">+32</text>" in svg
    legend = re.findall(r'<text[^>]*class="mp-legend">([^<]*)</text>', svg)
    assert legend == ["payload"]


def _linear(c):
    c /= 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _lab(rgb):
    """CIELAB (D65) of linear RGB."""
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB
CVD = {
    "normal": ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}


@pytest.mark.parametrize("vision", list(CVD))
def test_palette_kinds_stay_distinct_under_simulated_colour_blindness(vision):
    def seen(hexcolour):
        rgb = [_linear(int(hexcolour[i:i + 2], 16)) for i in (1, 3, 5)]
        m = CVD[vision]
        return _lab([min(1, max(0, sum(m[r][k] * rgb[k] for k in range(3)))) for r in range(3)])

    labs = {kind: seen(c) for kind, c in COLOURS.items()}
    for a in labs:
        for b in labs:
            if a < b:
                delta = sum((p - q) ** 2 for p, q in zip(labs[a], labs[b])) ** 0.5
                assert delta > 12, f"{a} and {b} look alike under {vision}: delta E {delta:.1f}"


def test_malloc_blocks_in_two_arenas_are_drawn_as_two_runs_with_a_short_gap():
    heap = mp.Malloc()
    here = heap.malloc(100)
    there = []
    worker = threading.Thread(target=lambda: there.append(heap.malloc(200)))  # its own arena
    worker.start()
    worker.join()
    distance = abs(there[0].address - here.address)
    if distance <= mp.malloc.FAR:
        pytest.skip("libc served the thread from the same arena: nothing far to elide")
    assert len(heap.memory()) < 1024  # not terabytes
    heap.check()
    gap = [r for r in heap.walk() if r.kind == "other"]
    assert [r.size for r in gap] == [mp.malloc.ELIDED]
    story = heap.elided()[gap[0].offset]
    lo, hi = sorted((here, there[0]), key=lambda b: b.address)
    real = (hi.address - mp.malloc.HEADER) - (lo.address + heap.usable_size(lo))
    assert f"the next block is {real:,} bytes" in story
    assert any(story in t for t in titles(mp.viz.draw(heap).svg))
    for block in (here, there[0]):
        assert heap.memory()[block.offset:block.offset + 4] == block.read(4)


def test_frame_args_draw_the_same_frame_in_svg_and_png():
    m = mp.viz.MemoryMap(mp.FixedPool(16, 4), mp.Trace.parse("+8,-0"))
    f = m.frames[-1]
    args = frame_args(f, None, "t")
    assert args["changed"] == f.changed and ("head" in [w for _, w in args["marks"]])
    assert mp.viz.render_png(f.regions, f.data, **args).startswith(b"\x89PNG")


def test_a_click_opens_a_byte_view_of_the_region():
    pool = mp.FixedPool(16, 4)
    pool.alloc().write(b"hello")
    svg = mp.viz.draw(pool).svg
    assert svg.count('tabindex="0"') == svg.count('class="mp-bytes"') == len(pool.walk())
    view = re.search(r'<g class="mp-region mp-payload[^>]*tabindex="0">.*?</g><g class="mp-bytes">'
                     r'(.*?)</g>', svg, re.S).group(1)
    assert "payload at offset 0, 16 bytes, #0" in view and "68 65 6c 6c 6f" in view
    assert "hello" in view and ".mp-region:focus+.mp-bytes{display:inline}" in svg
