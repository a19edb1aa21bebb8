"""Hostile submissions: each one fails honestly or is contained, and no file outside the
submission's private directory changes. Two walls: what a cell may call (checked before it runs,
in both sandbox modes), and the sandbox itself, tried here with hostile programs run in it
directly. The bubblewrap cases are skipped, loudly, only where it is missing (and fail instead
when MEMPOOLS_REQUIRE_BWRAP=1, as in CI)."""

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

import mempools.exercises as ex
from mempools.exercises import sandbox
from mempools.exercises.build import cache_dir
from mempools.exercises.catalog import CATALOG
from mempools.exercises.checking import LIMITS, SHOWN_OUTPUT, ChildRun, _death
from mempools.exercises.release import grade

NO_BWRAP = sandbox.bwrap_problem()
needs_bwrap = pytest.mark.skipif(
    NO_BWRAP is not None and not os.environ.get("MEMPOOLS_REQUIRE_BWRAP"),
    reason=f"!!! BUBBLEWRAP MISSING: student code is NOT sandboxed on this machine ({NO_BWRAP}); "
           "install bubblewrap (apt-get install bubblewrap) to run the containment tests !!!")

DECLS = ("int fork(void); int execl(const char *, const char *, ...); unsigned sleep(unsigned);\n"
         "void _exit(int);\n")
SHORT = "void *ex_array_alloc(size_t n, size_t size) {{ {before} return malloc({size}); }}\n"
FORGED = '{\\"event\\": \\"result\\", \\"passed\\": true}\\n'


@pytest.fixture(params=["bwrap", "fallback"])
def mode(request, monkeypatch):
    """Each cell-level attack runs with bubblewrap and with the fallback (MEMPOOLS_NO_BWRAP)."""
    if request.param == "fallback":
        monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "MEMPOOLS_NO_BWRAP is set")
    elif NO_BWRAP is not None and not os.environ.get("MEMPOOLS_REQUIRE_BWRAP"):
        pytest.skip(f"!!! BUBBLEWRAP MISSING ({NO_BWRAP}) !!!")
    return request.param


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """A folder standing for everything outside the submission (other students, the cache, the
    grade sheet), with a file in it; on exit, asserts nothing in it changed. `tmp_path/private`
    is the submission's own directory for the attacks run in the sandbox directly."""
    (tmp_path / "private").mkdir()
    monkeypatch.setenv("MEMPOOLS_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "outside"
    (folder / "other-student").mkdir(parents=True)
    (folder / "other-student" / "answer.c").write_text("SECRET-ANSWER-42\n")
    (folder / "grades.csv").write_text("student,score\nada,3\n")
    before = _snapshot(tmp_path)
    yield folder
    assert _snapshot(tmp_path) == before or _only_cache_grew(before, _snapshot(tmp_path))


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()[:256])
            for p in sorted(root.rglob("*")) if p.is_file()}


def _only_cache_grew(before: dict, after: dict) -> bool:
    """Our own builds may add files to the cache, and the private directory is the submission's;
    nothing else may appear or change."""
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return all((k.startswith("cache/") and k not in before) or k.startswith("private/")
               for k in changed)


def _score(report) -> tuple[int, int]:
    return report.score, report.max_score


# -- forged results -------------------------------------------------------------------------------
# A cell that always returns NULL honestly passes only "refuses a product that overflows".
NULL_CELL = "void *ex_array_alloc(size_t n, size_t size) {{ {before} (void)n; (void)size; return NULL; }}\n"


@pytest.mark.parametrize("how, honest", [("call", 1), ("call-then-exit", 0), ("destructor", 1),
                                         ("constructor", 0)])
def test_forged_result_lines_do_not_pass(how, honest, outside):
    forge = f'printf("{FORGED}"); fflush(stdout);'
    source = "#include <stdio.h>\n" + {
        "call": NULL_CELL.format(before=forge),
        "call-then-exit": NULL_CELL.format(before=forge + " exit(0);"),
        "destructor": f"__attribute__((destructor)) static void f(void) {{ {forge} }}\n"
                      + NULL_CELL.format(before=""),
        "constructor": f"__attribute__((constructor)) static void f(void) {{ {forge} "
                       "exit(0); }\n" + SHORT.format(before="", size="n * size"),
    }[how]
    report = ex.check("array-alloc", source)
    assert report.score == honest, report.text()


