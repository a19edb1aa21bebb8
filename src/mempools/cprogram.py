"""Compile a small C program against csrc/ and run it in a child process, so a crash or a
sanitizer report becomes text to show instead of a dead kernel."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mempools.errors import CompileError, NoCompiler
from mempools.resources import csrc_dir


def compiler() -> str:
    """The C compiler to use: $CC, else cc, gcc or clang; NoCompiler says what to install."""
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    raise NoCompiler("no C compiler found: install gcc or clang (Debian/Ubuntu: "
                     "`sudo apt-get install build-essential`; macOS: `xcode-select --install`)")


@dataclass
class CRun:
    """What the child did: exit status (negative = killed by that signal), output, errors."""

    returncode: int
    stdout: str
    stderr: str
    warnings: str = ""  # what the compiler said about a program it did build

    def warning_lines(self) -> list[str]:
        """The compiler's warning lines, with the temporary directory cut off."""
        return [line.split("/")[-1] for line in self.warnings.splitlines() if "warning:" in line]

    @property
    def signal_name(self) -> str | None:
        """'SIGSEGV' and the like when the child was killed by a signal, else None."""
        if self.returncode < 0:
            return signal.Signals(-self.returncode).name
        return None

    def reports(self, pattern: str = r"runtime error|ERROR: AddressSanitizer|SUMMARY") -> list[str]:
        """Sanitizer lines matching `pattern`, with addresses and process ids blanked (they
        change every run) and paths cut to csrc/."""
        lines = [line for line in self.stderr.splitlines() if re.search(pattern, line)]
        cut = f"{csrc_dir()}{os.sep}"
        return [re.sub(r"==\d+==", "", re.sub(r"0x[0-9a-f]+", "0x...", line.split(cut)[-1]))
                for line in lines]


def run_c(main: str, *, sources: tuple[str, ...] = (), sanitize: str | None = None,
          flags: tuple[str, ...] = (), timeout: float = 20) -> CRun:
    """Compile `main` (C source text) with csrc/`sources` at -O0 -g (plus `flags`, e.g.
    "-pthread"), optionally with -fsanitize=`sanitize`, and run it; compile errors raise
    CompileError with the compiler's text."""
    csrc = csrc_dir()
    cc = compiler()
    with tempfile.TemporaryDirectory(prefix="mempools-c-") as tmp:
        program = Path(tmp) / "program"
        (Path(tmp) / "main.c").write_text(main)
        options = ["-std=c11", "-g", "-O0", f"-I{csrc}", *flags]
        if sanitize:
            options += [f"-fsanitize={sanitize}", "-fno-omit-frame-pointer"]
        build = subprocess.run([cc, *options, str(Path(tmp) / "main.c"),
                                *[str(csrc / s) for s in sources], "-o", str(program)],
                               capture_output=True, text=True, cwd=csrc,
                               # the C locale: plain quotes in messages, the same on every machine
                               env=dict(os.environ, LC_ALL="C"))
        if build.returncode:
            raise CompileError(f"the C program did not compile:\n{build.stderr}")
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", UBSAN_OPTIONS="print_stacktrace=0")
        try:
            done = subprocess.run([str(program)], capture_output=True, text=True,
                                  timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return CRun(-int(signal.SIGKILL), "", f"killed after {timeout} s", build.stderr)
    return CRun(done.returncode, done.stdout, done.stderr, build.stderr)
