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
    assert svg.count("<rect") == 4 + 1 and ">192</text>" in svg  # 4 row pieces + legend


def test_render_draws_links():
    svg = render_svg(regions(), links=[(64, 16)])
    assert svg.count('class="mp-link"') == 1


def test_render_4k_pool_at_8_byte_granularity_is_small():
    pieces = [mp.Region(i * 8, 8, "payload" if i % 2 else "free", f"#{i}") for i in range(512)]
    svg = render_svg(pieces)
    assert svg.count("<rect") == 512 + 2  # one per region plus two legend swatches


def test_widget_steps_through_trace_with_linked_slider():
    pool = mp.FixedPool(32, 8)
    trace = mp.Trace.parse("+8,+8,-0,+8")
    m = mp.viz.MemoryMap(pool, trace)
    assert len(m.frames) == 5 and m.frame == 0
    m.play.value = 3
    assert m.slider.value == 3 and m.frame == 3 and m.caption.value == "step 3: f 0"
    assert len(re.findall(r"mp-payload", m.svg)) == 1
    assert repr(m) == "MemoryMap(FixedPool, frame 3/4)"
    bundle = m._repr_mimebundle_()
    assert bundle["image/svg+xml"] == m.svg


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
