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

/* What one clock read costs (ns): the median of batches of back-to-back reads. */
static double fl_clock_cost(void)
{
    double t[FL_BENCH_MAX_REPEATS];
    for (size_t r = 0; r < FL_BENCH_MAX_REPEATS; r++) {
        double start = fl_clock_ns();
        for (int i = 0; i < 1000; i++) fl_clock_ns();
        t[r] = (fl_clock_ns() - start) / 1000.0;
    }
    qsort(t, FL_BENCH_MAX_REPEATS, sizeof *t, fl_compare_double);
    return t[FL_BENCH_MAX_REPEATS / 2];
}

/* One pass on a fresh pool: with `latency`, each op's time is kept when it beats the slot's
 * earlier passes; without, pass 0 counts refusals and steps. Returns the pass's ns. */
static int fl_replay_pass(const char *kinds, const size_t *ids, const size_t *sizes,
                          size_t n_ops, void **ptr, size_t n_ids, unsigned char *region,
                          size_t capacity, const int how[4], size_t pass, double *latency,
                          bench_result *out, size_t *footprint, double *elapsed)
{
    free_list_pool *p;
    int err = free_list_pool_create_in(&p, region, capacity, how[0], how[1], how[2],
                                       (unsigned)how[3]);
    if (err != POOL_OK) return err;
    memset(ptr, 0, n_ids * sizeof *ptr);
    double start = fl_clock_ns();
    for (size_t i = 0; i < n_ops; i++) {
        double before = latency ? fl_clock_ns() : 0;
        int refused = fl_replay_op(p, ptr, kinds[i], ids[i], sizes[i]);
        if (latency) {
            double took = fl_clock_ns() - before;
            if (pass == 0 || took < latency[i]) latency[i] = took;
        } else if (pass == 0) {
            out->failures += (size_t)refused;
        }
    }
    *elapsed = fl_clock_ns() - start;
    if (pass == 0 && !latency) {
        fl_stats s;
        free_list_pool_stats(p, &s);
        out->mean_steps = s.ops ? (double)s.total_steps / (double)s.ops : 0.0;
        out->max_steps = s.max_steps;
        *footprint = s.heap_bytes; /* the heap never shrinks: its end is its peak */
    }
    return POOL_OK;
}

/* p50 / p99 / max of the per-op latencies, the clock's own cost subtracted. */
static void fl_latency_summary(double *latency, size_t n, bench_result *out)
{
    double cost = fl_clock_cost();
    for (size_t i = 0; i < n; i++) latency[i] = latency[i] > cost ? latency[i] - cost : 0;
    qsort(latency, n, sizeof *latency, fl_compare_double);
    out->p50_ns = latency[n / 2];
    out->p99_ns = latency[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
    out->max_ns = latency[n - 1];
}

int free_list_bench_replay(const char *kinds, const size_t *ids, const size_t *sizes,
                           size_t n_ops, size_t n_ids, size_t capacity, int lists, int fit,
                           int coalesce, unsigned flags, size_t repeats, bench_result *out,
                           size_t *footprint)
{
    double t[FL_BENCH_MAX_REPEATS], elapsed;
    const int how[4] = {lists, fit, coalesce, (int)flags};
    int err = POOL_OK;
    if (!kinds || !ids || !sizes || !out || !footprint || n_ops == 0 || n_ids == 0)
        return POOL_EINVAL;
    for (size_t i = 0; i < n_ops; i++)
        if (ids[i] >= n_ids) return POOL_EINVAL;
    repeats = repeats == 0 ? 1 : repeats > FL_BENCH_MAX_REPEATS ? FL_BENCH_MAX_REPEATS : repeats;
    memset(out, 0, sizeof *out);
    void **ptr = calloc(n_ids, sizeof *ptr);
    unsigned char *region = malloc(capacity);
    double *latency = calloc(n_ops, sizeof *latency);
    if (!ptr || !region || !latency) err = POOL_ENOMEM;
    /* pass 0 counts, passes 1..repeats time the whole trace, then as many time each op */
    for (size_t k = 0; err == POOL_OK && k <= 2 * repeats; k++) {
        double *per_op = k > repeats ? latency : NULL;
        err = fl_replay_pass(kinds, ids, sizes, n_ops, ptr, n_ids, region, capacity, how,
                             per_op ? k - repeats - 1 : k, per_op, out, footprint, &elapsed);
        if (k >= 1 && k <= repeats) t[k - 1] = elapsed / (double)n_ops;
    }
    if (err == POOL_OK) {
        qsort(t, repeats, sizeof *t, fl_compare_double);
        out->ns_per_op = t[repeats / 2];
        fl_latency_summary(latency, n_ops, out);
    }
    free(latency);
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
