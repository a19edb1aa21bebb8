"""The two dependency lists agree, and the package ships its C."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def names(requirements):
    return {re.split(r"[<>=!\[ ]", r, maxsplit=1)[0].strip().lower() for r in requirements}


def test_environment_yml_lists_runtime_and_lab_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = names(project["dependencies"]) | names(project["optional-dependencies"]["lab"])
    listed = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"  - ([A-Za-z][\w.-]*)", line)  # conda entries, not the pip list
        if m and m.group(1) not in ("pip", "python", "c-compiler"):
            listed.add(m.group(1).lower())
    assert listed == wanted
    assert "-e .[lab]" in (ROOT / "environment.yml").read_text()


def test_sdist_manifest_ships_c_sources():
    assert "recursive-include csrc *.c *.h" in (ROOT / "MANIFEST.in").read_text()
