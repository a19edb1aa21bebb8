"""The predict widget in a real JupyterLab (headless Chromium): the opened notebook shows no
answer; after a wrong answer and Check, the right answer and the explanation appear beside it.
Screenshots go to test-artifacts/."""

import shutil
import subprocess
import sys
import time
import urllib.request

import pytest

from tests import test_browser
from tests.test_browser import ARTIFACTS, ROOT, TOKEN, _free_port, _require_chromium, run_all_cells

browser = test_browser.browser  # the same headless Chromium fixture as the notebook test

FIXTURE = ROOT / "tests" / "fixtures" / "predict.ipynb"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_chromium()
    root = tmp_path_factory.mktemp("lab-predict")
    (root / "nb").mkdir()
    shutil.copy(FIXTURE, root / "nb" / FIXTURE.name)  # never touch the committed file
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
           "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={root / 'nb'}", f"--LabApp.workspaces_dir={root / 'workspaces'}"]
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


KERNEL_IDLE = "() => document.querySelector('.jp-StatusBar-Widget') !== null && " \
              "document.body.innerText.includes('(ipykernel) | Idle')"


def run_until_predict_widgets(page):
    """Run All once the kernel is really idle (the saved execution counts already satisfy
    run_all_cells, so a Run All that ran nothing is caught by the missing widgets)."""
    for _ in range(3):
        page.wait_for_function(KERNEL_IDLE, timeout=90_000)
        run_all_cells(page)
        try:
            page.locator(".mp-predict").first.wait_for(timeout=30_000)
            return
        except Exception:  # playwright's TimeoutError: nothing ran; try again
            page.wait_for_timeout(2_000)
    pytest.fail("the predict widgets never appeared after Run All (three tries)")


def test_wrong_answer_then_check_reveals_answer_and_explanation(lab, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.goto(f"{lab}/lab/tree/{FIXTURE.name}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.wait_for_selector(".jp-OutputArea-output", timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "predict-opened.png"), full_page=True)
    opened = page.inner_text(".jp-Notebook")
    assert "Predict:" in opened and "Right answer" not in opened

    run_until_predict_widgets(page)
    typed = page.locator(".mp-predict").first
    typed.locator(".mp-predict-input input").fill("999")
    typed.locator("button.mp-predict-check").click()
    reveal = typed.locator(".mp-predict-reveal")
    reveal.locator("text=Right answer").wait_for(timeout=15_000)
    shown = reveal.inner_text()
    typed.screenshot(path=str(ARTIFACTS / "predict-wrong-answer-revealed.png"))

    picked = page.locator(".mp-predict").nth(1)
    picked.locator(".mp-predict-input label:has-text('x') input").check()
    picked.locator("button.mp-predict-check").click()
    picked.locator(".mp-predict-reveal >> text=Right answer").wait_for(timeout=15_000)
    shown_choice = picked.locator(".mp-predict-reveal").inner_text()
    picked.screenshot(path=str(ARTIFACTS / "predict-choice-revealed.png"))
    drill = page.locator(".mp-practice-next").locator("xpath=..")
    drill.locator("button.mp-practice-next").click()
    drill.locator("text=seed 2").wait_for(timeout=15_000)
    drill.screenshot(path=str(ARTIFACTS / "predict-another-problem.png"))
    page.screenshot(path=str(ARTIFACTS / "predict-after-check.png"), full_page=True)
    c_source = page.locator(".mp-c-source").first
    c_source.scroll_into_view_if_needed(timeout=15_000)
    c_source.screenshot(path=str(ARTIFACTS / "show-c.png"))
    c_text = c_source.inner_text()
    failed_widgets = page.locator(".jupyter-widgets-error-widget").count()
    check_disabled = typed.locator("button.mp-predict-check").is_disabled()
    page.close()

    assert "Your answer: 999" in shown and "not this time" in shown
    assert "Right answer: 16" in shown
    assert "rounded up to a multiple of 16 is 16" in shown  # the explanation
    assert "padding" in shown  # the real output: the pool's walk
    assert "Your answer: x" in shown_choice and "Right answer: z" in shown_choice
    assert check_disabled, "a checked prediction is committed: Check is disabled"
    assert "csrc/fixed_pool.h" in c_text and "fixed_pool_alloc(" in c_text  # the inline fast path
    assert failed_widgets == 0 and errors == []
