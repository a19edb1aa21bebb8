"""Every notebook, opened in JupyterLab in headless Chromium: before anything runs (the notebook
untrusted, as every downloaded or cloned notebook is) each committed memory map must show as a
picture; after Run All each memory map must draw its SVG, no widget may fail, and the page must
log no errors."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TOKEN = "mempools-browser-test"

pytestmark = pytest.mark.browser


def _require_chromium():
    if CHROMIUM:
        return
    message = ("NO CHROMIUM FOUND: the browser tests are SKIPPED. Install Debian's `chromium` "
               "package (apt-get install chromium) to run them; .ci/run always does.")
    print("\n" + "!" * 78 + "\n" + message + "\n" + "!" * 78, file=sys.stderr)
    if os.environ.get("MEMPOOLS_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_chromium()
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")  # never touch the committed files
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
           "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={root / 'notebooks'}",
           f"--LabApp.workspaces_dir={root / 'workspaces'}",
           # a trust database of its own, in memory: the copies are untrusted, as a student's are
           "--NotebookNotary.db_file=:memory:"]
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


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _map_outputs(path):
    cells = json.loads(path.read_text())["cells"]
    return [o["data"] for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
            if "mp-memmap" in "".join(o.get("data", {}).get("image/svg+xml", ""))]


def expected_maps(path):
    """How many widgets with a memory map the stored notebook shows (each stores a static copy
    of its SVG beside the widget view)."""
    return sum(1 for d in _map_outputs(path) if "application/vnd.jupyter.widget-view+json" in d)


def expected_pictures(path):
    """How many memory maps (static or widget) the stored notebook shows; each must carry a PNG
    beside its SVG, the picture an untrusted front end shows."""
    maps = _map_outputs(path)
    assert all("image/png" in d for d in maps), "a committed memory map has no PNG"
    return len(maps)


PICTURES_SHOWN = """() => [...document.querySelectorAll('.jp-OutputArea-output')].filter(o =>
    [...o.querySelectorAll('img')].some(i => i.complete && i.naturalWidth > 0) ||
    o.querySelector('svg.mp-memmap') !== null).length"""
PLACEHOLDERS = """() => [...document.querySelectorAll('.jp-OutputArea-output')].filter(o =>
    /<memory map/.test(o.textContent)).length"""


STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .some(p => /\\[\\*\\]/.test(p.textContent))"""
SETTLED = """() => document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']") !== null
    && ![...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
        .some(p => /\\[\\*\\]/.test(p.textContent))"""
UNRUN = """() => [...document.querySelectorAll('.jp-CodeCell')]
    .map((c, i) => [i, c.querySelector('.jp-InputArea-prompt')?.textContent || ''])
    .filter(([i, t]) => !/\\[\\d+\\]/.test(t)).map(([i, t]) => `code cell ${i + 1}: ${t}`)"""


def run_all_cells(page):
    """Run > Run All Cells, then wait (long: a slow machine) until every code cell has run. A
    click that lands while the kernel is still connecting runs nothing: seen as no cell ever
    queued, or none run, and retried; a cell that raises stops the run and fails the test."""
    cells = page.locator(".jp-CodeCell").count()
    for _ in range(4):
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        try:
            page.wait_for_function(STARTED, timeout=25_000)
        except Exception:  # playwright's TimeoutError: the kernel did not start them
            page.wait_for_timeout(2_000)
            continue
        page.wait_for_function(SETTLED, timeout=600_000)
        unrun = page.evaluate(UNRUN)
        if len(unrun) == cells:  # queued, then dropped by a kernel that was not ready
            page.wait_for_timeout(2_000)
            continue
        errors = page.evaluate("""() => [...document.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
            .map(o => o.textContent.slice(-600))""")
        assert not unrun, f"cells that did not run: {unrun[:3]}; errors: {errors}"
        return
    pytest.fail("JupyterLab never ran the cells (the kernel did not answer Run All four times)")


def _shut_down_kernels(url):
    with urllib.request.urlopen(f"{url}/api/kernels?token={TOKEN}", timeout=30) as response:
        kernels = json.load(response)
    for kernel in kernels:
        request = urllib.request.Request(f"{url}/api/kernels/{kernel['id']}?token={TOKEN}",
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def _poll(page, script, want, seconds=180):
    """Evaluate `script` until it returns at least `want` or time runs out; return the last
    value (the caller asserts on it, so a slow machine waits and a broken page still fails)."""
    deadline = time.time() + seconds
    got = page.evaluate(script)
    while got < want and time.time() < deadline:
        page.wait_for_timeout(500)
        got = page.evaluate(script)
    return got


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_renders_in_jupyterlab(lab, browser, notebook):
    rel = notebook.relative_to(ROOT / "notebooks").as_posix()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(f"{lab}/lab/tree/{rel}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000)
    # before running anything: the committed pictures, in an untrusted notebook
    pictures = expected_pictures(notebook)
    shown = _poll(page, PICTURES_SHOWN, pictures)
    placeholders = page.evaluate(PLACEHOLDERS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}-untrusted.png"), full_page=True,
                    timeout=120_000)
    assert shown >= pictures, f"untrusted: {shown} of {pictures} memory maps show a picture"
    assert placeholders == 0, f"untrusted: {placeholders} memory map(s) show as text"
    run_all_cells(page)
    want = expected_maps(notebook)
    maps = page.locator(".jupyter-widgets svg.mp-memmap")
    rendered = _poll(page, "() => document.querySelectorAll('.jupyter-widgets svg.mp-memmap').length",
                     want)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000)
    failed_widgets = page.locator(".jupyter-widgets-error-widget").count()
    # screenshots are artifacts, taken after the counts: a slow machine gets time, and a map
    # that never rendered fails the assertion below, not a screenshot timeout
    page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}.png"), full_page=True, timeout=120_000)
    if want and rendered:
        maps.first.screenshot(path=str(ARTIFACTS / f"{notebook.stem}-memory-map.png"),
                              timeout=120_000)
    page.close()
    _shut_down_kernels(lab)  # a slow machine should not also run every earlier notebook's kernel
    assert rendered >= want, f"{rendered} of {want} memory maps rendered"
    assert failed_widgets == 0, f"{failed_widgets} widget(s) failed to render"
    assert errors == [], errors
