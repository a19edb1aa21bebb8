/* test_free_list.c - C tests of the free-list allocator; built plainly and with ASan + UBSan. */
#include "check.h"

#include <stdint.h>
#include <string.h>

#include "free_list_bench.h"
#include "free_list_pool.h"

#define REGION 8192
#define W sizeof(size_t)

static _Alignas(16) unsigned char region[REGION];

static free_list_pool *make(int lists, int fit, int coalesce, unsigned flags)
{
    free_list_pool *p = NULL;
    if (free_list_pool_create_in(&p, region, sizeof region, lists, fit, coalesce, flags) != POOL_OK)
        return NULL;
    return p;
}

static size_t offset_of(const free_list_pool *p, const void *ptr)
{
    return (size_t)((const unsigned char *)ptr - free_list_pool_base(p));
}

static size_t header_of(const free_list_pool *p, const void *ptr)
{
    size_t h;
    memcpy(&h, (const unsigned char *)ptr - W, W);
    (void)p;
    return h;
}

static void test_create_bad_arguments(void)
{
    free_list_pool *p;
    CHECK(free_list_pool_create_in(NULL, region, REGION, 0, 0, 0, 0) == POOL_EINVAL);
    CHECK(free_list_pool_create_in(&p, NULL, REGION, 0, 0, 0, 0) == POOL_EINVAL && p == NULL);
    CHECK(free_list_pool_create_in(&p, region, REGION, 4, 0, 0, 0) == POOL_EINVAL);
    CHECK(free_list_pool_create_in(&p, region, REGION, 0, 4, 0, 0) == POOL_EINVAL);
    CHECK(free_list_pool_create_in(&p, region, REGION, 0, 0, 3, 0) == POOL_EINVAL);
    CHECK(free_list_pool_create_in(&p, region, REGION, 0, 0, 0, 4) == POOL_EINVAL);
    CHECK(free_list_pool_create_in(&p, region, 16, 0, 0, 0, 0) == POOL_ENOMEM);
    CHECK(free_list_pool_create_in(&p, region + 3, REGION - 3, 0, 0, 0, 0) == POOL_OK);
    CHECK(free_list_pool_check(p) == NULL);
}

static void test_alloc_bad_arguments_leave_pool_unchanged(void)
{
    free_list_pool *p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, 0);
    void *a, *b;
    static unsigned char before[REGION];
    CHECK(p && free_list_pool_alloc(p, 100, &a) == POOL_OK);
    fl_stats s0, s1;
    free_list_pool_stats(p, &s0);
    memcpy(before, region, REGION);
    CHECK(free_list_pool_alloc(p, 0, &b) == POOL_EINVAL && b == NULL);
    CHECK(free_list_pool_alloc(p, SIZE_MAX, &b) == POOL_EOVERFLOW && b == NULL);
    CHECK(free_list_pool_alloc(p, SIZE_MAX - 20, &b) == POOL_EOVERFLOW);
    CHECK(free_list_pool_alloc(p, REGION, &b) == POOL_ENOMEM && b == NULL);
    CHECK(free_list_pool_free(p, region) == POOL_EFOREIGN);
    CHECK(free_list_pool_free(p, (unsigned char *)a + 1) == POOL_EFOREIGN);
    CHECK(free_list_pool_free(p, (unsigned char *)a + 16) == POOL_EFOREIGN);
    CHECK(free_list_pool_realloc(p, a, REGION, &b) == POOL_ENOMEM && b == NULL);
    free_list_pool_stats(p, &s1);
    CHECK(s1.used_bytes == s0.used_bytes && s1.free_bytes == s0.free_bytes &&
          s1.heap_bytes == s0.heap_bytes && s1.failed == s0.failed + 2);
    CHECK(memcmp(before + s0.table_bytes, region + s0.table_bytes, REGION - s0.table_bytes) == 0);
    CHECK(free_list_pool_free(p, a) == POOL_OK);
    CHECK(free_list_pool_free(p, a) == POOL_EDOUBLEFREE);
    CHECK(free_list_pool_check(p) == NULL);
}

