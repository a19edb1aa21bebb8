/* free_list_bench.c - the free-list allocator on a trace, timed with C11 timespec_get. */
#include "free_list_bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "free_list_pool.h"
#include "heap_probe.h"

#define FL_BENCH_MAX_REPEATS 31

static double fl_clock_ns(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int fl_compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One op; 1 when the pool refused it. A new or moved block is touched once, as a user would. */
static int fl_replay_op(free_list_pool *p, void **ptr, char kind, size_t id, size_t size)
{
    void *out;
    int err;
    if (kind == 'f') {
        err = free_list_pool_free(p, ptr[id]);
        ptr[id] = NULL;
        return err != POOL_OK;
    }
    err = kind == 'a' ? free_list_pool_alloc(p, size, &out)
                      : free_list_pool_realloc(p, ptr[id], size, &out);
    if (err != POOL_OK) return 1;
    ((volatile unsigned char *)out)[0] = 1;
    ptr[id] = out;
    return 0;
}

int free_list_bench_replay(const char *kinds, const size_t *ids, const size_t *sizes,
                           size_t n_ops, size_t n_ids, size_t capacity, int lists, int fit,
                           int coalesce, unsigned flags, size_t repeats, bench_result *out,
                           size_t *footprint)
{
    double t[FL_BENCH_MAX_REPEATS];
    void **ptr;
    unsigned char *region;
    int err = POOL_OK;
    if (!kinds || !ids || !sizes || !out || !footprint || n_ops == 0 || n_ids == 0)
        return POOL_EINVAL;
    for (size_t i = 0; i < n_ops; i++)
        if (ids[i] >= n_ids) return POOL_EINVAL;
    repeats = repeats == 0 ? 1 : repeats > FL_BENCH_MAX_REPEATS ? FL_BENCH_MAX_REPEATS : repeats;
    memset(out, 0, sizeof *out);
    ptr = calloc(n_ids, sizeof *ptr);
    region = malloc(capacity);
    if (!ptr || !region) err = POOL_ENOMEM;
    for (size_t k = 0; err == POOL_OK && k <= repeats; k++) { /* pass 0 counts, untimed */
        free_list_pool *p;
        err = free_list_pool_create_in(&p, region, capacity, lists, fit, coalesce, flags);
        if (err != POOL_OK) break;
        memset(ptr, 0, n_ids * sizeof *ptr);
        double start = fl_clock_ns();
        for (size_t i = 0; i < n_ops; i++) {
            int refused = fl_replay_op(p, ptr, kinds[i], ids[i], sizes[i]);
            if (k == 0) out->failures += (size_t)refused;
        }
        if (k > 0) {
            t[k - 1] = (fl_clock_ns() - start) / (double)n_ops;
        } else {
            fl_stats s;
            free_list_pool_stats(p, &s);
            out->mean_steps = s.ops ? (double)s.total_steps / (double)s.ops : 0.0;
            out->max_steps = s.max_steps;
            *footprint = s.heap_bytes; /* the heap never shrinks: its end is its peak */
        }
    }
    if (err == POOL_OK) {
        qsort(t, repeats, sizeof *t, fl_compare_double);
        out->ns_per_op = t[repeats / 2];
    }
    free(ptr);
    free(region);
    return err;
}

int free_list_bench_libc_peak(const char *kinds, const size_t *ids, const size_t *sizes,
                              size_t n_ops, size_t n_ids, size_t *peak)
{
    void **ptr;
    size_t held = 0;
    int err = POOL_OK;
    if (!kinds || !ids || !sizes || !peak || n_ids == 0) return POOL_EINVAL;
    for (size_t i = 0; i < n_ops; i++)
        if (ids[i] >= n_ids) return POOL_EINVAL;
    ptr = calloc(n_ids, sizeof *ptr);
    if (!ptr) return POOL_ENOMEM;
    *peak = 0;
    for (size_t i = 0; i < n_ops && err == POOL_OK; i++) {
        size_t id = ids[i];
        if (ptr[id]) held -= heap_usable_size(ptr[id]) + sizeof(size_t);
        if (kinds[i] == 'f') {
            free(ptr[id]);
            ptr[id] = NULL;
            continue;
        }
        void *p = kinds[i] == 'a' ? malloc(sizes[i]) : realloc(ptr[id], sizes[i]);
        if (!p) {
            err = POOL_ENOMEM;
            break;
        }
        ptr[id] = p;
        held += heap_usable_size(p) + sizeof(size_t);
        if (held > *peak) *peak = held;
    }
    for (size_t id = 0; id < n_ids; id++) free(ptr[id]);
    free(ptr);
    return err;
}