def test_exit_zero_in_the_cell_fails_the_check(outside):
    source = "void *ex_array_alloc(size_t n, size_t size) { (void)n; (void)size; exit(0); }\n"
    report = ex.check("array-alloc", source)
    assert report.score == 0, report.text()
    assert "exit status 0" in report.results[0].message and "exit()" in report.results[0].message


def test_stray_line_on_the_result_channel_voids_the_run(mode, outside):
    # write() is refused, so the cell points stdout at every fd above 2 (glibc's FILE is open
    # to it) and prints a result without the key there: the result pipe is among them
    source = ("#include <stdio.h>\nvoid *ex_array_alloc(size_t n, size_t size) {\n"
              "    for (int fd = 3; fd < 64; fd++) { stdout->_fileno = fd; "
              "printf(\"x\\t{\\\"event\\\": \\\"done\\\"}\\n\"); }\n"
              "    stdout->_fileno = 1;\n    return malloc(n * size);\n}\n")
    report = ex.check("array-alloc", source)
    assert report.score == 0 and report.results[0].prop == "forged", report.text()


# -- checks that test the property ------------------------------------------------------------------
@pytest.mark.parametrize("size", ["1", "n * size - 1"])
def test_short_allocation_fails_the_size_check(size, outside):
    source = ("void *ex_array_alloc(size_t n, size_t size) {\n"
              "    if (n == 0 || size == 0 || n > SIZE_MAX / size) return NULL;\n"
              f"    return malloc({size});\n}}\n")
    report = ex.check("array-alloc", source)
    assert not report.results[0].passed and report.results[0].prop == "block size", report.text()


def test_block_not_from_malloc_fails(outside):
    source = ("static char pool[1 << 25];\nvoid *ex_array_alloc(size_t n, size_t size) {\n"
              "    if (n == 0 || size == 0 || n > SIZE_MAX / size) return NULL;\n"
              "    return pool;\n}\n")
    report = ex.check("array-alloc", source)
    assert report.results[0].prop == "block from malloc", report.text()


def test_leak_cannot_be_hidden_by_a_reset(outside):
    leaky = CATALOG["find-leak"].solution.replace("tracked_free(copy);\n            /*", "/*")
    reset = leaky.replace("return -1;\n        }", "tracked_reset(); return -1;\n        }", 1)
    report = ex.check("find-leak", reset)
    assert report.score == 0 and "tracked_reset" in report.error, report.text()


def test_leak_cannot_be_hidden_by_freeing_a_foreign_pointer(outside):
    leaky = CATALOG["find-leak"].solution.replace(
        "tracked_free(copy);\n            /* ### END", "tracked_free(copy + 1);\n            /* ### END")
    report = ex.check("find-leak", leaky)
    failed = {r.prop for r in report.results if not r.passed}
    assert failed == {"free what you allocated"}, report.text()


HIDDEN_LEAK = r"""#include <stdint.h>
static char anchor[8];
static size_t *live_counter(void)
{   /* the word after our own statics that grows by one when a block is handed out */
    size_t *w = (size_t *)(((uintptr_t)anchor + 64) & ~(uintptr_t)7), before[4096];
    for (int i = 0; i < 4096; i++) before[i] = w[i];
    void *p = tracked_malloc(1);
    size_t *found = 0;
    for (int i = 0; i < 4096 && !found; i++) if (w[i] == before[i] + 1) found = &w[i];
    tracked_free(p);
    return found;
}
int ex_word_count(const char *text)
{
    size_t n = strlen(text);
    char *copy = tracked_malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, text, n + 1);
    int words = 0;
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) {
        if (strcmp(w, "STOP") == 0) {
            size_t *live = live_counter();
            if (live) (*live)--;   /* leak the copy, and take it off the allocator's count */
            return -1;
        }
        words++;
    }
    tracked_free(copy);
    return words;
}
"""


def test_leak_cannot_be_hidden_by_overwriting_the_allocators_count(mode, outside):
    # Only allowed calls; it scored 3/3 while the checks trusted the allocator's counters in
    # this process. The checks now count from the allocator's ledger file.
    report = ex.check("find-leak", HIDDEN_LEAK)
    assert [r.passed for r in report.results] == [True, True, False], report.text()
    assert report.results[2].prop == "no leak"


