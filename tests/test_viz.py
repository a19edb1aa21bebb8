"""The memory map: a pure, deterministic SVG renderer and a widget that steps through traces."""

import re

import mempools as mp
from mempools.viz import render_svg


def regions():
    return [mp.Region(0, 16, "header", None), mp.Region(16, 40, "payload", "id 1"),
            mp.Region(56, 8, "padding", "id 1"), mp.Region(64, 4032, "free", None)]


def test_render_is_deterministic_and_complete():
    svg = render_svg(regions(), bytes(range(256)) * 16)
    assert svg == render_svg(regions(), bytes(range(256)) * 16)
    assert svg.startswith("<svg") and 'class="mp-memmap"' in svg
    for kind in ("header", "payload", "padding", "free"):
        assert f"mp-{kind}" in svg and f">{kind}</text>" in svg  # region and legend
    assert "<title>offset 16, 40 bytes, payload, id 1\nbytes: 10 11 12 13 14 15 16 17 ...</title>" in svg


def test_render_splits_regions_across_rows():
    svg = render_svg([mp.Region(0, 200, "payload", "a")], row_bytes=64)
    pieces = svg.count("<rect") - svg.count('class="mp-bytes"')  # less the byte view's frame
    assert pieces == 4 + 1 and ">192</text>" in svg  # 4 row pieces + legend


def test_render_draws_links():
    svg = render_svg(regions(), links=[(64, 16)])
    assert svg.count('class="mp-link"') == 1


def test_render_4k_pool_at_8_byte_granularity_is_small():
    pieces = [mp.Region(i * 8, 8, "payload" if i % 2 else "free", f"#{i}") for i in range(512)]
    svg = render_svg(pieces)
    assert svg.count("<rect") == 512 + 2  # one per region plus two legend swatches
    assert 'class="mp-bytes"' not in svg  # byte views only for maps of a few blocks


def test_widget_steps_through_trace_with_linked_slider():
    pool = mp.FixedPool(32, 8)
    trace = mp.Trace.parse("+8,+8,-0,+8")
    m = mp.viz.MemoryMap(pool, trace)
    assert len(m.frames) == 5 and m.frame == 0
    m.play.value = 3
    assert m.slider.value == 3 and m.frame == 3
    assert m.caption.value.startswith("step 3: free id 0 (32 bytes at offset 0)")
    assert len(re.findall(r"mp-payload", m.svg)) == 1
    assert repr(m) == "MemoryMap(FixedPool, frame 3/4)"
    bundle = m._repr_mimebundle_()  # the static copy shows the last frame, whatever is on screen
    assert bundle["image/svg+xml"] != m.svg and "step 4: alloc 8 → id 2" in bundle["image/svg+xml"]
    m.step(4)
    assert len(re.findall(r"mp-payload", bundle["image/svg+xml"])) == 2


def test_widget_free_list_arrows_come_from_pool_bytes():
    pool = mp.FixedPool(16, 4)
    blocks = [pool.alloc() for _ in range(3)]
    for b in blocks:
        pool.free(b)
    assert pool.links() == [(32, 16), (16, 0)]
    assert mp.viz.MemoryMap(pool).svg.count('class="mp-link"') == 2


def test_live_buttons_alloc_and_free_and_refuse_cleanly():
    pool = mp.EmbeddedPool(512, 4)
    m = mp.viz.MemoryMap(pool)
    m.size.value = 24
    m.alloc_button.click()
    assert len(pool.live) == 1 and "alloc 24" in m.caption.value
    m.block_menu.value = pool.live[0]
    m.free_button.click()
    assert pool.live == [] and m.caption.value.startswith("free")
    m.free(None)
    assert m.status.value == "nothing to free"
    m.size.value = 100000
    m.alloc_button.click()
    assert m.status.value.startswith("refused: EmbeddedPool.alloc(100000)")


def test_long_foreign_gaps_are_shortened_but_labelled_truly():
    far = [mp.Region(0, 32, "payload", "a"), mp.Region(32, 64 * 1000, "other", None),
           mp.Region(32 + 64 * 1000, 32, "payload", "b")]
    svg = render_svg(far, row_bytes=64)
    assert svg.count("text-anchor") <= 5  # a few rows, not a thousand
    assert "offset 64032, 32 bytes, payload, b" in svg and ">64000</text>" in svg


def test_static_picture_carries_svg_and_png_in_one_bundle():
    import base64

    pool = mp.FixedPool(16, 8)
    pool.free(pool.alloc())
    bundle = mp.viz.draw(pool, title="t")._repr_mimebundle_()
    assert "mp-memmap" in bundle["image/svg+xml"]
    png = base64.b64decode(bundle["image/png"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    widget = mp.viz.MemoryMap(pool)._repr_mimebundle_()
    assert base64.b64decode(widget["image/png"]).startswith(b"\x89PNG")


def test_overlapping_blocks_are_drawn_in_two_lanes_with_the_overlap_outlined():
    shared = [mp.Region(0, 16, "payload", "b"), mp.Region(0, 16, "payload", "c"),
              mp.Region(16, 48, "free", None)]
    svg = render_svg(shared, row_bytes=64)
    assert ">b</text>" in svg and "c</text>" in svg  # c's label moves clear of b's
    assert svg.count('class="mp-overlap"') == 1 and "overlap: two blocks" in svg
    heights = re.findall(r'<g class="mp-region mp-payload"[^>]*>.*?height="(\d+)"', svg)
    assert heights == ["10", "10"]  # two half-height lanes, neither hidden
    assert 'class="mp-overlap"' not in render_svg(regions())


def test_free_list_head_is_marked_and_arcs_stay_inside_the_picture():
    svg = render_svg(regions(), links=[(64, 16)], title="list")
    assert ">head</text>" in svg
    for bend in re.findall(r"Q[\d.]+,(-?[\d.]+)", svg):
        assert float(bend) > 24  # below the title line


def test_live_map_refuses_bad_sizes_with_the_pools_error_and_selects_the_newest():
    pool = mp.FixedPool(16, 8)
    live = mp.viz.MemoryMap(pool)
    assert live.block_menu.value is None
    for bad in (1000, 17, 0, -5):
        assert live.alloc(bad) is None and live.status.value.startswith("refused:")
        assert pool.stats["used"] == 0
    first, second = live.alloc(16), live.alloc(8)
    assert live.block_menu.value is second and first is not second


def test_classic_program_words_agree_with_n():
    program = mp.viz.ClassicProgram(n=1)
    assert "1 int = 4 bytes" in program.svg and "read back: 0 */" in program.report.value
    program.count.value = 2
    assert program.run() == 1 and "read back: 0 + 1 */" in program.report.value


def test_chunk_tails_and_boundaries_of_a_chain_are_drawn():
    pool = mp.BumpPool(256, growable=True)
    for size in (100, 100, 100):
        pool.alloc(size)
    svg = mp.viz.draw(pool, row_bytes=512).svg
    assert svg.count('class="mp-chunk"') == 1  # one boundary between two chunks
    assert "mp-tail" in svg and "chunk tail, never used again" in svg  # chunk 0's 52 bytes
    assert "mp-tail" not in mp.viz.draw(mp.BumpPool(256)).svg


def test_a_big_allocation_table_is_folded_and_labelled():
    regions = [mp.Region(0, 352, "table", None), mp.Region(352, 64, "payload", "a"),
               mp.Region(416, 64, "free", None)]
    folded = render_svg(regions, row_bytes=64)
    assert "table: 352 bytes (folded)" in folded and ">320</text>" in folded
    assert "(folded)" not in render_svg(regions, row_bytes=512)
