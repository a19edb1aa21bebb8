"""The cffi builder. The C headers in csrc/ are the one statement of the C declarations: this
module reads them (dropping comments, include guards and inline bodies, and letting the C
compiler supply every #define's value), and adds only what the headers cannot say."""

import re
from pathlib import Path

from cffi import FFI

SOURCES = [
    "pool_common.c",
    "heap_probe.c",
    "bump_pool.c",
    "fixed_pool.c",
    "embedded_pool.c",
    "bench.c",
    "fault_injection.c",
    "naive/naive_pools.c",
    "naive/bug_hunt.c",
    "free_list_pool.c",
    "free_list_bench.c",
]
HEADERS = [
    "pool_common.h",
    "heap_probe.h",
    "bump_pool.h",
    "fixed_pool.h",
    "fault_injection.h",
    "embedded_pool.h",
    "bench.h",
    "naive/naive_pools.h",
    "naive/bug_hunt.h",
    "free_list_pool.h",
    "free_list_bench.h",
]
# The flags the course promises; warnings in our C fail the build.
C_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]

# what the headers cannot say: the libc calls lessons make directly, and the Python callbacks
EXTRA = """
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *block, size_t size);
void free(void *block);
void *memset(void *s, int c, size_t n);
extern "Python" void mp_collect_region(size_t, size_t, int, long, void *);
extern "Python" void mp_section_enter(void *);
extern "Python" void mp_section_exit(void *);
"""


def _inline_functions_declared(text: str) -> str:
    """Each `static inline` definition becomes its prototype (body dropped): cffi declares, it
    does not define, and calls the header's inline function (the pools' fast paths)."""
    out, start = [], 0
    for match in re.finditer(r"static inline([^;{]*)\{", text):
        if match.start() < start:
            continue
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out.append(text[start:match.start()] + match.group(1).strip() + ";")
        start = i
    return "".join(out) + text[start:]


def declarations(header: str) -> str:
    """The cdef text of one header: comments, preprocessor lines and inline bodies dropped;
    a numeric `#define NAME value` becomes `#define NAME ...` and an array length named by a macro
    becomes `[...]`, so the values always come from the C compiler."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", header, flags=re.S)
    text = _inline_functions_declared(text)
    lines = []
    for line in text.splitlines():
        define = re.match(r"\s*#\s*define\s+([A-Za-z_]\w*)\s+(\S.*)", line)
        if define and "__" not in define.group(2):  # a number, not a compiler attribute
            lines.append(f"#define {define.group(1)} ...")
        elif not line.lstrip().startswith("#"):
            lines.append(re.sub(r"\[\s*[A-Za-z_]\w*\s*\]", "[...]", line))
    return "\n".join(lines)


CSRC = Path(__file__).resolve().parents[2] / "csrc"  # the builder runs from a source tree
CDEF = EXTRA + "\n".join(declarations((CSRC / name).read_text()) for name in HEADERS)

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "mempools._native",
    "#include <stdlib.h>\n#include <string.h>\n"
    + "".join(f'#include "{name}"\n' for name in HEADERS),
    # relative to setup.py, as setuptools wants for sdists and editable installs
    sources=[f"csrc/{name}" for name in SOURCES],
    include_dirs=["csrc"],
    extra_compile_args=C_FLAGS,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
