"""The teaching memory map in JupyterLab in headless Chromium (launched as tests/test_browser.py
does): screenshots of a Timeline, a Compare and a map with a block's byte view open go to
test-artifacts/; fails when two text labels of a picture overlap or a region narrower than
2 px is unlabelled; measures stepping a 1,000-step trace (printed, never asserted)."""

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_browser import ARTIFACTS, CHROMIUM, TOKEN, _free_port, _require_chromium, run_all_cells

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tests" / "fixtures" / "viz_browser.ipynb"

pytestmark = pytest.mark.browser

# Every pair of visible text elements inside one picture whose boxes intersect (by more than
# half a pixel: anti-aliasing), and every region under 2 px wide without hover text.
OVERLAPS = """(sel) => {
  const out = [];
  for (const svg of document.querySelectorAll(sel)) {
    const boxes = [...svg.querySelectorAll('text')].map(t => [t, t.getBoundingClientRect()])
      .filter(([t, b]) => b.width > 0 && b.height > 0);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [ta, a] = boxes[i], [tb, b] = boxes[j];
      if (a.left + 0.5 < b.right && b.left + 0.5 < a.right && a.top + 0.5 < b.bottom
          && b.top + 0.5 < a.bottom) out.push(`${ta.textContent} | ${tb.textContent}`);
    }
  }
  return out;
}"""
UNLABELLED = """(sel) => [...document.querySelectorAll(sel + ' g.mp-region')].filter(g =>
  [...g.querySelectorAll('rect')].some(r => r.getBoundingClientRect().width < 2)
  && !(g.querySelector('title')?.textContent || '').trim()).length"""
NARROW = """(sel) => [...document.querySelectorAll(sel + ' g.mp-region rect')]
  .filter(r => r.getBoundingClientRect().width < 2).length"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_chromium()
    root = tmp_path_factory.mktemp("lab")
    (root / "notebooks").mkdir()
    shutil.copy(NOTEBOOK, root / "notebooks" / NOTEBOOK.name)
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
           "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={root / 'notebooks'}",
           f"--LabApp.workspaces_dir={root / 'workspaces'}", "--NotebookNotary.db_file=:memory:"]
    log = open(root / "lab.log", "w")
    server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.terminate()
        pytest.fail("JupyterLab did not start: " + (root / "lab.log").read_text()[-2000:])
    yield url
    server.terminate()
    server.wait(10)


def test_timeline_compare_and_byte_view_are_readable(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors = []
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.goto(f"{lab}/lab/tree/{NOTEBOOK.name}?reset&token={TOKEN}")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=180_000)
        run_all_cells(page)
        page.wait_for_selector(".jupyter-widgets svg.mp-timeline", timeout=120_000)
        page.wait_for_selector(".mp-compare svg.mp-memmap >> nth=1", timeout=120_000)
        page.wait_for_selector(".mp-long svg.mp-memmap", timeout=120_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(".jupyter-widgets svg.mp-timeline").screenshot(
            path=str(ARTIFACTS / "viz-timeline.png"))
        page.locator(".mp-compare").screenshot(path=str(ARTIFACTS / "viz-compare.png"))

        # a click on a block opens its byte view (hover text is the browser's own tooltip,
        # which a screenshot cannot show: the byte view carries the same fields)
        one = page.locator(".mp-one svg.mp-memmap")
        one.locator("g.mp-region.mp-payload").first.click()
        shown = page.evaluate("""() => [...document.querySelectorAll('.mp-one .mp-bytes')]
            .filter(g => getComputedStyle(g).display !== 'none').map(g => g.textContent)""")
        one.screenshot(path=str(ARTIFACTS / "viz-byte-view.png"))
        tips = one.locator("g.mp-region.mp-free title").all_text_contents()

        pictures = ".jupyter-widgets svg.mp-memmap, .jupyter-widgets svg.mp-timeline"
        overlaps = page.evaluate(OVERLAPS, pictures)
        unlabelled = page.evaluate(UNLABELLED, ".jupyter-widgets")
        narrow = page.evaluate(NARROW, ".jupyter-widgets")

        # stepping a 1,000-step trace: ArrowRight on the slider's handle, each step timed
        # until the kernel's new caption is on the page
        handle = page.locator(".mp-long .noUi-handle").first
        handle.focus()
        steps, started = 40, time.perf_counter()
        for k in range(1, steps + 1):
            handle.press("ArrowRight")
            page.wait_for_function(
                """(k) => [...document.querySelectorAll('.mp-long .widget-label')]
                    .some(l => l.textContent.startsWith(`step ${k}:`))""", arg=k, timeout=60_000)
        per_step = (time.perf_counter() - started) * 1000 / steps
        print(f"\nstepping a 1,000-step trace: {per_step:.1f} ms per step "
              f"(browser round trip, {steps} steps)")
        page.locator(".mp-long").screenshot(path=str(ARTIFACTS / "viz-long-trace.png"))
        browser.close()
    assert len(shown) == 1 and "payload at offset 0" in shown[0] and "hello" in shown[0]
    assert sum("next pointer -> offset" in t for t in tips) == 2  # three free blocks, one list
    assert sum("next pointer -> NULL" in t for t in tips) == 1
    assert overlaps == [], f"text labels overlap: {overlaps[:5]}"
    assert unlabelled == 0, f"{unlabelled} region(s) under 2 px wide without a label"
    assert narrow == 0, f"{narrow} region rectangle(s) drawn under 2 px wide"
    assert errors == [], errors
