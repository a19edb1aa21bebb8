"""The five classic flaws of the bug hunt (csrc/naive/bug_hunt.c), each caught: by comparing the
naive code with the rule it breaks, or by a sanitizer in a child process. If a "fix" crept into
the naive code, these tests fail, and the lessons would be teaching a bug that is not there."""

import shutil

import pytest

import mempools as mp
from mempools import naive
from mempools.c import ffi, lib

needs_cc = pytest.mark.skipif(not (shutil.which("cc") or shutil.which("gcc")), reason="no C compiler")


@pytest.mark.parametrize(("n", "size"), [(10, 8), (1000, 24), (1, 1), (2**32, 2**31)])
def test_backwards_overflow_check_refuses_products_that_fit(n, size):
    assert n * size <= 2**64 - 1
    assert naive.array_bytes(n, size) == 0


@pytest.mark.parametrize(("n", "size"), [(2**61 + 1, 8), (2**63, 2), (2**64 - 1, 3)])
def test_backwards_overflow_check_accepts_products_that_wrap(n, size):
    wrapped = naive.array_bytes(n, size)
    assert wrapped == (n * size) % 2**64 and wrapped < n * size
    out = ffi.new("size_t *")
    assert lib.heap_product_checked(n, size, out) == lib.POOL_EOVERFLOW  # the fix refuses it


def test_high_water_in_bytes_hands_out_blocks_past_the_end():
    pool = naive.NaiveLazy(16, 4)
    offsets = [pool.alloc() for _ in range(6)]
    assert offsets[:4] == [0, 16, 32, 48]
    assert offsets[4] == 64 and offsets[4] >= 4 * 16  # a fifth block of a four-block pool


@needs_cc
def test_high_water_bug_is_a_heap_overflow_under_asan():
    run = mp.cprogram.run_c('''
#include <string.h>
#include "naive/bug_hunt.h"
int main(void) {
    naive_lazy p;
    if (naive_lazy_init(&p, 16, 4)) return 2;
    for (int i = 0; i < 5; i++) memset(naive_lazy_alloc(&p), 0, 16);
    naive_lazy_destroy(&p);
    return 0;
}''', sources=("naive/bug_hunt.c", "naive/naive_pools.c"), sanitize="address")
    assert any("heap-buffer-overflow" in line for line in run.reports())


@needs_cc
def test_dereference_before_null_check_is_reported_by_ubsan():
    run = mp.cprogram.run_c('''
#include "naive/bug_hunt.h"
int main(void) { return (int)naive_lazy_used_bytes(0); }''',
                            sources=("naive/bug_hunt.c", "naive/naive_pools.c"), sanitize="undefined")
    assert any("null pointer" in line for line in run.reports()), run.stderr


def test_realloc_resizes_the_wrong_block_and_shifts_by_the_wrong_amount():
    pool = naive.NaiveEmbedded(96)
    slots = [pool.alloc(10) for _ in range(3)]
    for slot, letter in zip(slots, b"ABC"):
        pool.write(slot, bytes([letter]) * 10)
    assert pool.realloc_wrong(0, 14)  # asks to grow A by 4 bytes
    blocks = {slot: (off, size) for slot, off, size in pool.blocks()}
    assert blocks[0] == (0, 10), "A kept its size: the request went to another block"
    assert blocks[2][1] == 14, "C (allocated last) was resized instead"
    assert blocks[2][0] == 20  # nothing after C moved; had the right block grown, B moves by 4


def test_realloc_shift_uses_the_new_size_not_the_growth():
    pool = naive.NaiveEmbedded(96)
    for _ in range(2):
        pool.alloc(10)
    last = pool.alloc(10)
    pool.free(1)
    again = pool.alloc(10)  # slot 1 again: the most recent allocation, before slot 2
    assert again == 1 and last == 2
    pool.write(2, b"C" * 10)
    assert pool.realloc_wrong(0, 12)  # slot 1 resized to 12; slot 2 shifted by 12, not 2
    blocks = {slot: (off, size) for slot, off, size in pool.blocks()}
    assert blocks[1] == (10, 12) and blocks[2] == (32, 10)
    assert pool.read(2) == b"C" * 10


def test_nested_sections_with_a_flag_reenable_interrupts_too_early():
    flag = dict(naive.nested_sections(counting=False))
    count = dict(naive.nested_sections(counting=True))
    assert flag["inner section left, outer still running"] is True   # the bug
    assert count["inner section left, outer still running"] is False  # the fix
    assert flag["outer section left"] and count["outer section left"]
