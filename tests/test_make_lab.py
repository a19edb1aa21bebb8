"""`make lab` as a student runs it: the URL it prints opens the lab (not the login page), and the
exercises it serves are the released ones, without solutions or hidden tests."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory):
    if not shutil.which("make") or not (ROOT / ".venv" / "bin" / "jupyter").exists():
        pytest.skip("needs make and the .venv that `make install` creates")
    port = _free_port()
    log = tmp_path_factory.mktemp("make-lab") / "make-lab.log"
    with open(log, "w") as out:
        # a session of our own, so the server make starts is stopped with it
        proc = subprocess.Popen(["make", "-s", "lab", f"PORT={port}", "NO_BROWSER=1"], cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                env={k: v for k, v in os.environ.items() if k != "TOKEN"})
    try:
        url = None
        for _ in range(240):
            match = re.search(r"http://127\.0\.0\.1:\d+/lab\?token=\w+", log.read_text())
            if match:
                url = match.group(0)
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1)
                except urllib.error.HTTPError:  # 403 without a token: the server is up
                    break
                except OSError:
                    pass
            if proc.poll() is not None:
                break
            time.sleep(0.5)
        if url is None or proc.poll() is not None:
            pytest.fail("make lab did not start a server:\n" + log.read_text()[-3000:])
        yield url, port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_printed_url_opens_the_lab_not_the_login_page(lab_url):
    url, port = lab_url
    assert f":{port}/" in url
    with urllib.request.urlopen(url, timeout=30) as response:
        landed = response.geturl()
        page = response.read().decode()
    assert "/login" not in landed, f"the printed URL lands on the login page: {landed}"
    assert '"appName": "JupyterLab"' in page or "jupyter-config-data" in page


def test_a_wrong_token_lands_on_the_login_page(lab_url):
    """The check above can fail: the same server sends a wrong token to the login page."""
    url, _ = lab_url
    with urllib.request.urlopen(re.sub(r"token=\w+", "token=wrong", url), timeout=30) as response:
        assert "/login" in response.geturl()


def test_students_get_released_exercises(lab_url):
    url, port = lab_url
    token = url.split("token=")[1]
    api = f"http://127.0.0.1:{port}/api/contents"
    with urllib.request.urlopen(f"{api}/exercises?token={token}", timeout=30) as response:
        names = [item["name"] for item in json.load(response)["content"]]
    assert "01-Exercises.ipynb" in names
    for name in names:
        if name.endswith(".ipynb"):
            with urllib.request.urlopen(f"{api}/exercises/{name}?token={token}", timeout=30) as r:
                text = json.dumps(json.load(r)["content"])
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, name
    with urllib.request.urlopen(f"{api}?token={token}", timeout=30) as response:
        lessons = {item["name"] for item in json.load(response)["content"]}
    assert "00-Start-Here.ipynb" in lessons
