"""Hostile submissions: each one fails honestly or is contained, and no file outside the
submission's private directory changes. The containment cases need bubblewrap; they are skipped,
loudly, only where it is missing (and fail instead when MEMPOOLS_REQUIRE_BWRAP=1, as in CI)."""

import os
import time
from pathlib import Path

import pytest

import mempools.exercises as ex
from mempools.exercises import sandbox
from mempools.exercises.build import cache_dir
from mempools.exercises.catalog import CATALOG

NO_BWRAP = sandbox.bwrap_problem()
needs_bwrap = pytest.mark.skipif(
    NO_BWRAP is not None and not os.environ.get("MEMPOOLS_REQUIRE_BWRAP"),
    reason=f"!!! BUBBLEWRAP MISSING: student code is NOT sandboxed on this machine ({NO_BWRAP}); "
           "install bubblewrap (apt-get install bubblewrap) to run the containment tests !!!")

DECLS = ("int fork(void); int execl(const char *, const char *, ...); unsigned sleep(unsigned);\n"
         "void _exit(int);\n")
SHORT = "void *ex_array_alloc(size_t n, size_t size) {{ {before} return malloc({size}); }}\n"
FORGED = '{\\"event\\": \\"result\\", \\"passed\\": true}\\n'


@pytest.fixture
def outside(tmp_path, monkeypatch):
    """A folder standing for everything outside the submission (other students, the cache, the
    grade sheet), with a file in it; on exit, asserts nothing in it changed."""
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
    """Our own builds may add files to the cache; nothing else may appear or change."""
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return all(k.startswith("cache/") and k not in before for k in changed)


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
        "constructor": DECLS + f"__attribute__((constructor)) static void f(void) {{ {forge} "
                       "_exit(0); }\n" + SHORT.format(before="", size="n * size"),
    }[how]
    report = ex.check("array-alloc", source)
    assert report.score == honest, report.text()


def test_exit_zero_in_the_cell_fails_the_check(outside):
    source = "void *ex_array_alloc(size_t n, size_t size) { (void)n; (void)size; exit(0); }\n"
    report = ex.check("array-alloc", source)
    assert report.score == 0, report.text()
    assert "exit status 0" in report.results[0].message and "exit()" in report.results[0].message


def test_stray_line_on_the_result_channel_voids_the_run(outside):
    # the cell finds the result pipe (any open fd above 2) and writes a result without the key
    source = (DECLS + "long write(int, const void *, unsigned long);\n"
              "void *ex_array_alloc(size_t n, size_t size) {\n"
              "    for (int fd = 3; fd < 64; fd++) write(fd, \"x\\t{}\\n\", 5);\n"
              "    return malloc(n * size);\n}\n")
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


# -- containment ------------------------------------------------------------------------------------
@needs_bwrap
def test_writes_outside_the_private_directory_change_nothing(outside):
    victim = outside / "grades.csv"
    source = ("#include <stdio.h>\nvoid *ex_array_alloc(size_t n, size_t size) {\n"
              f'    FILE *f = fopen("{victim}", "w"); if (f) {{ fputs("=HACKED", f); fclose(f); }}\n'
              f'    f = fopen("{outside}/new.txt", "w"); if (f) fclose(f);\n'
              f'    f = fopen("{cache_dir()}/poison", "w"); if (f) fclose(f);\n'
              "    if (n == 0 || size == 0 || n > SIZE_MAX / size) return NULL;\n"
              "    return malloc(n * size);\n}\n")
    ex.check("array-alloc", source)
    assert victim.read_text() == "student,score\nada,3\n"
    assert not (outside / "new.txt").exists()


@needs_bwrap
def test_another_submission_cannot_be_read(outside):
    answer = outside / "other-student" / "answer.c"
    source = ("#include <stdio.h>\nvoid *ex_array_alloc(size_t n, size_t size) {\n"
              f'    FILE *f = fopen("{answer}", "r"); char line[64] = "unreadable";\n'
              "    if (f) { if (!fgets(line, sizeof line, f)) line[0] = 0; fclose(f); }\n"
              '    printf("[%s]\\n", line);\n'
              "    return malloc(n * size);\n}\n")
    report = ex.check("array-alloc", source)
    assert "[unreadable]" in report.output and "SECRET-ANSWER-42" not in report.output


