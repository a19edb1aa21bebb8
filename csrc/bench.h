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

#endif