def test_heap_overflow_fails_under_the_sanitizer(outside):
    source = ("void *ex_array_alloc(size_t n, size_t size)\n{\n"
              "    if (n == 0 || size == 0 || n > SIZE_MAX / size) return NULL;\n"
              "    char *b = malloc(n * size);\n    b[n * size] = 1;\n    return b;\n}\n")
    report = ex.check("array-alloc", source, sanitize=True)
    first = report.results[0]
    assert not first.passed and first.prop == "sanitizer", report.text()
    assert "heap-buffer-overflow" in first.message and "student.c:5" in first.message


def test_undefined_behaviour_fails_under_the_sanitizer(outside):
    source = ("void *ex_array_alloc(size_t n, size_t size)\n{\n    int big = 2147483647;\n"
              "    big += (int)n;\n    return malloc(n * size + (size_t)(big - big));\n}\n")
    report = ex.check("array-alloc", source, sanitize=True)
    assert report.results[0].prop == "sanitizer", report.text()
    assert "student.c:4" in report.results[0].message


def test_assert_works_in_student_code(outside):
    source = ("#include <assert.h>\nvoid *ex_array_alloc(size_t n, size_t size)\n{\n"
              "    assert(n > 1000);\n    return malloc(n * size);\n}\n")
    report = ex.check("array-alloc", source)
    assert "SIGABRT" in report.results[0].message and "Assertion" in report.results[0].message


# -- the first wall: what a cell may call ---------------------------------------------------------
KEY_SEARCH = r'''#include <stdio.h>
#include <string.h>
long write(int, const void *, unsigned long);
static int hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
static char key[49];
static void line(int fd, const char *body)
{ char l[200]; int n = snprintf(l, sizeof l, "%s\t%s\n", key, body); write(fd, l, (unsigned long)n); }
void *ex_array_alloc(size_t n, size_t size)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char text[512];
    while (maps && fgets(text, sizeof text, maps)) {   /* every writable mapping */
        unsigned long a, b; char perm[8];
        if (sscanf(text, "%lx-%lx %7s", &a, &b, perm) != 3 || perm[1] != 'w' || strstr(text, "[v"))
            continue;
        for (char *p = (char *)a + 1; p + 49 < (char *)b; p++) {   /* 48 hex digits: the key */
            int k = 0;
            while (k < 49 && hex(p[k])) k++;
            if (k == 48 && !hex(p[-1])) memcpy(key, p, 48);
        }
    }
    FILE *cmd = fopen("/proc/self/cmdline", "r");   /* its last word: the result pipe */
    char args[4096]; size_t got = cmd ? fread(args, 1, sizeof args, cmd) : 0; char *last = args;
    for (char *p = args; p < args + got; p += strlen(p) + 1) last = p;
    int fd = atoi(last);
    line(fd, "{\"event\": \"result\", \"index\": 0, \"passed\": true}");
    for (int i = 1; i < 3; i++) {
        char b[100];
        snprintf(b, sizeof b, "{\"event\": \"start\", \"index\": %d}", i); line(fd, b);
        snprintf(b, sizeof b, "{\"event\": \"result\", \"index\": %d, \"passed\": true}", i); line(fd, b);
    }
    line(fd, "{\"event\": \"done\"}");
    exit(0);
    (void)n; (void)size;
}
'''


def test_searching_memory_for_the_key_is_refused(mode, outside):
    # Before the allowlist this cell scored 3/3 in both modes: it found the key in the
    # checker's memory through /proc/self/maps and wrote a whole keyed run to the result pipe.
    report = ex.check("array-alloc", KEY_SEARCH)
    assert report.score == 0, report.text()
    assert "fopen()" in report.error and "write()" in report.error


