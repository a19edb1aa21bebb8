"""Child process: load a compiled exercise module and run one check, writing JSON lines
(each operation before it runs, then the result) so the parent can tell the last operation
even when the student's code kills this process."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
import traceback

from mempools.exercises.catalog import CATALOG
from mempools.exercises.tester import CheckFailed, Tester


def load(name: str, path: str):  # noqa: ANN201 - a cffi extension module
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    name, path, exercise, index = argv[0], argv[1], argv[2], int(argv[3])
    module = load(name, path)
    tester = Tester(module.ffi, module.lib)
    result: dict = {"event": "result", "passed": True}
    try:
        CATALOG[exercise].checks[index].run(tester)
    except CheckFailed as failed:
        result = {"event": "result", "passed": False, "property": failed.prop,
                  "message": failed.message, "regions": failed.regions, "ops": tester.ops}
    except Exception:  # a bug in the check's use of the student's results, shown as such
        result = {"event": "result", "passed": False, "property": "error",
                  "message": traceback.format_exc(limit=1).strip().splitlines()[-1],
                  "ops": tester.ops}
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