@needs_bwrap
def test_a_forked_child_does_not_outlive_the_check(outside):
    marker = f"31.{os.getpid()}"
    source = (DECLS + "void *ex_array_alloc(size_t n, size_t size) {\n"
              f'    if (fork() == 0) {{ execl("/bin/sleep", "sleep", "{marker}", (char *)0); _exit(0); }}\n'
              "    return malloc(n * size);\n}\n")
    ex.check("array-alloc", source)
    time.sleep(0.5)
    survivors = [p for p in Path("/proc").glob("[0-9]*/cmdline")
                 if marker.encode() in _read(p)]
    assert not survivors


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_poisoned_cache_is_rebuilt_not_trusted(outside):
    honest = CATALOG["array-alloc"].solution
    assert ex.check("array-alloc", honest).passed
    for so in (Path(os.environ["MEMPOOLS_CACHE"]) / "exercises").glob("array-alloc-*/cell*.so"):
        so.write_bytes(so.read_bytes()[:1000])  # truncated, as a poisoned or half-written file
    report = ex.check("array-alloc", honest)
    assert report.passed, report.text()


@pytest.mark.parametrize("line", ['#include "/dev/stdin"', "#include </etc/passwd>",
                                  '??=include "/etc/passwd"', "#  include_next <stdio.h>",
                                  '#define F "/etc/passwd"\n#include F'])
def test_include_outside_the_cell_is_refused_quickly(line, outside):
    start = time.monotonic()
    report = ex.check("array-alloc", f"{line}\n" + CATALOG["array-alloc"].solution)
    assert time.monotonic() - start < 10
    assert "is not allowed" in report.error and "student.c:" in report.error
    assert "root:" not in report.error and report.score == 0


def test_ignored_sigxcpu_is_named_truthfully(outside):
    source = (DECLS + "void (*signal(int, void (*)(int)))(int);\n"
              "void *ex_array_alloc(size_t n, size_t size) {\n"
              "    signal(24, (void (*)(int))1);  /* SIGXCPU, SIG_IGN */\n"
              "    for (volatile int i = 0;; i++) {}\n    return malloc(n * size);\n}\n")
    report = ex.check("array-alloc", source)
    first = report.results[0]
    assert first.prop == "timeout" and "hard CPU-time limit" in first.message, report.text()
    assert "30 s" not in first.message
    assert all(r.prop == "not run" for r in report.results[1:])


@needs_bwrap
def test_a_submission_cannot_poison_the_cache_for_a_regrade(outside):
    honest = CATALOG["array-alloc"].solution
    assert ex.check("array-alloc", honest).passed
    cached = sorted((Path(os.environ["MEMPOOLS_CACHE"]) / "exercises").rglob("*.*"))
    before = {p: p.read_bytes() for p in cached}
    opens = "".join(f'    f = fopen("{p}", "w"); if (f) {{ fputs("poison", f); fclose(f); }}\n'
                    for p in cached)
    hostile = ("#include <stdio.h>\nvoid *ex_array_alloc(size_t n, size_t size) {\n"
               f"    FILE *f;\n{opens}    return malloc(n * size);\n}}\n")
    ex.check("array-alloc", hostile)
    assert {p: p.read_bytes() for p in cached} == before
    assert ex.check("array-alloc", honest).passed


@pytest.mark.parametrize("call", [
    'PyRun_SimpleString("import sys; sys.stdout.write(\\"forged\\")")',
    'dlsym((void *)0, "PyRun_SimpleString")'])
def test_a_cell_cannot_call_into_python(call, outside):
    source = ("int PyRun_SimpleString(const char *); void *dlsym(void *, const char *);\n"
              "void *ex_array_alloc(size_t n, size_t size) {\n"
              f"    (void){call};\n    return malloc(n * size);\n}}\n")
    report = ex.check("array-alloc", source)
    assert report.score == 0 and "not Python's C API" in report.error, report.text()
