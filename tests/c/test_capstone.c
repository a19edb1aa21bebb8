/* test_capstone.c - the capstone driver catches each broken allocator with the right problem,
 * at the right op, and measures utilisation; mem_sbrk refuses what it must. The allocator under
 * test is a bump allocator whose `mode` switches one bug on. */
#include <stdint.h>
#include <string.h>

#include "capstone_support.h"
#include "check.h"

enum { CORRECT, MISALIGN, OVERLAP, GARBLE, NO_COPY, OUTSIDE };
static int mode, calls;
static unsigned char *last;
static _Alignas(16) unsigned char elsewhere[256];

int mm_init(void)
{
    calls = 0;
    last = NULL;
    return 0;
}

void *mm_malloc(size_t size)
{
    if (!size) return NULL; /* allowed for mm_malloc(0), and it keeps `calls` to the trace's */
    size_t asize = (size + 15) / 16 * 16;
    unsigned char *p = mem_sbrk((intptr_t)(asize + 16));
    if (p == (void *)-1) return NULL;
    calls++;
    if (mode == GARBLE && last) last[0] ^= 0xff;
    if (mode == OVERLAP && calls == 3) return last;
    if (mode == OUTSIDE && calls == 3) return elsewhere;
    last = p;
    return mode == MISALIGN && calls == 3 ? p + 8 : p;
}

void mm_free(void *ptr)
{
    (void)ptr;
}

void *mm_realloc(void *ptr, size_t size)
{
    if (!ptr) return mm_malloc(size);
    if (!size) return NULL;
    void *moved = mm_malloc(size);
    if (moved && mode != NO_COPY) memcpy(moved, ptr, size);
    return moved;
}

static const cap_op OPS[] = {
    {'a', 0, 40}, {'a', 1, 100}, {'a', 2, 24}, {'f', 1, 0}, {'r', 0, 200}, {'f', -1, 0},
    {'f', 0, 0}, {'f', 2, 0},
};
#define N (sizeof OPS / sizeof *OPS)

static int replay(int which, cap_verdict *v)
{
    mode = which;
    return cap_replay(OPS, N, 3, 0, v);
}

static void test_correct_allocator_passes_with_its_utilisation(void)
{
    cap_verdict v;
    CHECK(replay(CORRECT, &v) == CAP_OK);
    CHECK(v.peak_live == 200 + 24); /* after the realloc, id 1 freed */
    CHECK(v.peak_heap == (48 + 16) + (112 + 16) + (32 + 16) + (208 + 16));
    CHECK(v.has_check == 0);
}

static void test_each_bug_is_caught_at_its_op(void)
{
    static const struct { int mode, problem; size_t op; } cases[] = {
        {MISALIGN, CAP_MISALIGNED, 2}, {OVERLAP, CAP_OVERLAP, 2}, {GARBLE, CAP_GARBLED, 1},
        {NO_COPY, CAP_REALLOC_DATA, 4}, {OUTSIDE, CAP_OUTSIDE, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cap_verdict v;
        CHECK(replay(cases[i].mode, &v) == cases[i].problem);
        CHECK(v.op == cases[i].op);
        CHECK(strlen(v.message) > 20);
    }
}

static void test_live_spans_after_a_failure(void)
{
    cap_verdict v;
    cap_span spans[8];
    CHECK(replay(OVERLAP, &v) == CAP_OVERLAP && v.other == 1);
    CHECK(cap_live(spans, 8) == 3);
    CHECK(spans[0].offset <= spans[1].offset && spans[1].offset <= spans[2].offset);
}

static void test_sbrk_refuses_shrinking_and_the_maximum(void)
{
    cap_verdict v;
    cap_block blocks[4];
    CHECK(replay(CORRECT, &v) == CAP_OK);
    size_t before = mem_heapsize();
    CHECK(mem_sbrk(-16) == (void *)-1);
    CHECK(mem_sbrk((intptr_t)MM_HEAP_MAX) == (void *)-1);
    CHECK(mem_heapsize() == before);
    CHECK((unsigned char *)mem_heap_hi() + 1 == (unsigned char *)mem_heap_lo() + before);
    CHECK(cap_walk(blocks, 4) == (size_t)-1); /* no mm_walk here: the default says so */
}

static void test_throughput_is_measured_for_both(void)
{
    mode = CORRECT;
    CHECK(cap_throughput(OPS, N, 3, 0.001, 0) > 0);
    CHECK(cap_throughput(OPS, N, 3, 0.001, 1) > 0);
}

int main(void)
{
    RUN(test_correct_allocator_passes_with_its_utilisation);
    RUN(test_each_bug_is_caught_at_its_op);
    RUN(test_live_spans_after_a_failure);
    RUN(test_sbrk_refuses_shrinking_and_the_maximum);
    RUN(test_throughput_is_measured_for_both);
    return check_failures != 0;
}
