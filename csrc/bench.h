/* bench.h - timing loops that run entirely in C, so a figure measures the allocator and not
 * the Python call. Each returns nanoseconds per operation (median of `repeats` runs), or a
 * negative value when memory for the loop (or an allocation in it) failed. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>

/* Churn: keep `live` blocks of `size` bytes; each pair frees one and allocates one. The floor
 * is a bare intrusive free list (pop and push, no checks) in the same loop. `flags` are the
 * embedded pool's EMB_* creation flags (its placement policy). */
double bench_malloc_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_fixed_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_list_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_embedded_pairs(size_t size, size_t live, size_t pairs, size_t repeats,
                            unsigned flags);

/* Phases: `count` allocations of `size` in rounds of 1024, each round then released (free()
 * of every block, or one reset); ns per object, release included. The floor is a bare bump
 * pointer (add and compare) over the same memory. */
double bench_malloc_allocs(size_t size, size_t count, size_t repeats);
double bench_bump_allocs(size_t size, size_t count, size_t repeats);
double bench_pointer_allocs(size_t size, size_t count, size_t repeats);

/* Creating a fixed pool: lazy (high-water mark) vs an eager loop that links every block. */
double bench_fixed_create_lazy(size_t size, size_t count, size_t repeats);
double bench_fixed_create_eager(size_t size, size_t count, size_t repeats);

/* What one clock read costs here (ns, median): subtracted from each per-op latency. */
double bench_clock_cost(size_t samples);

/* Trace replay in C. Ops are parallel arrays: kind ('a', 'r', 'f'), id (< n_ids), size. */
typedef enum bench_pool {
    BENCH_MALLOC = 1,
    BENCH_BUMP = 2,
    BENCH_FIXED = 3,
    BENCH_EMBEDDED = 4,      /* the default policy: good fit */
    BENCH_EMBEDDED_FIRST = 5 /* the embedded pool with first fit */
} bench_pool;

typedef struct bench_result {
    double ns_per_op;   /* median over the repeats of the whole replay / ops */
    double mean_steps;  /* machine-independent work per op (slots scanned, nodes visited) */
    size_t max_steps;   /* worst op; 0 when the allocator cannot say (libc) */
    size_t failures;    /* ops the pool refused (out of memory, too big for the block) */
    double p50_ns;      /* per-op latency (fastest of the repeats for each op, clock cost */
    double p99_ns;      /* subtracted): median, 99th percentile and worst op of the trace */
    double max_ns;
} bench_result;

/* Replay on a fresh pool per repeat; `param` is the block size (fixed) or capacity (bump,
 * embedded); fixed and embedded pools get `max_live` blocks / table slots. A bump pool frees
 * nothing until every block is freed, then resets (what an arena does); reallocs copy. */
int bench_replay(int pool, const char *kinds, const size_t *ids, const size_t *sizes,
                 size_t n_ops, size_t n_ids, size_t max_live, size_t param, size_t repeats,
                 bench_result *out);

#endif
