"""The package works from a wheel, outside the repository: build it, install it into a fresh
venv in a temporary folder, and from there run what students and instructors run."""

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03-Fixed-Size-Pool.ipynb"  # compiles C with run_c


def run(args, cwd, timeout=900):
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def venv():
    """A fresh venv outside the repository with only the built wheel (and a kernel runner).
    Not under /tmp: the exercise sandbox mounts a private /tmp, which would hide the venv's
    interpreter from the check's child process."""
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="mempools-wheel-", dir=base) as name:
        yield _install(Path(name))


def _install(tmp):
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp / "dist"), str(ROOT)], tmp)
    (wheel,) = (tmp / "dist").glob("mempools-*.whl")
    run([sys.executable, "-m", "venv", str(tmp / "venv")], tmp)
    python = tmp / "venv" / "bin" / "python"
    run([str(python), "-m", "pip", "install", "-q", str(wheel), "nbclient", "ipykernel"], tmp)
    work = tmp / "work"
    work.mkdir()
    return python, work


def test_wheel_imports_the_installed_copy_with_its_files(venv):
    python, work = venv
    out = run([str(python), "-c", textwrap.dedent("""
        import json, mempools, mempools.resources as r
        print(json.dumps([mempools.__file__, str(r.csrc_dir()), str(r.traces_dir()),
                          sorted(p.name for p in r.traces_dir().glob('*.rep')),
                          (r.csrc_dir() / 'naive' / 'naive_pools.h').is_file(),
                          (r.csrc_dir() / 'exercises' / 'exercise_support.c').is_file()]))
        """)], work)
    package, csrc, traces, reps, naive, support = json.loads(out)
    for path in (package, csrc, traces):
        assert "site-packages" in path and not path.startswith(str(ROOT))
    assert reps and naive and support


def test_wheel_runs_an_exercise_check(venv):
    python, work = venv
    out = run([str(python), "-c", textwrap.dedent("""
        import mempools as mp
        name = sorted(mp.exercises.CATALOG)[0]
        report = mp.exercises.check(name, mp.exercises.CATALOG[name].solution)
        print(report.text())
        print(name, report.passed)
        """)], work)
    assert out.split()[-1] == "True", out


def test_wheel_run_c_includes_a_pool_header(venv):
    python, work = venv
    out = run([str(python), "-c", textwrap.dedent("""
        from mempools.cprogram import run_c
        r = run_c('#include "fixed_pool.h"\\n#include <stdio.h>\\n'
                  'int main(void) { fixed_pool *p; void *b;\\n'
                  '  if (fixed_pool_create(&p, 16, 4, 8) || fixed_pool_alloc(p, &b)) return 1;\\n'
                  '  printf("%s\\\\n", fixed_pool_check(p) ? "broken" : "sound");\\n'
                  '  fixed_pool_destroy(p); return 0; }',
                  sources=("fixed_pool.c", "pool_common.c"))
        print(r.returncode, r.stdout.strip(), r.stderr)
        """)], work)
    assert out.split()[:2] == ["0", "sound"], out


def test_wheel_runs_a_quick_bench_with_the_bundled_traces(venv):
    python, work = venv
    out = run([str(python), "-m", "mempools", "bench", "--json", "--repeats", "1", "--ops", "50"],
              work)
    rows = json.loads(out)
    names = json.dumps(rows)
    assert "seeded-1" in names, names[:500]


def test_wheel_executes_a_lesson_notebook_copied_out_of_the_repo(venv):
    python, work = venv
    copy = work / NOTEBOOK.name
    copy.write_text(NOTEBOOK.read_text())
    run([str(python), "-c", textwrap.dedent(f"""
        import nbformat
        from nbclient import NotebookClient
        nb = nbformat.read({str(copy)!r}, as_version=4)
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={{"metadata":
                       {{"path": {str(work)!r}}}}}).execute()
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert not errors, errors
        """)], work)