static void test_boundary_tags_and_prev_allocated_bit(void)
{
    free_list_pool *p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, 0);
    void *a, *b, *c;
    CHECK(p && free_list_pool_alloc(p, 24, &a) == POOL_OK);  /* 8 + 24 = 32 */
    CHECK(free_list_pool_alloc(p, 40, &b) == POOL_OK);       /* 8 + 40 = 48 */
    CHECK(free_list_pool_alloc(p, 8, &c) == POOL_OK);        /* minimum block, 32 */
    CHECK((uintptr_t)a % FL_ALIGN == 0 && (uintptr_t)b % FL_ALIGN == 0);
    CHECK(header_of(p, a) == (32 | 1 | 2)); /* first block: "previous" counts as allocated */
    CHECK(header_of(p, b) == (48 | 1 | 2));
    CHECK(offset_of(p, b) - offset_of(p, a) == 32);
    CHECK(free_list_pool_free(p, b) == POOL_OK);
    size_t footer;
    memcpy(&footer, (unsigned char *)b - W + 48 - W, W);
    CHECK(header_of(p, b) == (48 | 2) && footer == header_of(p, b)); /* the boundary tag */
    CHECK(header_of(p, c) == (32 | 1));     /* c's prev-allocated bit is now clear */
    CHECK(free_list_pool_check(p) == NULL);
}

static void test_footer_always_costs_a_word(void)
{
    free_list_pool *p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, 0);
    CHECK(p && free_list_pool_block_size(p, 24) == 32);
    p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, FL_FOOTER_ALWAYS);
    CHECK(p && free_list_pool_block_size(p, 24) == 48);
    void *a;
    CHECK(free_list_pool_alloc(p, 24, &a) == POOL_OK && free_list_pool_check(p) == NULL);
}

static void test_split_and_no_split(void)
{
    void *a, *b, *c;
    fl_stats s;
    free_list_pool *p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, 0);
    CHECK(p && free_list_pool_alloc(p, 1000, &a) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 8, &b) == POOL_OK);
    CHECK(free_list_pool_free(p, a) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 8, &c) == POOL_OK && c == a); /* split off the front */
    free_list_pool_stats(p, &s);
    CHECK(s.free_blocks == 1 && s.free_bytes == 1008 - 32 && s.splits == 1);
    p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, FL_NO_SPLIT);
    CHECK(p && free_list_pool_alloc(p, 1000, &a) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 8, &b) == POOL_OK);
    CHECK(free_list_pool_free(p, a) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 8, &c) == POOL_OK && c == a);
    free_list_pool_stats(p, &s);
    CHECK(s.free_blocks == 0 && s.used_bytes == 1008 + 32 && s.splits == 0);
    CHECK(free_list_pool_check(p) == NULL);
}

static void test_coalesce_both_neighbours(void)
{
    for (int lists = FL_IMPLICIT; lists <= FL_SEGREGATED; lists++) {
        void *x[4];
        fl_stats s;
        free_list_pool *p = make(lists, FL_FIRST, FL_IMMEDIATE, 0);
        for (int i = 0; i < 4; i++) CHECK(free_list_pool_alloc(p, 40, &x[i]) == POOL_OK);
        CHECK(free_list_pool_free(p, x[0]) == POOL_OK);
        CHECK(free_list_pool_free(p, x[2]) == POOL_OK);
        CHECK(free_list_pool_free(p, x[1]) == POOL_OK); /* merges with both */
        free_list_pool_stats(p, &s);
        CHECK(s.free_blocks == 1 && s.free_bytes == 3 * 48 && s.coalesces == 2);
        CHECK(free_list_pool_check(p) == NULL);
    }
}

static void test_deferred_and_never(void)
{
    void *x[3], *big;
    fl_stats s;
    free_list_pool *p = make(FL_EXPLICIT, FL_FIRST, FL_DEFERRED, 0);
    for (int i = 0; i < 3; i++) CHECK(free_list_pool_alloc(p, 40, &x[i]) == POOL_OK);
    for (int i = 0; i < 3; i++) CHECK(free_list_pool_free(p, x[i]) == POOL_OK);
    free_list_pool_stats(p, &s);
    CHECK(s.free_blocks == 3 && s.coalesces == 0 && free_list_pool_check(p) == NULL);
    CHECK(free_list_pool_alloc(p, 100, &big) == POOL_OK && big == x[0]); /* sweep made room */
    free_list_pool_stats(p, &s);
    CHECK(s.coalesces == 2 && s.extends == 3 && free_list_pool_check(p) == NULL);

    p = make(FL_EXPLICIT, FL_FIRST, FL_NEVER, 0);
    for (int i = 0; i < 3; i++) CHECK(free_list_pool_alloc(p, 40, &x[i]) == POOL_OK);
    for (int i = 0; i < 3; i++) CHECK(free_list_pool_free(p, x[i]) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 100, &big) == POOL_OK && big != x[0]); /* the heap grew */
    free_list_pool_stats(p, &s);
    CHECK(s.free_blocks == 3 && s.coalesces == 0 && free_list_pool_check(p) == NULL);
}

