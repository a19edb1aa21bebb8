"""Run an exercise's checks in sandboxed child processes and decide the verdicts here, in the
parent: one child runs the checks in order; if the student's code kills it, that check failed
(naming the signal, the limit or the sanitizer finding, and the last operation) and a fresh child
goes on with the next. A check passes only on a result line carrying this run's secret key."""

from __future__ import annotations

import hmac
import json
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from mempools.block import Region
from mempools.cprogram import NoCompiler
from mempools.exercises import runner, sandbox
from mempools.exercises.build import Built, CompileError, build
from mempools.exercises.catalog import CATALOG, Exercise
from mempools.exercises.nbgrader_support import c_source
from mempools.exercises.report import CheckResult, Report

LIMITS = sandbox.Limits(cpu_seconds=5, memory=2**31, wall_seconds=30)
BUDGET_MB = 1024  # EX_MEMORY_BUDGET: live bytes a cell may hold before its malloc returns NULL
ASAN_RSS_MB = 2048  # under ASan the address space cannot be capped; its RSS limit stands in
SIGNAL_MEANING = {
    "SIGSEGV": "segmentation fault: a read or write outside memory the program owns "
               "(a NULL or wild pointer, or a stack overflow from runaway recursion)",
    "SIGBUS": "bus error: a misaligned or unmapped access",
    "SIGABRT": "abort: an assert failed, or the C library found heap corruption (double free?)",
    "SIGFPE": "arithmetic error (division by zero?)",
    "SIGXFSZ": f"it wrote more than the {LIMITS.file_bytes // 2**20} MiB file-size limit, or "
               "allocated so many blocks that the allocator's ledger of them did",
    "SIGILL": "illegal instruction (undefined behaviour the compiler trapped)",
}
NOT_IMPLEMENTED = ("not implemented yet: replace the /* YOUR CODE HERE */ stub, and its "
                   "mp_not_implemented(); line, with your code")
MALLOC_FAILED = re.compile(r"mempools: malloc returned NULL for (\d+) bytes after (\d+) bytes")
SHOWN_OUTPUT = 2000  # characters of the student's own output shown in a report


@dataclass
class ChildRun:
    """What one child reported on the keyed channel, and how it ended."""

    started: list[int] = field(default_factory=list)
    results: dict[int, dict] = field(default_factory=dict)
    ops: dict[int, list[str]] = field(default_factory=dict)
    malloc_failed: dict | None = None
    load_error: str | None = None
    done: bool = False
    forged: bool = False
    outcome: sandbox.Outcome | None = None
    limits: sandbox.Limits = LIMITS


@cache
def _asan_library() -> str:
    from mempools.cprogram import compiler

    return subprocess.run([compiler(), "-print-file-name=libasan.so"], capture_output=True,
                          text=True).stdout.strip()


def _child(built: Built, exercise: Exercise, first: int) -> ChildRun:
    """One child running checks `first`.. of `exercise` on `built`; its keyed events parsed."""
    key = secrets.token_hex(24)
    env, limits = {}, LIMITS
    if built.sanitized:
        env = {"LD_PRELOAD": _asan_library(),
               "ASAN_OPTIONS": f"detect_leaks=0:hard_rss_limit_mb={ASAN_RSS_MB}:"
                               "allocator_may_return_null=1",
               "UBSAN_OPTIONS": "print_stacktrace=1"}
        limits = sandbox.Limits(cpu_seconds=LIMITS.cpu_seconds * 3, memory=None,
                                wall_seconds=LIMITS.wall_seconds)
    with tempfile.TemporaryDirectory(prefix="mpex-check-") as tmp:
        work = Path(tmp)
        module = work / built.path.name
        shutil.copyfile(built.path, module)
        cmd = [sys.executable, "-I", runner.__file__, built.name, str(module), exercise.name,
               str(first), "{send_fd}", "{receive_fd}"]
        outcome = sandbox.run(cmd, work, limits, env=env, send=key.encode(), receive=True)
    run = _parse(outcome, key)
    run.limits = limits
    return run


