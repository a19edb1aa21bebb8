"""The two dependency lists agree, and the package ships its C."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def names(requirements):
    return {re.split(r"[<>=!\[ ]", r, maxsplit=1)[0].strip().lower() for r in requirements}


def test_environment_yml_lists_runtime_and_lab_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    # nbgrader comes from the test extras: the instructors' nbgrader workflow, tried on Binder too
    assert "nbgrader" in names(extras["test"])
    wanted = names(project["dependencies"]) | names(extras["lab"]) | {"nbgrader"}
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


def test_notebooks_are_committed_executed_with_widget_state():
    import json

    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = json.loads(path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        assert all(c.get("execution_count") for c in code), f"{path.name}: run it and save it"
        assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", path.name
        has_widgets = any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                          for c in code for o in c.get("outputs", []))
        if has_widgets:
            assert "state" in nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]


def test_sdist_manifest_ships_the_bundled_traces():
    assert "recursive-include data/traces *.rep" in (ROOT / "MANIFEST.in").read_text()


# -- lean imports -----------------------------------------------------------------------------
CORE = {"mempools", "mempools._native", "mempools._native.lib", "mempools.block", "mempools.bump",
        "mempools.constants", "mempools.embedded", "mempools.free_list", "mempools.errors",
        "mempools.fixed", "mempools.malloc", "mempools.pool", "mempools.trace", "mempools.validate"}
HEAVY = ("ipywidgets", "matplotlib", "tqdm", "IPython", "nbformat", "cffi.recompiler")


def loaded_after(code):
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", f"import json, sys; {code}; print(json.dumps("
                          "sorted(sys.modules)))"], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_mempools_loads_the_pools_errors_blocks_and_traces_only():
    loaded = loaded_after("import mempools")
    assert {m for m in loaded if m.startswith("mempools")} == CORE
    assert not [m for m in HEAVY if m in loaded]


def test_lazy_parts_load_on_first_use():
    loaded = loaded_after("import mempools; mempools.naive")
    assert "mempools.naive" in loaded and "mempools.viz" not in loaded
    assert "mempools.viz" in loaded_after("import mempools; mempools.viz")


def test_errors_is_a_leaf():
    path = ROOT / "src" / "mempools" / "errors.py"
    loaded = loaded_after("import importlib.util as u; spec = u.spec_from_file_location('e', "
                          f"{str(path)!r}); spec.loader.exec_module(u.module_from_spec(spec))")
    assert not {m for m in loaded if m.startswith(("mempools", "cffi", "_cffi"))}


# -- one source of truth for C constants --------------------------------------------------------
def test_error_codes_and_region_kinds_are_the_c_enums():
    import mempools as mp
    from mempools.c import lib

    c_errors = {n.removeprefix("POOL_"): getattr(lib, n) for n in dir(lib)
                if n.startswith("POOL_E") or n == "POOL_OK"}
    c_kinds = {n.removeprefix("POOL_REGION_"): getattr(lib, n) for n in dir(lib)
               if n.startswith("POOL_REGION_")}
    assert {e.name: e.value for e in mp.ErrorCode} == c_errors and len(c_errors) >= 10
    assert {k.name: k.value for k in mp.RegionKind} == c_kinds and len(c_kinds) >= 7


def test_every_c_error_code_maps_to_a_documented_exception():
    import mempools as mp
    from mempools.pool import error_for

    for code in mp.ErrorCode:
        if code != mp.ErrorCode.OK:
            error = error_for(code, "call")
            assert isinstance(error, mp.PoolError) and isinstance(error, (ValueError, MemoryError))
    assert isinstance(error_for(mp.ErrorCode.ENOMEM, "x"), mp.OutOfMemory)


def test_no_literal_copy_of_a_c_constant_in_python():
    pattern = re.compile(r"2 ?\*\* ?64|0xffffffffffffffff|\[16\]|\bkind ?(==|in) ?\(?\d")
    for path in sorted((ROOT / "src" / "mempools").rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not pattern.search(line), f"{path.name}:{number}: {line.strip()}"


def test_a_check_child_process_loads_no_widgets_or_plots():
    loaded = loaded_after("import mempools.exercises.runner")
    assert not [m for m in HEAVY if m in loaded]
