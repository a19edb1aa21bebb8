"""The cffi extension, and the run-time files (C sources, traces) copied into the package."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# repository folder -> folder inside the installed package (see mempools/resources.py)
RESOURCES = {"csrc": ("_csrc", ("*.c", "*.h")), "data/traces": ("_traces", ("*.rep",))}


class BuildPyWithResources(build_py):
    """build_py that also copies csrc/ and data/traces/ into the built package, so the wheel
    carries them and the repository keeps one copy. Editable installs read the checkout."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        package = Path(self.build_lib) / "mempools"
        for source, (target, patterns) in RESOURCES.items():
            for pattern in patterns:
                for path in (ROOT / source).rglob(pattern):
                    dest = package / target / path.relative_to(ROOT / source)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)


setup(cffi_modules=["src/mempools/_build_ffi.py:ffibuilder"],
      cmdclass={"build_py": BuildPyWithResources})