static void test_fits_choose_different_blocks(void)
{
    /* free blocks of 96, 48, 64 bytes (separated by live ones), then ask for 40 */
    static const size_t sizes[] = {88, 8, 40, 8, 56, 8};
    void *want[4];
    for (int fit = FL_FIRST; fit <= FL_WORST; fit++) {
        void *x[6], *got;
        free_list_pool *p = make(FL_ADDRESS, fit, FL_IMMEDIATE, 0);
        for (int i = 0; i < 6; i++) CHECK(free_list_pool_alloc(p, sizes[i], &x[i]) == POOL_OK);
        for (int i = 0; i < 6; i += 2) CHECK(free_list_pool_free(p, x[i]) == POOL_OK);
        CHECK(free_list_pool_alloc(p, 40, &got) == POOL_OK);
        want[FL_FIRST] = x[0];
        want[FL_NEXT] = x[0]; /* no search yet: starts at the head */
        want[FL_BEST] = x[2];
        want[FL_WORST] = x[0];
        CHECK(got == want[fit]);
        if (fit == FL_NEXT) { /* the next search goes on after the block it used */
            CHECK(free_list_pool_alloc(p, 40, &got) == POOL_OK && got == x[2]);
        }
        CHECK(free_list_pool_check(p) == NULL);
    }
}

static void test_realloc_in_place_grow_and_move(void)
{
    void *a, *b, *c, *r;
    free_list_pool *p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, 0);
    CHECK(p && free_list_pool_alloc(p, 200, &a) == POOL_OK);
    memset(a, 0xAB, 200);
    CHECK(free_list_pool_alloc(p, 100, &b) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 8, &c) == POOL_OK);
    CHECK(free_list_pool_realloc(p, a, 50, &r) == POOL_OK && r == a); /* shrink in place */
    CHECK(free_list_pool_check(p) == NULL);
    CHECK(free_list_pool_realloc(p, a, 180, &r) == POOL_OK && r == a); /* into the freed tail */
    CHECK(((unsigned char *)a)[49] == 0xAB);
    CHECK(free_list_pool_realloc(p, c, 500, &r) == POOL_OK && r == c); /* at the heap's end */
    memset(b, 0xCD, 100);
    CHECK(free_list_pool_realloc(p, b, 300, &r) == POOL_OK && r != b); /* must move */
    CHECK(((unsigned char *)r)[0] == 0xCD && ((unsigned char *)r)[99] == 0xCD);
    CHECK(free_list_pool_free(p, b) == POOL_EDOUBLEFREE);
    CHECK(free_list_pool_check(p) == NULL);
}

static void test_checker_finds_corruption(void)
{
    void *a, *b, *c;
    size_t junk = 0;
    free_list_pool *p = make(FL_EXPLICIT, FL_FIRST, FL_IMMEDIATE, 0);
    CHECK(free_list_pool_alloc(p, 40, &a) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 40, &b) == POOL_OK);
    CHECK(free_list_pool_alloc(p, 40, &c) == POOL_OK);
    CHECK(free_list_pool_free(p, b) == POOL_OK);
    memcpy((unsigned char *)b + 48 - 2 * W, &junk, W); /* b's footer */
    CHECK(free_list_pool_check(p) != NULL);
    memcpy((unsigned char *)b + 48 - 2 * W, (unsigned char *)b - W, W);
    CHECK(free_list_pool_check(p) == NULL);
    size_t self = offset_of(p, b) - W;
    memcpy(b, &self, W); /* next link to itself: a cycle */
    CHECK(free_list_pool_check(p) != NULL);
    memcpy(b, &junk, W);
    CHECK(free_list_pool_check(p) == NULL);
    memcpy((unsigned char *)c - W, &junk, W); /* c's header */
    CHECK(free_list_pool_check(p) != NULL);
}