def _parse(outcome: sandbox.Outcome, key: str) -> ChildRun:
    run = ChildRun(outcome=outcome)
    failed = MALLOC_FAILED.search(outcome.stderr.decode(errors="replace"))
    if failed:  # said by the tracked allocator on stderr: a message, never a verdict
        run.malloc_failed = {"size": int(failed.group(1)), "total": int(failed.group(2))}
    for line in outcome.received.decode(errors="replace").splitlines():
        given, _, body = line.partition("\t")
        try:
            event = json.loads(body) if hmac.compare_digest(given, key) else None
        except json.JSONDecodeError:
            event = None
        if not isinstance(event, dict) or run.done:
            run.forged = True  # only the checker knows the key, and it stops after "done"
            continue
        kind = event.get("event")
        if kind == "start":
            run.started.append(event["index"])
            run.ops[event["index"]] = []
        elif kind == "op" and run.started:
            run.ops[run.started[-1]].append(event["text"])
        elif kind == "result":
            index = event.get("index")
            if index in run.results or not run.started or index != run.started[-1]:
                run.forged = True
            run.results[index] = event
        elif kind == "load-error":
            run.load_error = event.get("message", "")
        elif kind == "done":
            run.done = True
    return run


def _death(run: ChildRun, last: str) -> tuple[str, str]:
    """(property, message) for a child that ended before reporting the check it was in."""
    outcome = run.outcome
    err = outcome.stderr.decode(errors="replace")
    if "rss limit exhausted" in err:
        return "crash", (f"ran out of memory (limit {ASAN_RSS_MB} MiB under the sanitizers) "
                         f"during: {last}: a runaway allocation?")
    runaway = ""
    if run.malloc_failed:
        runaway = (f"; before that malloc({run.malloc_failed['size']}) returned NULL after "
                   f"{run.malloc_failed['total'] // 2**20} MiB had been allocated (a cell may "
                   f"hold {BUDGET_MB} MiB at once): a runaway allocation")
    finding = _sanitizer_finding(err)
    if finding:
        return "sanitizer", f"{finding} during: {last}{runaway}"
    assertion = next((line for line in err.splitlines() if "Assertion" in line), None)
    if outcome.wall_killed:
        return "timeout", (f"stopped after {LIMITS.wall_seconds:.0f} s of wall-clock time during: "
                           f"{last} (sleeping, or waiting for something that never comes?)")
    sig, cpu = outcome.signal_name, run.limits.cpu_seconds
    if sig == "SIGKILL" and outcome.seconds >= cpu:
        return "timeout", (f"killed at the hard CPU-time limit ({cpu + 1} s) after "
                           f"{outcome.seconds:.1f} s, during: {last}; the {cpu} s limit's "
                           "SIGXCPU was ignored or caught")
    if sig:
        meaning = (f"it used up its {cpu} s CPU-time limit: an infinite loop?" if sig == "SIGXCPU"
                   else SIGNAL_MEANING.get(sig, "a signal"))
        message = f"the process died with {sig} ({meaning}) during: {last}"
        if assertion:
            message += f"; {_clean(assertion)}"
        message += runaway
        return ("timeout" if sig == "SIGXCPU" else "crash"), message
    if "MemoryError" in err:
        return "crash", (f"ran out of memory (limit {LIMITS.memory // 2**20} MiB) during: {last}:"
                         " a runaway allocation?")
    return "crash", (f"the process ended (exit status {outcome.status}) before the check "
                     f"finished, during: {last}; a cell must not call exit()")


def _sanitizer_finding(err: str) -> str:
    """The first ASan or UBSan finding in `err`, as 'AddressSanitizer: kind at student.c:LINE'."""
    asan = re.search(r"ERROR: AddressSanitizer: ([\w-]+)", err)
    if asan:
        where = re.search(r"student\.c:\d+", err[asan.end():])
        return f"AddressSanitizer: {asan.group(1)}" + (f" at {where.group(0)}" if where else "")
    ubsan = re.search(r"student\.c:\d+:\d+: runtime error: [^\n]*", err)
    if ubsan:
        return f"UndefinedBehaviorSanitizer: {_clean(ubsan.group(0))}"
    return ""


