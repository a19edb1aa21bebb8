"""Run an exercise's checks, each in its own child process with CPU, memory and wall-clock
limits, and turn crashes into failed checks that name the signal and the last operation."""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading

from mempools.block import Region
from mempools.cprogram import NoCompiler
from mempools.exercises.build import Built, CompileError, build
from mempools.exercises.catalog import CATALOG, Exercise
from mempools.exercises.nbgrader_support import c_source, still_stubbed
from mempools.exercises.report import CheckResult, Report
from mempools.exercises.tester import NOT_IMPLEMENTED

CPU_SECONDS = 5
MEMORY_BYTES = 2**30
WALL_SECONDS = 30
SIGNAL_MEANING = {
    "SIGSEGV": "segmentation fault: a read or write outside memory the program owns "
               "(a NULL or wild pointer, or a stack overflow from runaway recursion)",
    "SIGBUS": "bus error: a misaligned or unmapped access",
    "SIGABRT": "abort: the C library detected heap corruption (double free?) or an assert failed",
    "SIGFPE": "arithmetic error (division by zero?)",
    "SIGXCPU": f"used more than {CPU_SECONDS} s of CPU: an infinite loop?",
    "SIGKILL": f"killed after {WALL_SECONDS} s: an infinite loop or a wait that never ends?",
    "SIGILL": "illegal instruction (undefined behaviour the compiler trapped)",
}


def _limits() -> None:
    """Runs in the child before exec: cap CPU time and address space."""
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def _sanitizer_env() -> dict[str, str]:
    """ASan must be loaded before Python itself; leaks are Python's, not the student's."""
    cc = os.environ.get("CC", "gcc")
    lib = subprocess.run([cc, "-print-file-name=libasan.so"], capture_output=True,
                         text=True).stdout.strip()
    return {"LD_PRELOAD": lib, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0",
            "UBSAN_OPTIONS": "print_stacktrace=1"}


def _run_limited(cmd: list[str], env: dict[str, str], limits: bool) -> tuple[int, str, str, int]:
    """Run `cmd` with the limits and a wall-clock timer; returns its status (negative: killed
    by that signal), stdout, stderr and peak memory in bytes (from wait4, for this child)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env,
                                preexec_fn=_limits if limits else None)
        timer = threading.Timer(WALL_SECONDS, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        proc.returncode = code  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        return (code, out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                usage.ru_maxrss * 1024)


def run_check(built: Built, exercise: Exercise, index: int) -> tuple[CheckResult, str]:
    """One check in a child process; returns its result and the child's stderr."""
    name = exercise.checks[index].name
    env = dict(os.environ, **(_sanitizer_env() if built.sanitized else {}))
    cmd = [sys.executable, "-m", "mempools.exercises.runner", built.name, str(built.path),
           exercise.name, str(index)]
    code, out, err, peak = _run_limited(cmd, env, limits=not built.sanitized)
    ops, result, malloc_failed = [], None, None
    for line in out.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue  # the student's own printf output
        if event.get("event") == "op":
            ops.append(event["text"])
        elif event.get("event") == "result":
            result = event
        elif event.get("event") == "malloc-failed":
            malloc_failed = malloc_failed or event
    if result is not None and code == 0:
        regions = [Region(*r) for r in result.get("regions", [])]
        return CheckResult(name, result["passed"], result.get("prop", result.get("property", "")),
                           result.get("message", ""), result.get("ops", ops), regions), err
    last = ops[-1] if ops else "loading the module"
    if code < 0:
        sig = signal.Signals(-code).name
        message = f"the process died with {sig} ({SIGNAL_MEANING.get(sig, 'a signal')}) during: {last}"
        if malloc_failed:
            message += (f"; before that malloc({malloc_failed['size']}) returned NULL after "
                        f"{malloc_failed['total'] // 2**20} MiB had been allocated (the limit is "
                        f"{MEMORY_BYTES // 2**20} MiB): a runaway allocation")
        elif peak > MEMORY_BYTES // 2:
            message += (f"; it had used {peak // 2**20} MiB of the {MEMORY_BYTES // 2**20} MiB "
                        "allowed: a runaway allocation?")
        kind = "timeout" if sig in ("SIGXCPU", "SIGKILL") else "crash"
        return CheckResult(name, False, kind, message, ops), err
    tail = err.strip().splitlines()[-1] if err.strip() else f"exit status {code}"
    if "MemoryError" in err or "Cannot allocate memory" in err:
        tail = f"ran out of memory (limit {MEMORY_BYTES // 2**20} MiB): runaway allocation?"
    return CheckResult(name, False, "crash", f"{tail} during: {last}", ops), err


def check(name: str, source: str, sanitize: bool = False) -> Report:
    """Compile `source` for exercise `name` and run every check; never raises for the
    student's mistakes (compile errors, crashes) - they are in the Report."""
    if name not in CATALOG:
        known = ", ".join(sorted(CATALOG))
        raise ValueError(f"no exercise named {name!r}; the exercises are: {known}")
    exercise = CATALOG[name]
    source = c_source(source)  # nbgrader's Python stub, left untouched -> "not implemented yet"
    report = Report(exercise.name, exercise.title)
    try:
        built = build(exercise, source)
    except (CompileError, NoCompiler) as error:
        report.error = str(error)
        report.results = [CheckResult(c.name, False, "compiles", "the code did not compile")
                          for c in exercise.checks]
        return report
    report.warnings = built.warnings
    if still_stubbed(source):  # a fix-the-bug stub is reached by one check only: fail them all
        report.results = [CheckResult(c.name, False, "implemented", NOT_IMPLEMENTED)
                          for c in exercise.checks]
        return report
    for i, c in enumerate(exercise.checks):
        if any(r.prop == "timeout" for r in report.results):
            # the same loop would eat the same time again: say so instead of waiting
            report.results.append(CheckResult(c.name, False, "not run",
                                              "skipped: an earlier check never finished"))
            continue
        report.results.append(run_check(built, exercise, i)[0])
    if sanitize:
        report.sanitizer = sanitizer_reports(exercise, source)
    return report


def sanitizer_reports(exercise: Exercise, source: str) -> list[str]:
    """Rerun the checks with ASan + UBSan; their reports, cut to the lines about student.c."""
    built = build(exercise, source, sanitize=True)
    lines: list[str] = []
    for i in range(len(exercise.checks)):
        _, err = run_check(built, exercise, i)
        for line in err.splitlines():
            if "runtime error" in line or "ERROR: AddressSanitizer" in line or "student.c:" in line:
                cleaned = _clean(line)
                if cleaned not in lines:
                    lines.append(cleaned)
    return lines


def _clean(line: str) -> str:
    line = re.sub(r"0x[0-9a-f]+", "0x...", line)
    line = re.sub(r"==\d+==", "", line)
    return re.sub(r"\S*/(student\.c)", r"\1", line).strip()