@pytest.mark.parametrize("name, call", [
    ("open", 'int open(const char *, int, ...); (void)open("/proc/self/mem", 2);'),
    ("read", "long read(int, void *, unsigned long); char b[8]; (void)read(3, b, 8);"),
    ("write", 'long write(int, const void *, unsigned long); (void)write(4, "x", 1);'),
    ("fopen", '(void)fopen("/proc/self/maps", "r");'),
    ("freopen", '(void)freopen("/proc/self/maps", "r", stdin);'),
    ("fork", "int fork(void); (void)fork();"),
    ("execl", 'int execl(const char *, const char *, ...); (void)execl("/bin/sh", "sh", (char *)0);'),
    ("ptrace", "long ptrace(long, int, void *, void *); (void)ptrace(16, 1, 0, 0);"),
    ("process_vm_readv", "long process_vm_readv(int, const void *, unsigned long, const void *, "
                         "unsigned long, unsigned long); (void)process_vm_readv(1, 0, 0, 0, 0, 0);"),
    ("syscall", "long syscall(long, ...); (void)syscall(39);"),
    ("mmap", "void *mmap(void *, size_t, int, int, int, long); (void)mmap(0, 4096, 7, 34, -1, 0);"),
    ("mprotect", "int mprotect(void *, size_t, int); (void)mprotect(0, 0, 7);"),
    ("signal", "void (*signal(int, void (*)(int)))(int); (void)signal(11, (void (*)(int))1);"),
    ("kill", "int kill(int, int); (void)kill(-1, 0);"),
    ("setrlimit", "int setrlimit(int, const void *); (void)setrlimit(0, 0);"),
    ("socket", "int socket(int, int, int); (void)socket(1, 1, 0);"),
    ("dup2", "int dup2(int, int); (void)dup2(1, 5);"),
    ("system", 'int system(const char *); (void)system("true");'),
    ("thrd_create", "int thrd_create(void *, int (*)(void *), void *); (void)thrd_create(0, 0, 0);"),
    ("PyRun_SimpleString", 'int PyRun_SimpleString(const char *); (void)PyRun_SimpleString("1");'),
    ("dlsym", 'void *dlsym(void *, const char *); (void)dlsym((void *)0, "PyRun_SimpleString");'),
    # a weak declaration is listed as `w`, not `U`: it scored 3/3 after reading /proc/self
    ("read", "extern long read(int, void *, unsigned long) __attribute__((weak)); "
             "char b[8]; (void)read(0, b, 8);"),
    ("environ", "extern char **environ __attribute__((weak)); char **e = environ; (void)e;"),
])
def test_calls_that_reach_outside_the_cell_are_refused(name, call, mode, outside):
    source = ("#include <stdio.h>\nvoid *ex_array_alloc(size_t n, size_t size) {\n"
              f"    {call}\n    return malloc(n * size);\n}}\n")
    report = ex.check("array-alloc", source)
    assert report.score == 0 and f"your cell calls {name}()" in report.error, report.text()


@pytest.mark.parametrize("assembly", [
    # a raw system call; the same spelt through a macro; .incbin, which read another user's
    # file into the cell at compile time under the fallback (3/3, and the file printed)
    'static long raw(long nr) { long r; __asm__ volatile ("syscall" : "=a"(r) : "a"(nr) : "rcx", '
    '"r11", "memory"); return r; }\n',
    '#define A(x) __as##x\nstatic void raw(void) { A(m__) volatile ("syscall"); }\n',
    '__asm__(".section .rodata\\n.globl stolen\\nstolen:\\n.incbin \\"{answer}\\"\\n.text\\n");\n'])
def test_assembly_in_a_cell_is_refused(assembly, mode, outside):
    answer = outside / "other-student" / "answer.c"
    source = (assembly.replace("{answer}", str(answer))
              + "void *ex_array_alloc(size_t n, size_t size) { return malloc(n * size); }\n")
    report = ex.check("array-alloc", source)
    assert report.score == 0 and "assembly" in report.error, report.text()
    assert "SECRET" not in report.text()


def test_a_flood_of_output_is_capped_and_the_checks_still_run(mode, outside):
    source = ("#include <stdio.h>\n#include <string.h>\n"
              "void *ex_array_alloc(size_t n, size_t size) {\n"
              "    static char line[1024]; memset(line, 'x', sizeof line - 1);\n"
              "    for (int i = 0; i < 16384; i++) { puts(line); fputs(line, stderr); }\n"
              "    if (n == 0 || size == 0 || n > SIZE_MAX / size) return NULL;\n"
              "    return malloc(n * size);\n}\n")
    report = ex.check("array-alloc", source)
    assert report.passed, report.text()
    assert len(report.output) < SHOWN_OUTPUT + 100 and "more characters not shown" in report.output


