"""Compile a student's C for one exercise through cffi: the student's code in its own file
(messages say student.c:LINE), -O0 -g so bugs behave as taught, a module name from a hash of
everything that goes into it, and a cache so an unchanged cell compiles once."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mempools.cprogram import compiler
from mempools.errors import CompileError
from mempools.exercises.catalog import Exercise
from mempools.resources import csrc_dir

SUPPORT = csrc_dir() / "exercises"
SUPPORT_CDEF = """
typedef struct ex_bump { unsigned char *base; size_t capacity; size_t offset; } ex_bump;
typedef struct ex_free_block { struct ex_free_block *next; } ex_free_block;
typedef struct ex_fixed {
    unsigned char *blocks; size_t stride; size_t count; size_t high_water;
    ex_free_block *free_head; unsigned char *in_use;
} ex_fixed;
typedef struct ex_block { size_t offset; size_t size; int locked; } ex_block;
typedef struct ex_workload {
    int sizes_all_equal; int freed_all_at_once; int malloc_available; int must_not_fragment;
} ex_workload;
void *tracked_malloc(size_t size);
void tracked_free(void *block);
long tracked_live(void);
void tracked_reset(void);
void mp_not_implemented(void);
int mp_was_not_implemented(void);
void *ex_ref_bump_alloc(ex_bump *b, size_t size);
void *ex_ref_fixed_alloc(ex_fixed *p);
void free(void *block);
"""
# The file that is compiled: headers, then the student's file, which holds only the student's
# lines, so the compiler's messages say student.c:LINE and quote them.
# malloc is redirected to a wrapper that reports a NULL result, so a runaway allocation is named.
UNIT = ('#include <stdint.h>\n#include <stdlib.h>\n#include <string.h>\n'
        '#include "exercise_support.h"\n#define malloc(size) ex_malloc_counted(size)\n'
        '#include "student.c"\n')
FLAGS = ["-std=c11", "-O0", "-g"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]


@dataclass(frozen=True)
class Built:
    """A compiled exercise module: import `name` from the shared object at `path`."""

    name: str
    path: Path
    warnings: str
    sanitized: bool


def cache_dir() -> Path:
    root = os.environ.get("MEMPOOLS_CACHE") or Path.home() / ".cache" / "mempools"
    path = Path(root) / "exercises"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build(exercise: Exercise, source: str, sanitize: bool = False) -> Built:
    """Compile `source` for `exercise` (or reuse the cached build of the same inputs)."""
    cc = compiler()
    flags = FLAGS + (SANITIZE if sanitize else [])
    support = (SUPPORT / "exercise_support.c").read_text() + (SUPPORT / "exercise_support.h").read_text()
    digest = hashlib.sha256("\0".join([source, exercise.cdef, SUPPORT_CDEF, " ".join(flags),
                                       support]).encode()).hexdigest()[:16]
    name = f"_mpex_{exercise.name.replace('-', '_')}_{digest}"
    work = cache_dir() / name
    work.mkdir(exist_ok=True)
    student = work / "student.c"
    student.write_text(source)
    (work / "student_unit.c").write_text(UNIT)
    check = subprocess.run([cc, *FLAGS, "-Wall", "-Wextra", "-fsyntax-only", f"-I{SUPPORT}",
                            "student_unit.c"], capture_output=True, text=True, cwd=work)
    if check.returncode:
        raise CompileError(_tidy(check.stderr))
    built = sorted(work.glob(f"{name}*.so"))
    if not built:
        built = [_compile(exercise, name, work, flags, sanitize)]
    return Built(name, built[0], _tidy(check.stderr), sanitize)


def _tidy(messages: str) -> str:
    """Compiler output without the line that names our wrapper file."""
    return "\n".join(line for line in messages.strip().splitlines()
                     if not line.startswith("In file included from student_unit.c"))


def _compile(exercise: Exercise, name: str, work: Path, flags: list[str], sanitize: bool) -> Path:
    from cffi import FFI

    ffi = FFI()
    ffi.cdef(SUPPORT_CDEF + exercise.cdef)
    ffi.set_source(name, '#include "exercise_support.h"\n' + exercise.cdef,
                   sources=[str(work / "student_unit.c"), str(SUPPORT / "exercise_support.c")],
                   include_dirs=[str(SUPPORT), str(work)], extra_compile_args=flags,
                   extra_link_args=SANITIZE if sanitize else [])
    try:
        return Path(ffi.compile(tmpdir=str(work), verbose=False))
    except Exception as error:  # cffi/setuptools raise several kinds; all mean "did not build"
        raise CompileError(f"the exercise module did not build: {error}") from None
