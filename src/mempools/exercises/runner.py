"""The check child: run as a script (`python -I runner.py ...`) inside the sandbox. It reads a
per-run key from a pipe before any student code is loaded, then loads the compiled cell and runs
the checks from a given index on, writing each operation and each result, prefixed by the key,
to a result pipe the parent reads. Student code shares this process, so nothing it prints is a
result, and the parent decides: a check without a keyed result has failed.

It imports only the tester, the catalog loader and one exercise's checks: `mempools` itself is
not initialised here (no pools, no widgets, no plotting)."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

LEDGER = ".mempools-ledger"  # EX_LEDGER of exercise_support.h


def _package_without_init() -> None:
    """Make `mempools` and `mempools.exercises` importable as namespaces of their folders, so
    importing a submodule does not run their __init__ (which loads what a check never needs)."""
    exercises = Path(__file__).resolve().parent
    for name, folder in (("mempools", exercises.parent), ("mempools.exercises", exercises)):
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]
        sys.modules[name] = module


def _load(name: str, path: str) -> types.ModuleType:
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    name, path, exercise, first = argv[0], argv[1], argv[2], int(argv[3])
    key_fd, result_fd = int(argv[4]), int(argv[5])
    key = os.read(key_fd, 64).decode()  # unbuffered: no spare copy left in an I/O buffer
    os.close(key_fd)

    def send(event: dict) -> None:
        os.write(result_fd, f"{key}\t{json.dumps(event)}\n".encode())

    _package_without_init()
    from mempools.exercises.catalog import CATALOG
    from mempools.exercises.tester import CheckFailed, Ledger, Tester

    checks = CATALOG[exercise].checks
    Path(LEDGER).touch()  # in the private working directory; the allocator appends to it
    ledger = Ledger(open(LEDGER, "rb"))  # noqa: SIM115 - read for the whole run
    try:
        module = _load(name, path)  # the student's constructors run here
    except ImportError as error:
        send({"event": "load-error", "message": str(error)})
        os._exit(0)
    module.lib.ex_checker_start()
    for index in range(first, len(checks)):
        tester = Tester(module.ffi, module.lib, send, ledger)
        send({"event": "start", "index": index})
        result: dict = {"event": "result", "index": index, "passed": True}
        try:
            checks[index].run(tester)
        except CheckFailed as failed:
            result |= {"passed": False, "property": failed.prop, "message": failed.message,
                       "regions": failed.regions, "ops": tester.ops}
        except Exception as error:  # noqa: BLE001 - a check that meets nonsense from the cell
            result |= {"passed": False, "property": "error", "ops": tester.ops,
                       "message": f"{type(error).__name__}: {error}"}
        send(result)
    send({"event": "done"})
    os._exit(0)  # no destructors, no atexit: nothing of the student's runs after the last result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
