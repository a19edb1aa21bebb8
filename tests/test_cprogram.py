"""Child-process C programs: crashes and sanitizer reports become data; no compiler is a
clear message."""

import pytest

import mempools as mp
from mempools.cprogram import NoCompiler, run_c


def test_crash_in_child_is_reported_by_signal():
    run = run_c("int main(void) { volatile int *p = 0; *p = 1; return 0; }")
    assert run.signal_name == "SIGSEGV"


def test_ubsan_report_names_the_naive_line_without_addresses():
    run = run_c('#include "naive/naive_pools.h"\n'
                "int main(void) { naive_fixed *p = naive_fixed_create(12, 4, 0);"
                " void *a = naive_fixed_alloc(p); void *b = naive_fixed_alloc(p);"
                " naive_fixed_free(p, b); naive_fixed_free(p, a); naive_fixed_destroy(p); return 0; }",
                sources=("naive/naive_pools.c",), sanitize="undefined")
    reports = run.reports()
    assert reports and all(r.startswith("naive/naive_pools.c:") for r in reports)
    assert "misaligned address 0x..." in reports[0]


def test_compile_error_is_a_runtime_error_with_the_compiler_text():
    with pytest.raises(mp.CompileError, match="did not compile") as caught:
        run_c("int main(void) { return undefined_name; }")
    assert "undefined_name" in str(caught.value)
    assert not isinstance(caught.value, mp.PoolError)  # building C is not pool misuse


@pytest.mark.parametrize("error", [mp.NoCompiler, mp.CompileError])
def test_build_errors_are_not_pool_errors(error):
    assert issubclass(error, RuntimeError) and not issubclass(error, mp.PoolError)


def test_no_compiler_says_what_to_install(monkeypatch):
    monkeypatch.setenv("CC", "no-such-cc")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(NoCompiler, match="install gcc or clang"):
        run_c("int main(void) { return 0; }")


def test_infinite_loop_is_killed():
    run = run_c("int main(void) { for (;;) {} }", timeout=1)
    assert run.signal_name == "SIGKILL"