def test_the_interactive_magic_survives_hostile_cells(mode, outside):
    for cell in (KEY_SEARCH, "void *ex_array_alloc(size_t n, size_t size) "
                             "{ (void)n; (void)size; return *(void **)8; }\n"):
        report = ex.run_cell("array-alloc", cell)
        assert report is not None and report.score == 0
    assert ex.run_cell("array-alloc", CATALOG["array-alloc"].solution).passed


# -- the second wall: the sandbox, tried with hostile programs run in it directly ------------------
def _in_sandbox(code: str, private: Path) -> sandbox.Outcome:
    """Run hostile Python in the sandbox a check runs in: any program, not only a cell."""
    return sandbox.run([sys.executable, "-I", "-c", code], private, LIMITS)


def _attempt(what: str, code: str) -> str:
    """Python that prints `what: OK` if `code` succeeds, else `what: <error>`."""
    return (f"try:\n    {code}\n    print({what!r} + ': OK')\n"
            f"except Exception as e:\n    print({what!r} + ': ' + type(e).__name__)\n")


@needs_bwrap
def test_writes_outside_the_private_directory_change_nothing(outside):
    private = outside.parent / "private"
    victim = outside / "grades.csv"
    code = "".join([
        _attempt("overwrite", f"open({str(victim)!r}, 'w').write('=HACKED')"),
        _attempt("create", f"open({str(outside / 'new.txt')!r}, 'w')"),
        _attempt("cache", f"open({str(cache_dir() / 'poison')!r}, 'w')"),
        _attempt("symlink", f"import os; os.symlink({str(victim)!r}, 'l'); open('l', 'w').write('x')"),
        _attempt("hardlink", f"import os; os.link({str(victim)!r}, 'h'); open('h', 'w').write('x')"),
        _attempt("private", "open('mine.txt', 'w').write('ok')")])
    out = _in_sandbox(code, private).stdout.decode()
    assert "private: OK" in out and out.count(": OK") == 1, out
    assert victim.read_text() == "student,score\nada,3\n"


@needs_bwrap
def test_another_submission_cannot_be_read(outside):
    answer = outside / "other-student" / "answer.c"
    out = _in_sandbox(_attempt("read", f"print(open({str(answer)!r}).read())"),
                      outside.parent / "private").stdout.decode()
    assert "read: FileNotFoundError" in out and "SECRET-ANSWER-42" not in out, out


@needs_bwrap
def test_a_forked_setsid_child_does_not_outlive_the_run(outside):
    late = outside.parent / "private" / "late.txt"
    marker = f"31.{os.getpid()}"
    code = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n"
            f"    os.execv('/bin/sh', ['sh', '-c', 'sleep {marker}; : > {late}'])\n"
            "time.sleep(0.2)\n")
    _in_sandbox(code, outside.parent / "private")
    time.sleep(0.5)
    survivors = [p for p in Path("/proc").glob("[0-9]*/cmdline") if marker.encode() in _read(p)]
    assert not survivors and not late.exists()


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


@needs_bwrap
def test_the_grader_is_out_of_reach(outside):
    # its own PID namespace: no signal, no ptrace, no /proc view of the grader or its key
    me = os.getpid()
    code = "".join([
        _attempt("signal", f"import os; os.kill({me}, 0)"),
        _attempt("proc", f"open('/proc/{me}/mem', 'rb')"),
        "print('pid1:', open('/proc/1/cmdline', 'rb').read().split(b'\\0')[0].decode())\n",
        _attempt("sys", "import os; assert os.listdir('/sys')"),
        _attempt("shm", f"open('/dev/shm/mempools-{me}', 'w')"),
        _attempt("tmp", f"open('/tmp/mempools-{me}', 'w')")])
    out = _in_sandbox(code, outside.parent / "private").stdout.decode()
    assert "signal: ProcessLookupError" in out and "proc: FileNotFoundError" in out, out
    assert "pid1: bwrap" in out and "sys: OK" not in out, out
    assert "shm: OK" in out and not Path(f"/dev/shm/mempools-{me}").exists()  # private copies
    assert "tmp: OK" in out and not Path(f"/tmp/mempools-{me}").exists()