def run_checks(built: Built, exercise: Exercise) -> tuple[list[CheckResult], str, str]:
    """Every check of `exercise` on `built`: results, the student's stdout and stderr."""
    checks = exercise.checks
    results: list[CheckResult] = []
    out, err = [], []
    while len(results) < len(checks):
        first = len(results)
        run = _child(built, exercise, first)
        out.append(run.outcome.stdout.decode(errors="replace"))
        err.append(run.outcome.stderr.decode(errors="replace"))
        if run.forged:
            message = ("something other than the checker wrote to its private result channel: "
                       "a forged result; no check of this run counts")
            results += [CheckResult(c.name, False, "forged", message) for c in checks[first:]]
            break
        if run.load_error is not None:
            message = _load_message(run.load_error, exercise)
            results += [CheckResult(c.name, False, "loads", message) for c in checks[first:]]
            break
        for index in range(first, len(checks)):
            event = run.results.get(index)
            if event is None:
                break
            regions = [Region(*r) for r in event.get("regions", [])]
            results.append(CheckResult(checks[index].name, event.get("passed") is True,
                                       event.get("property", ""), event.get("message", ""),
                                       event.get("ops", []), regions))
        if len(results) == len(checks) and run.done:
            break
        index = len(results)
        if index == len(checks):  # every result came, then it died: its results stand
            break
        ops = run.ops.get(index, [])
        last = ops[-1] if ops else ("loading the module" if index not in run.started
                                    else "the start of the check")
        prop, message = _death(run, last)
        results.append(CheckResult(checks[index].name, False, prop, message, ops))
        if index not in run.started:  # it died loading the cell: every child would
            results += [CheckResult(c.name, False, prop, message) for c in checks[index + 1:]]
        elif prop == "timeout":  # the same loop would eat the same time again
            results += [CheckResult(c.name, False, "not run",
                                    "skipped: an earlier check never finished")
                        for c in checks[index + 1:]]
    return results, "".join(out), "".join(err)


def _load_message(error: str, exercise: Exercise) -> str:
    symbol = re.search(r"undefined symbol: (\w+)", error)
    if symbol:
        return (f"your cell uses {symbol.group(1)}, which neither your cell nor the exercise "
                "defines: check the spelling")
    return f"the compiled cell did not load: {error}"


def check(name: str, source: str, sanitize: bool = False, cache: Path | None = None) -> Report:
    """Compile `source` for exercise `name` and run every check (under ASan + UBSan when
    `sanitize`, so a finding fails the check it happens in); never raises for the student's
    mistakes (compile errors, crashes, forgeries) - they are in the Report."""
    if name not in CATALOG:
        known = ", ".join(CATALOG)
        raise ValueError(f"no exercise named {name!r}; the exercises are: {known}")
    exercise = CATALOG[name]
    source = c_source(source)  # nbgrader's Python stub, left untouched -> "not implemented yet"
    report = Report(exercise.name, exercise.title)
    if "mp_not_implemented" in source:
        report.results = [CheckResult(c.name, False, "implemented", NOT_IMPLEMENTED)
                          for c in exercise.checks]
        return report
    try:
        built = build(exercise, source, sanitize=sanitize, cache=cache)
    except (CompileError, NoCompiler) as error:
        report.error = str(error)
        report.results = [CheckResult(c.name, False, "compiles", "the code did not compile")
                          for c in exercise.checks]
        return report
    report.warnings = built.warnings
    report.results, out, err = run_checks(built, exercise)
    report.output = _shown(out, err)
    if sanitize:
        report.sanitizer = _sanitizer_lines(err)
    if report.results and all(r.prop == "loads" for r in report.results):
        report.error = report.results[0].message
    return report


def _shown(out: str, err: str) -> str:
    """The student's own output, stdout then stderr, cut to SHOWN_OUTPUT characters."""
    text = out + (("\n" if out and not out.endswith("\n") else "") + err if err else "")
    text = re.sub(r"\S*/(student\.c)", r"\1", re.sub(r"==\d+==", "", text))
    if len(text) > SHOWN_OUTPUT:
        text = text[:SHOWN_OUTPUT] + f"\n... ({len(text) - SHOWN_OUTPUT} more characters not shown)"
    return text


def _sanitizer_lines(err: str) -> list[str]:
    lines: list[str] = []
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
