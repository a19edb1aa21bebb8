"""Compile a student's C for one exercise: the student's code in its own file (messages say
student.c:LINE), -O0 -g with assert enabled so bugs behave as taught, malloc and friends routed
to the tracked allocator, the compiler itself sandboxed and time-limited, and a cache keyed by a
hash of everything that goes in, whose files are checked against their hash before each use."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
import threading
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from mempools.cprogram import compiler
from mempools.exercises import sandbox
from mempools.exercises.catalog import Exercise
from mempools.resources import csrc_dir

# The file that is compiled: headers, the allocator routing, then the student's file, which
# holds only the student's lines, so the compiler's messages say student.c:LINE and quote them.
UNIT = ('#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n'
        '#include "exercise_support.h"\n'
        '#define malloc(size) ex_malloc(size)\n#define calloc(n, size) ex_calloc(n, size)\n'
        '#define realloc(block, size) ex_realloc(block, size)\n#define free(block) ex_free(block)\n'
        '#include "student.c"\n')
FLAGS = ["-std=c11", "-O0", "-g", "-fPIC"]
WARNINGS = ["-Wall", "-Wextra"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
# Compile in the sandbox: the student's unit (the messages are the student's), list the names it
# defines and uses, link it with the glue compiled once per exercise.
SCRIPT = """set -e
"$CC" $FLAGS -I"$SUPPORT" -E student_unit.c -o student.i
awk '/^# [0-9]+ "/ { mine = ($3 == "\\"student.c\\""); next } mine' student.i > mine.i
if grep -Eq "$ASSEMBLY" mine.i; then exit 0; fi
"$CC" $FLAGS $WARNINGS -I"$SUPPORT" -c student_unit.c -o student.o
nm -g student.o > symbols.txt
if command -v objdump >/dev/null; then objdump -d --no-show-raw-insn student.o > code.txt; fi
"$CC" $FLAGS -shared student.o module.o support.o -o "$OUT"
"""
# What a cell may call: the C standard library's memory, string, character, number, maths,
# time and jump functions, printing to stdout/stderr, and the exercise's own support; plus what
# the compiler itself emits (assert, errno, stack protector, sanitizers). Nothing that opens a
# file (/proc/self/maps, /proc/self/mem), reads or writes a file descriptor, maps or protects
# memory, starts a process or thread, installs a signal handler, or reaches Python or the
# dynamic loader: student code shares the check's process, and those are the ways it could
# find the checker's secret key or write to its result pipe. The sandbox is the second wall.
ALLOWED_CALLS = frozenset("""
    memcpy memmove memset memcmp memchr strcpy strncpy strcat strncat strcmp strncmp strcoll
    strxfrm strchr strrchr strspn strcspn strpbrk strstr strtok strlen strerror strnlen strdup
    malloc calloc realloc free aligned_alloc atoi atol atoll atof strtol strtoll strtoul strtoull
    strtod strtof strtold rand srand qsort bsearch abs labs llabs div ldiv lldiv abort exit _Exit
    quick_exit printf fprintf sprintf snprintf vprintf vfprintf vsprintf vsnprintf puts fputs
    putchar putc fputc fflush perror fwrite setvbuf setbuf sscanf vsscanf tolower toupper
    isalnum isalpha isblank iscntrl isdigit isgraph islower isprint ispunct isspace isupper
    isxdigit time clock difftime setjmp longjmp _setjmp __sigsetjmp __longjmp_chk
    stdout stderr __assert_fail __errno_location __stack_chk_fail __ctype_b_loc
    __ctype_tolower_loc __ctype_toupper_loc _GLOBAL_OFFSET_TABLE_
    tracked_malloc tracked_free tracked_live mp_not_implemented