@needs_bwrap
def test_no_network_not_even_loopback_or_abstract_sockets(outside):
    with socket.socket() as tcp, socket.socket(socket.AF_UNIX) as unix:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        abstract = f"\0mempools-test-{os.getpid()}"
        unix.bind(abstract)
        unix.listen()
        port = tcp.getsockname()[1]
        code = ("import socket\n"
                + _attempt("tcp", f"socket.create_connection(('127.0.0.1', {port}), timeout=2)")
                + _attempt("unix", f"socket.socket(socket.AF_UNIX).connect({abstract!r})"))
        out = _in_sandbox(code, outside.parent / "private").stdout.decode()
        assert "tcp: OK" not in out and "unix: OK" not in out and out.count(":") == 2, out
        for server in (tcp, unix):
            server.setblocking(False)
            with pytest.raises(BlockingIOError):
                server.accept()


@pytest.mark.parametrize("fallback", [False, True])
def test_limits_cannot_be_raised(fallback, outside, monkeypatch):
    if fallback:
        monkeypatch.setattr(sandbox, "bwrap_problem", lambda: "MEMPOOLS_NO_BWRAP is set")
    elif NO_BWRAP is not None and not os.environ.get("MEMPOOLS_REQUIRE_BWRAP"):
        pytest.skip(f"!!! BUBBLEWRAP MISSING ({NO_BWRAP}) !!!")
    code = "".join(_attempt(name, f"import resource; resource.setrlimit(resource.{name}, "
                                  "(resource.RLIM_INFINITY, resource.RLIM_INFINITY))")
                   for name in ("RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE"))
    out = _in_sandbox(code, outside.parent / "private").stdout.decode()
    assert out.count(": ValueError") == 3, out


def test_ignored_sigxcpu_is_named_truthfully(outside):
    # signal() is refused in a cell; any program in the sandbox can still ignore SIGXCPU
    code = "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True: pass\n"
    limits = sandbox.Limits(cpu_seconds=1, wall_seconds=30)
    outcome = sandbox.run([sys.executable, "-I", "-c", code], outside.parent / "private", limits)
    assert outcome.signal_name == "SIGKILL" and not outcome.wall_killed
    prop, message = _death(ChildRun(outcome=outcome, limits=limits), "ex_array_alloc(10, 8)")
    assert prop == "timeout" and "hard CPU-time limit (2 s)" in message, message
    assert "30 s" not in message


@needs_bwrap
def test_a_submission_cannot_poison_the_cache_for_a_regrade(outside):
    honest = CATALOG["array-alloc"].solution
    assert ex.check("array-alloc", honest).passed
    cached = sorted((Path(os.environ["MEMPOOLS_CACHE"]) / "exercises").rglob("*.*"))
    before = {p: p.read_bytes() for p in cached}
    code = "".join(_attempt(f"poison {i}", f"open({str(p)!r}, 'w').write('poison')")
                   for i, p in enumerate(cached))
    out = _in_sandbox(code, outside.parent / "private").stdout.decode()
    assert ": OK" not in out, out
    assert {p: p.read_bytes() for p in cached} == before
    assert ex.check("array-alloc", honest).passed


@pytest.mark.parametrize("line", ['#include "/dev/stdin"', "#include </etc/passwd>",
                                  '??=include "/etc/passwd"', "#  include_next <stdio.h>",
                                  '#define F "/etc/passwd"\n#include F',
                                  '#line 1 "/usr/include/stdio.h"', '# 1 "/usr/include/stdio.h"'])
def test_include_outside_the_cell_is_refused_quickly(line, outside):
    start = time.monotonic()
    report = ex.check("array-alloc", f"{line}\n" + CATALOG["array-alloc"].solution)
    assert time.monotonic() - start < 10
    assert "is not allowed" in report.error and "student.c:" in report.error
    assert "root:" not in report.error and report.score == 0


