/* bench.c - C-side timing with C11 timespec_get; medians make one slow run harmless. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bump_pool.h"
#include "embedded_pool.h"
#include "fixed_pool.h"

#define BENCH_MAX_REPEATS 31

static double clock_ns(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, compare_double);
    return v[n / 2];
}

static size_t repeats_clamped(size_t repeats)
{
    return repeats == 0 ? 1 : repeats > BENCH_MAX_REPEATS ? BENCH_MAX_REPEATS : repeats;
}

/* A cheap deterministic index sequence, so every allocator sees the same churn order. */
static size_t churn_next(unsigned long long *state, size_t live)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    /* multiply-shift range reduction: no division inside the timed loop */
    return (size_t)(((*state >> 32) * (unsigned long long)live) >> 32);
}

/* Touch the block, as a real user would, so no allocator is timed on untouched memory. */
static void block_touch(void *b, size_t size)
{
    ((volatile unsigned char *)b)[0] = 1;
    ((volatile unsigned char *)b)[size - 1] = 2;
}

double bench_malloc_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    void **slot = calloc(live, sizeof *slot);
    if (!slot) return -1;
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++) slot[i] = malloc(size);
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            free(slot[k]);
            slot[k] = malloc(size);
            if (!slot[k]) return -1;
            block_touch(slot[k], size);
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) free(slot[i]);
    }
    free(slot);
    return median(t, repeats);
}

double bench_fixed_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    void **slot = calloc(live, sizeof *slot);
    fixed_pool *p = NULL;
    if (!slot || fixed_pool_create(&p, size, live, 8) != POOL_OK) {
        free(slot);
        return -1;
    }
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++) fixed_pool_alloc(p, &slot[i]);
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            fixed_pool_free(p, slot[k]);
            if (fixed_pool_alloc(p, &slot[k]) != POOL_OK) return -1;
            block_touch(slot[k], size);
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) fixed_pool_free(p, slot[i]);
    }
    fixed_pool_destroy(p);
    free(slot);
    return median(t, repeats);
}

double bench_embedded_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    size_t bytes = (size + 64) * live * 2 + 4096;
    unsigned char *memory = malloc(bytes);
    emb_handle *slot = calloc(live, sizeof *slot);
    embedded_pool *p = NULL;
    if (!memory || !slot || embedded_pool_create_in(&p, memory, bytes, live, 0) != POOL_OK) {
        free(memory);
        free(slot);
        return -1;
    }
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++) embedded_pool_alloc(p, size, &slot[i]);
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            embedded_pool_free(p, slot[k]);
            if (embedded_pool_alloc(p, size, &slot[k]) != POOL_OK) return -1;
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) embedded_pool_free(p, slot[i]);
    }
    free(slot);
    free(memory);
    return median(t, repeats);
}

/* Phase timings: allocate BENCH_ROUND blocks (which fit in cache, so the allocator and not the
 * memory bus is timed), then release them all - free() each, or one reset - inside the clock.
 * The result is per object: its allocation plus its share of the release. */
#define BENCH_ROUND 1024

double bench_malloc_allocs(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    void *slot[BENCH_ROUND];
    repeats = repeats_clamped(repeats);
    size_t rounds = count / BENCH_ROUND ? count / BENCH_ROUND : 1;
    for (size_t r = 0; r < repeats; r++) {
        double total = 0;
        for (size_t k = 0; k < rounds; k++) {
            double start = clock_ns();
            for (size_t i = 0; i < BENCH_ROUND; i++) {
                slot[i] = malloc(size);
                if (!slot[i]) return -1;
                block_touch(slot[i], size);
            }
            for (size_t i = 0; i < BENCH_ROUND; i++) free(slot[i]);
            total += clock_ns() - start;
        }
        t[r] = total / (double)(rounds * BENCH_ROUND);
    }
    return median(t, repeats);
}

double bench_bump_allocs(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    size_t rounds = count / BENCH_ROUND ? count / BENCH_ROUND : 1;
    bump_pool *p;
    if (bump_pool_create(&p, ((size + 7) & ~(size_t)7) * BENCH_ROUND, 8, 0) != POOL_OK) return -1;
    for (size_t r = 0; r < repeats; r++) {
        double total = 0;
        for (size_t k = 0; k < rounds; k++) {
            double start = clock_ns();
            for (size_t i = 0; i < BENCH_ROUND; i++) {
                void *b;
                if (bump_pool_alloc(p, size, &b) != POOL_OK) {
                    bump_pool_destroy(p);
                    return -1;
                }
                block_touch(b, size);
            }
            bump_pool_reset(p);
            total += clock_ns() - start;
        }
        t[r] = total / (double)(rounds * BENCH_ROUND);
    }
    bump_pool_destroy(p);
    return median(t, repeats);
}

double bench_fixed_create_lazy(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    for (size_t r = 0; r < repeats; r++) {
        fixed_pool *p;
        double start = clock_ns();
        if (fixed_pool_create(&p, size, count, 8) != POOL_OK) return -1;
        t[r] = clock_ns() - start;
        fixed_pool_destroy(p);
    }
    return median(t, repeats);
}

double bench_fixed_create_eager(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    size_t stride = size < sizeof(void *) ? sizeof(void *) : (size + 7) & ~(size_t)7;
    for (size_t r = 0; r < repeats; r++) {
        double start = clock_ns();
        unsigned char *blocks = malloc(stride * count);
        if (!blocks) return -1;
        void *head = NULL;
        for (size_t i = count; i-- > 0;) { /* the loop lazy init avoids */
            memcpy(blocks + i * stride, &head, sizeof head);
            head = blocks + i * stride;
        }
        t[r] = clock_ns() - start;
        ((volatile unsigned char *)blocks)[0] = 0;
        free(blocks);
    }
    return median(t, repeats);
}