""".split())
ALLOWED_PATTERN = re.compile(
    r"^(ex_\w+|__(asan|ubsan|sanitizer)_\w+|__isoc\d\d_v?sscanf|__isoc\d\d_strto\w+"
    r"|__\w+printf_chk|__mem\w+_chk|__str\w+_chk"
    r"|(sqrt|cbrt|pow|exp|exp2|expm1|log|log2|log10|log1p|floor|ceil|round|lround|llround|trunc"
    r"|fabs|fmod|fmin|fmax|hypot|sin|cos|tan|asin|acos|atan|atan2|sinh|cosh|tanh|ldexp|frexp"
    r"|modf|nextafter|copysign|rint|lrint|nearbyint|remainder)[fl]?)$")
# Assembly in the cell's own lines (after the preprocessor, so no macro hides it) is refused
# before anything is assembled: `.incbin` would read any file at compile time, and machine code
# goes around the list of calls. Raw system calls in the object are refused as a second check.
ASSEMBLY = r"\b(asm|__asm|__asm__)\b"
SYSCALL = re.compile(r"\s(syscall|sysenter|int\s+\$0x80|svc\s+#?0x?0)\b")
# Part of every build's cache key: a build made under an older, looser policy is not reused.
POLICY = " ".join([*sorted(ALLOWED_CALLS), ALLOWED_PATTERN.pattern, SYSCALL.pattern, ASSEMBLY])
# The compiler runs no student code, and it starts cc1, as and ld: no process limit (which would
# count every process of the user) and more open files.
COMPILE_LIMITS = sandbox.Limits(cpu_seconds=30, memory=2**31, wall_seconds=60,
                                file_bytes=256 * 2**20, open_files=256, processes=None)
STANDARD_HEADERS = frozenset(
    "assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal "
    "stdalign stdarg stdatomic stdbool stddef stdint stdio stdlib stdnoreturn string tgmath "
    "threads time uchar wchar wctype".split())
# `#line` and GNU line markers (`# 12 "file"`) could make the cell's lines pass for a header's.
DIRECTIVE = re.compile(r"^\s*(?:#|%:|\?\?=)\s*(include_next|include|import|embed|line\b|\d)(.*)$")
ALLOWED_INCLUDE = re.compile(r"^\s*<(\w+)\.h>\s*(?://.*|/\*.*)?$")


class CompileError(ValueError):
    """The student's C did not compile (or includes what it may not); the message is the
    compiler's, with student.c:LINE."""


@dataclass(frozen=True)
class Built:
    """A compiled exercise module: import `name` from the shared object at `path`."""

    name: str
    path: Path
    warnings: str
    sanitized: bool


def cache_dir() -> Path:
    """The per-user cache of builds (a submission's sandbox never sees it)."""
    root = os.environ.get("MEMPOOLS_CACHE") or Path.home() / ".cache" / "mempools"
    path = Path(root) / "exercises"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def support_cdef() -> str:
    """The declarations of exercise_support.h, read from the header (cffi takes them as they
    are once the preprocessor lines are gone)."""
    header = (csrc_dir() / "exercises" / "exercise_support.h").read_text()
    return "\n".join(line for line in header.splitlines() if not line.lstrip().startswith("#"))


def refuse_includes(source: str) -> None:
    """Only the C standard headers may be included: anything else could read files (or block
    on a device) at compile time, and the exercise's declarations are already there."""
    joined = source.replace("\\\n", " \n")  # a continued directive still starts its first line
    for number, line in enumerate(joined.splitlines(), start=1):
        match = DIRECTIVE.match(line)
        if not match:
            continue
        header = ALLOWED_INCLUDE.match(match.group(2)) if match.group(1) == "include" else None
        if not header or header.group(1) not in STANDARD_HEADERS:
            what = f"#{match.group(1)}{match.group(2)}".strip()
            raise CompileError(
                f"student.c:{number}: `{what}` is not allowed: a cell may include only the C "
                "standard headers (such as <stdio.h> or <string.h>), and may not renumber its "
                "lines; the exercise's own declarations (ex_bump, tracked_malloc, ...) are "
                "already included")


def build(exercise: Exercise, source: str, sanitize: bool = False,
          cache: Path | None = None) -> Built:
    """Compile `source` for `exercise`, or reuse a cached build of exactly the same inputs
    whose bytes still match the hash recorded when it was built."""
    refuse_includes(source)
    cc = compiler()
    flags = FLAGS + (SANITIZE if sanitize else [])
    root = cache or cache_dir()
    glue = _glue(exercise, cc, flags, cache_dir())
    digest = _digest(source, UNIT, POLICY, *(_sha256(o) for o in glue))
    home = root / f"{exercise.name}-{digest}"
    so = home / ("cell" + EXTENSION_SUFFIXES[0])
    name = _module_name(exercise)
    if _verified(home, [so]):
        return Built(name, so, (home / "warnings.txt").read_text(), sanitize)
    with tempfile.TemporaryDirectory(prefix="mpex-build-") as tmp:
        work = Path(tmp)
        for obj in glue:
            shutil.copyfile(obj, work / obj.name)
        warnings = _compile_cell(exercise, source, work, cc, flags, so.name)
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        (home / "warnings.txt").write_text(warnings)
        shutil.copyfile(work / so.name, so)
        _record(home, [so])
    return Built(name, so, warnings, sanitize)


def _module_name(exercise: Exercise) -> str:
    """One module name per exercise: each check child loads exactly one build, once."""
    return f"_mpex_{exercise.name.replace('-', '_')}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record(home: Path, files: list[Path]) -> None:
    (home / "sha256").write_text("".join(f"{_sha256(f)} {f.name}\n" for f in files))


