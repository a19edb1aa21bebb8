"""capstone: your own malloc, replayed on the bundled traces and the hidden ones with the malloc
lab's checks after every op; each correct trace scores its utilisation; a short trace draws
your heap from your mm_walk next to the driver's live payloads."""

from pathlib import Path

from mempools.exercises.capstone import TRACE_POINTS, Trace, check_picture, check_trace
from mempools.exercises.tester import Checks, Tester
from mempools.resources import traces_dir

LESSON = "07"
TITLE = "Your own malloc (the capstone)"
DECLARATIONS = """int mm_init(void);
void *mm_malloc(size_t size);
void mm_free(void *ptr);
void *mm_realloc(void *ptr, size_t size);
"""
SUPPORT = "capstone_support"
ALLOWED_CALLS = {"mem_sbrk", "mem_heap_lo", "mem_heap_hi", "mem_heapsize", "mem_pagesize"}
ROWS_PER_CHECK = True
_HERE = Path(__file__).parent
FORBIDDEN_REASON = ("in the capstone your mm_malloc is the only allocator, so it takes all its "
                    "memory from mem_sbrk() (libc's malloc, calloc, realloc, free, strdup, mmap "
                    "and sbrk are not available to it)")
FORBIDDEN_CALLS = {symbol: name for name in (
    "malloc", "calloc", "realloc", "free", "reallocarray", "aligned_alloc", "posix_memalign",
    "memalign", "valloc", "pvalloc", "strdup", "strndup", "mmap", "mremap", "munmap", "sbrk",
    "brk") for symbol in (name, f"ex_{name}")}
FORBIDDEN_CALLS |= {f"tracked_{n}": f"tracked_{n}" for n in ("malloc", "free")}
FORBIDDEN_CALLS |= {f"__libc_{n}": f"__libc_{n}" for n in ("malloc", "calloc", "realloc", "free",
                                                          "memalign")}

#: the bundled traces (the notebook lists them), then the hidden ones only the checks replay
TRACES = [Trace.read(p) for p in sorted(traces_dir().glob("*.rep"))]
HIDDEN = [Trace.read(p) for p in sorted(_HERE.glob("hidden-*.rep"))]
PICTURE = Trace.read(_HERE / "picture.trace")
CHECKS = Checks()


def _trace_check(trace: Trace) -> None:
    @CHECKS(trace.name, points=TRACE_POINTS)
    def _replay(t: Tester) -> None:
        check_trace(t, trace)


for _trace in TRACES + HIDDEN:
    _trace_check(_trace)


@CHECKS("your heap, drawn from mm_walk (not graded)", points=0)
def _picture(t: Tester) -> None:
    check_picture(t, PICTURE)