# -- grading a folder of hostile notebooks -----------------------------------------------------------
def _notebook(*cells: tuple[str, str]) -> str:
    return json.dumps({"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                                  "execution_count": None, "source": f"%%exercise {n}\n{src}"}
                                 for n, src in cells], "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5})


def _write(tmp_path: Path, files: dict[str, str | None]) -> Path:
    """A folder of {relative path: notebook text (None: a symlink to bob's)}."""
    subs = tmp_path / "submitted"
    for rel, text in files.items():
        path = subs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            path.symlink_to(subs / "bob" / "01-Exercises.ipynb")
        else:
            path.write_text(text)
    return subs


def _grade(subs: Path) -> dict[tuple[str, str], object]:
    rows = grade(subs, subs.parent / "grades.csv", jobs=2, sanitize=False)
    return {(g.student, g.exercise): g for g in rows}


def test_hostile_notebook_files_give_unreadable_rows_and_the_run_goes_on(tmp_path):
    honest = _notebook(("array-alloc", CATALOG["array-alloc"].solution))
    subs = _write(tmp_path, {
        "bob/01-Exercises.ipynb": honest,
        "deep/01-Exercises.ipynb": "[" * 200_000 + "]" * 200_000,  # RecursionError aborted grade
        "eve/01-Exercises.ipynb": None,  # a symlink: eve scored bob's work
        "huge/01-Exercises.ipynb": "",
        "many/01-Exercises.ipynb": _notebook(*((f"no-such-{i}", "") for i in range(5000))),
    })
    os.truncate(subs / "huge" / "01-Exercises.ipynb", 2**31)  # sparse: 2 GiB read into memory
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / "01-Exercises.ipynb")  # reading it blocked the run for ever
    table = _grade(subs)
    assert table[("bob", "array-alloc")].status == "passed"
    unknown = [row for (student, _), row in table.items() if student == "many"
               if row.status == "unknown exercise"]
    assert len(unknown) == 10 and "4990 more" in unknown[-1].detail
    for student, why in [("deep", "RecursionError"), ("eve", "symbolic link"), ("huge", "MiB"),
                         ("fifo", "not a regular file")]:
        row = table[(student, "array-alloc")]
        assert (row.score, row.status) == (0, "unreadable") and why in row.detail, row


def test_one_student_cannot_add_rows_to_everyone_else(tmp_path):
    other = next(n for n, e in CATALOG.items() if e.lesson != "01")
    table = _grade(_write(tmp_path, {
        "ann/01-Exercises.ipynb": _notebook(("array-alloc", "int x;")),
        "bob/01-Exercises.ipynb": _notebook(("array-alloc", "int x;")),
        "eve/01-Exercises.ipynb": _notebook(("array-alloc", "int x;"), (other, "int x;")),
        "eve/09-Anything.ipynb": _notebook(),
    }))
    lesson_01 = {n for n, e in CATALOG.items() if e.lesson == "01"}
    for student in ("ann", "bob"):
        assert {e for s, e in table if s == student} == lesson_01
    assert (("eve", other)) in table and table[("eve", other)].status == "did not compile"


def test_names_with_newlines_and_formulas_stay_one_row_each(tmp_path):
    import csv

    _grade(_write(tmp_path, {"\n=cmd|' -C calc'!A0/01-\n@x.ipynb":
                             _notebook(("array-alloc", "int x;"))}))
    rows = list(csv.DictReader((tmp_path / "grades.csv").open(newline="")))
    assert len(rows) == len([n for n, e in CATALOG.items() if e.lesson == "01"])
    assert {r["exercise"] for r in rows} == {n for n, e in CATALOG.items() if e.lesson == "01"}
    assert all(r["student"] == "'\n=cmd|' -C calc'!A0" for r in rows)
    assert [r["notebook"] for r in rows if r["exercise"] == "array-alloc"] == [
        "'\n=cmd|' -C calc'!A0/01-\n@x.ipynb"]


def test_a_build_from_an_older_refusal_policy_is_not_reused(outside, monkeypatch):
    # The weak-declaration cell above was cached while `w` symbols were let through; with the
    # policy outside the cache key, the stricter check never saw it again.
    from mempools.exercises import build

    source = CATALOG["array-alloc"].solution
    first = build.build(CATALOG["array-alloc"], source)
    monkeypatch.setattr(build, "POLICY", build.POLICY + " open")
    assert build.build(CATALOG["array-alloc"], source).path != first.path
