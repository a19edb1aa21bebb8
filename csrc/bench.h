/* bench.h - timing loops that run entirely in C, so a figure measures the allocator and not
 * the Python call. Each returns nanoseconds per operation (median of `repeats` runs), or a
 * negative value when an allocation failed. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>

/* Churn: keep `live` blocks of `size` bytes; each pair frees one and allocates one. */
double bench_malloc_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_fixed_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_embedded_pairs(size_t size, size_t live, size_t pairs, size_t repeats);

/* Phases: `count` allocations of `size` in rounds of 1024, each round then released (free()
 * of every block, or one reset); ns per object, release included. */
double bench_malloc_allocs(size_t size, size_t count, size_t repeats);
double bench_bump_allocs(size_t size, size_t count, size_t repeats);

/* Creating a fixed pool: lazy (high-water mark) vs an eager loop that links every block. */
double bench_fixed_create_lazy(size_t size, size_t count, size_t repeats);
double bench_fixed_create_eager(size_t size, size_t count, size_t repeats);

/* Trace replay in C. Ops are parallel arrays: kind ('a', 'r', 'f'), id (< n_ids), size. */
typedef enum bench_pool { BENCH_MALLOC = 1, BENCH_BUMP = 2, BENCH_FIXED = 3, BENCH_EMBEDDED = 4 } bench_pool;

typedef struct bench_result {
    double ns_per_op;   /* median over the repeats */
    double mean_steps;  /* machine-independent work per op (slots scanned, nodes visited) */
    size_t max_steps;   /* worst op; 0 when the allocator cannot say (libc) */
    size_t failures;    /* ops the pool refused (out of memory, too big for the block) */
} bench_result;

/* Replay on a fresh pool per repeat; `param` is the block size (fixed) or capacity (bump,
 * embedded); fixed and embedded pools get `max_live` blocks / table slots. A bump pool
 * releases a freed block once every newer one is freed too (a stack); reallocs copy. */
int bench_replay(int pool, const char *kinds, const size_t *ids, const size_t *sizes,
                 size_t n_ops, size_t n_ids, size_t max_live, size_t param, size_t repeats,
                 bench_result *out);

#endif