/* A deterministic workload on every combination: fill, verify, check after every call. */
static unsigned long lcg(unsigned long *state)
{
    *state = *state * 6364136223846793005UL + 1442695040888963407UL;
    return *state >> 33;
}

static void test_every_combination_survives_a_workload(void)
{
    for (int combo = 0; combo < 4 * 4 * 3 * 2; combo++) {
        int lists = combo % 4, fit = combo / 4 % 4, coalesce = combo / 16 % 3;
        unsigned flags = combo / 48 ? FL_FOOTER_ALWAYS : 0;
        free_list_pool *p = make(lists, fit, coalesce, flags);
        unsigned char *live[32] = {0};
        size_t size[32] = {0};
        unsigned long state = (unsigned long)combo + 1;
        CHECK(p != NULL);
        for (int step = 0; step < 600; step++) {
            size_t i = lcg(&state) % 32, n = 1 + lcg(&state) % 300;
            unsigned char tag = (unsigned char)(i * 7 + 1);
            void *out;
            if (live[i]) {
                CHECK(live[i][0] == tag && live[i][size[i] - 1] == tag);
                if (lcg(&state) % 3 == 0) {
                    if (free_list_pool_realloc(p, live[i], n, &out) == POOL_OK) {
                        live[i] = out;
                        size[i] = n;
                    }
                } else {
                    CHECK(free_list_pool_free(p, live[i]) == POOL_OK);
                    live[i] = NULL;
                }
            } else if (free_list_pool_alloc(p, n, &out) == POOL_OK) {
                live[i] = out;
                size[i] = n;
            }
            if (live[i]) live[i][0] = live[i][size[i] - 1] = tag;
            if (free_list_pool_check(p) != NULL)
                printf("  combo %d step %d: %s\n", combo, step, free_list_pool_check(p));
            CHECK(free_list_pool_check(p) == NULL);
        }
        for (int i = 0; i < 32; i++)
            if (live[i]) CHECK(free_list_pool_free(p, live[i]) == POOL_OK);
        if (coalesce == FL_DEFERRED) free_list_pool_coalesce(p);
        fl_stats s;
        free_list_pool_stats(p, &s);
        CHECK(s.used_blocks == 0 && s.ops > 0 && s.max_steps >= 1);
        if (coalesce != FL_NEVER) CHECK(s.free_blocks <= 1);
        CHECK(free_list_pool_check(p) == NULL);
    }
}

static void test_bench_replays(void)
{
    static const char kinds[] = "aarfaf";
    static const size_t ids[] = {0, 1, 0, 1, 2, 0}, sizes[] = {100, 40, 300, 0, 8, 0};
    bench_result r;
    size_t footprint = 0, peak = 0;
    CHECK(free_list_bench_replay(kinds, ids, sizes, 6, 3, 4096, FL_SEGREGATED, FL_BEST,
                                 FL_IMMEDIATE, 0, 3, &r, &footprint) == POOL_OK);
    CHECK(r.failures == 0 && footprint > 300 && footprint < 4096 && r.max_steps >= 1);
    CHECK(free_list_bench_replay(kinds, ids, sizes, 6, 3, 600, FL_EXPLICIT, FL_FIRST,
                                 FL_IMMEDIATE, 0, 1, &r, &footprint) == POOL_OK);
    CHECK(r.failures > 0); /* no room for 300 more bytes after the control block */
    CHECK(free_list_bench_replay(kinds, ids, sizes, 6, 2, 4096, 0, 0, 0, 0, 1, &r, &footprint) ==
          POOL_EINVAL); /* id 2 out of range */
    CHECK(free_list_bench_libc_peak(kinds, ids, sizes, 6, 3, &peak) == POOL_OK);
#if defined(__GLIBC__)
    CHECK(peak >= 300 + 8);
#endif
}

int main(void)
{
    RUN(test_create_bad_arguments);
    RUN(test_alloc_bad_arguments_leave_pool_unchanged);
    RUN(test_boundary_tags_and_prev_allocated_bit);
    RUN(test_footer_always_costs_a_word);
    RUN(test_split_and_no_split);
    RUN(test_coalesce_both_neighbours);
    RUN(test_deferred_and_never);
    RUN(test_fits_choose_different_blocks);
    RUN(test_realloc_in_place_grow_and_move);
    RUN(test_checker_finds_corruption);
    RUN(test_every_combination_survives_a_workload);
    RUN(test_bench_replays);
    return check_failures ? 1 : 0;
}