def _verified(home: Path, files: list[Path]) -> bool:
    """The cached files exist and hash to what was recorded when we built them; a truncated
    or replaced file is rebuilt, never loaded."""
    try:
        recorded = (home / "sha256").read_text()
        return recorded == "".join(f"{_sha256(f)} {f.name}\n" for f in files)
    except OSError:
        return False


_glue_lock = threading.Lock()


def _glue(exercise: Exercise, cc: str, flags: list[str], root: Path) -> list[Path]:
    """The objects every build of `exercise` links: cffi's module code for its declarations and
    the support library. Ours, not the student's: compiled once, outside the sandbox, into the
    user's cache (which no sandbox sees), checked against their hashes like every build."""
    from cffi import FFI
    from cffi.recompiler import make_c_source  # emit_c_code prints; this one is quiet

    support = csrc_dir() / "exercises"
    inputs = [exercise.cdef, cc, " ".join(flags)]
    inputs += [(support / f).read_text() for f in ("exercise_support.c", "exercise_support.h")]
    home = root / f"glue-{exercise.name}-{_digest(*inputs)}"
    objects = [home / "module.o", home / "support.o"]
    with _glue_lock:
        if _verified(home, objects):
            return objects
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        ffi = FFI()
        ffi.cdef(support_cdef() + exercise.cdef)
        make_c_source(ffi, _module_name(exercise), '#include "exercise_support.h"\n'
                      + exercise.cdef, str(home / "module.c"))
        include = [f"-I{support}", f"-I{sysconfig.get_paths()['include']}"]
        for source, obj in ((home / "module.c", objects[0]),
                            (support / "exercise_support.c", objects[1])):
            subprocess.run([cc, *flags, "-w", *include, "-c", str(source), "-o", str(obj)],
                           check=True, capture_output=True, timeout=120)
        _record(home, objects)
    return objects


def _compile_cell(exercise: Exercise, source: str, work: Path, cc: str, flags: list[str],
                  out: str) -> str:
    """Build the cell in `work` inside the sandbox; returns the warnings, raises CompileError."""
    (work / "student.c").write_text(source)
    (work / "student_unit.c").write_text(UNIT)
    env = {"CC": cc, "FLAGS": " ".join(flags), "WARNINGS": " ".join(WARNINGS),
           "SUPPORT": str(csrc_dir() / "exercises"), "OUT": out, "ASSEMBLY": ASSEMBLY}
    done = sandbox.run(["sh", "-c", SCRIPT], work, COMPILE_LIMITS, env=env)
    messages = _tidy(done.stderr.decode(errors="replace"))
    if done.wall_killed or done.status in (-9, -24):
        raise CompileError(f"the compiler was stopped after {COMPILE_LIMITS.wall_seconds:.0f} s "
                           f"(limit {COMPILE_LIMITS.cpu_seconds} s of CPU): does the code make "
                           "the compiler loop, or read from a device?")
    if done.status:
        raise CompileError(messages or f"the compiler failed (status {done.status})")
    if re.search(ASSEMBLY, (work / "mine.i").read_text(errors="replace")):
        raise CompileError("your cell uses assembly (asm): exercise cells are C only")
    symbols = [line.split()[-2:] for line in (work / "symbols.txt").read_text().splitlines()
               if len(line.split()) >= 2]
    # U is undefined, w and v are weak undefined (a weak declaration): all three are imports
    defined = {name for kind, name in symbols if kind not in "Uwv"}
    forbidden = sorted(name for kind, name in symbols if kind in "Uwv"
                       and name not in ALLOWED_CALLS and not ALLOWED_PATTERN.match(name))
    if forbidden:
        raise CompileError(f"your cell calls {_listing(forbidden)}: exercise cells may use the C "
                           "library's memory, string, number and printing functions, but nothing "
                           "that opens files, uses file descriptors, processes, signals or memory "
                           "mappings, and not Python's C API or the dynamic loader")
    code = work / "code.txt"
    if code.exists() and SYSCALL.search(code.read_text(errors="replace")):
        raise CompileError("your cell makes a system call of its own (inline assembly): exercise "
                           "cells may not")
    missing = [f for f in exercise.functions if f not in defined]
    if missing:
        raise CompileError(f"your cell must define {_listing(missing)} (declared as: "
                           f"{exercise.cdef.strip()}); check the spelling")
    return messages


def _listing(names: list[str]) -> str:
    return " and ".join(f"{n}()" for n in names)


def _tidy(messages: str) -> str:
    """Compiler output without the lines about our wrapper file."""
    return "\n".join(line for line in messages.strip().splitlines()
                     if not line.startswith("In file included from student_unit.c"))
