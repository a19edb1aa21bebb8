"""The capstone in JupyterLab in headless Chromium: running the notebook draws the student's
heap (their mm_walk and the driver's live payloads, two memory maps in one widget), and moving
the slider redraws it at another step. Fixtures and conventions as in test_browser.py."""

import time

import pytest

from tests.test_browser import ARTIFACTS, TOKEN, browser, lab, run_all_cells  # noqa: F401

pytestmark = pytest.mark.browser
NOTEBOOK = "exercises/07-Capstone-Your-Own-Malloc.ipynb"


def test_student_heap_renders_and_steps(lab, browser):  # noqa: F811
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.goto(f"{lab}/lab/tree/{NOTEBOOK}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    # the indicator says idle before the kernel is connected; a Run All sent then is dropped
    # (the lesson test spends this time checking the untrusted pictures)
    page.wait_for_timeout(5_000)
    run_all_cells(page)
    maps = page.locator(".jupyter-widgets.mp-student-heap svg.mp-memmap")
    deadline = time.time() + 90
    while maps.count() < 4 and time.time() < deadline:
        page.wait_for_timeout(500)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    heap = page.locator(".jupyter-widgets.mp-student-heap").first
    heap.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    heap.screenshot(path=str(ARTIFACTS / "07-Capstone-student-heap.png"))
    opened = heap.locator(".mp-heap-caption").inner_text()
    titles = heap.locator("svg.mp-memmap").all_text_contents()
    handle = heap.locator(".ui-slider-handle, .noUi-handle").first
    handle.click()
    page.keyboard.press("Home")
    page.wait_for_timeout(1_000)
    first = heap.locator(".mp-heap-caption").inner_text()
    page.keyboard.press("End")
    page.wait_for_timeout(1_000)
    last = heap.locator(".mp-heap-caption").inner_text()
    bug = page.locator(".jupyter-widgets.mp-student-heap").nth(1)
    bug.scroll_into_view_if_needed()
    bug.screenshot(path=str(ARTIFACTS / "07-Capstone-student-heap-overlap.png"))
    overlap = " ".join(bug.locator("svg.mp-memmap").all_text_contents())
    outlined = bug.locator("svg.mp-memmap rect.mp-overlap").count()
    failed_widgets = page.locator(".jupyter-widgets-error-widget").count()
    rendered = maps.count()
    page.screenshot(path=str(ARTIFACTS / "07-Capstone-Your-Own-Malloc.png"), full_page=True)
    page.close()
    assert rendered == 4, f"{rendered} of the 4 memory maps (2 heaps, 2 views each) rendered"
    assert outlined >= 1 and "overlap: two blocks" in overlap, "the buggy allocator's overlap"
    assert "your mm_walk" in " ".join(titles) and "the driver" in " ".join(titles)
    assert opened.startswith("step 16: mm_malloc(500) as id 8"), opened
    assert first.startswith("step 0: after mm_init()"), first
    assert last.startswith("step 22: mm_free(id 0)"), last
    assert failed_widgets == 0, f"{failed_widgets} widget(s) failed to render"
    assert errors == [], errors
