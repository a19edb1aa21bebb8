"""Every notebook, opened in JupyterLab in headless Chromium and run: each memory map must draw
its SVG, no widget may fail, and the page must log no errors."""

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
           f"--LabApp.workspaces_dir={root / 'workspaces'}"]
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


def expected_maps(path):
    """How many widgets with a memory map the stored notebook shows (each stores a static copy
    of its SVG beside the widget view)."""
    cells = json.loads(path.read_text())["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
               and "mp-memmap" in "".join(o["data"].get("image/svg+xml", "")))


ALL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def run_all_cells(page):
    """Run > Run All Cells, until every code cell shows an execution count. A click that lands
    while the kernel is still connecting clears the outputs but runs nothing: try again."""
    for _ in range(4):
        page.click("li.lm-MenuBar-item:has-text('Run')")
        page.click("li.lm-Menu-item:has-text('Run All Cells')")
        try:
            page.wait_for_function(ALL_RAN, timeout=25_000)
            return
        except Exception:  # playwright's TimeoutError: the kernel did not start them
            page.wait_for_timeout(2_000)
    pytest.fail("JupyterLab never ran the cells (the kernel did not answer Run All four times)")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_renders_in_jupyterlab(lab, browser, notebook):
    rel = notebook.relative_to(ROOT / "notebooks").as_posix()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(f"{lab}/lab/tree/{rel}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    run_all_cells(page)
    want = expected_maps(notebook)
    maps = page.locator(".jupyter-widgets svg.mp-memmap")
    deadline = time.time() + 90
    while maps.count() < want and time.time() < deadline:
        page.wait_for_timeout(500)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{notebook.stem}.png"), full_page=True)
    if want:
        maps.first.screenshot(path=str(ARTIFACTS / f"{notebook.stem}-memory-map.png"))
    failed_widgets = page.locator(".jupyter-widgets-error-widget").count()
    rendered = maps.count()
    page.close()
    assert rendered >= want, f"{rendered} of {want} memory maps rendered"
    assert failed_widgets == 0, f"{failed_widgets} widget(s) failed to render"
    assert errors == [], errors
