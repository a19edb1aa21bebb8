/* free_list_bench.h - trace replay of the free-list allocator timed in C (kept beside bench.c
 * rather than inside it, with the same result type, so each allocator's loop stays its own). */
#ifndef FREE_LIST_BENCH_H
#define FREE_LIST_BENCH_H

#include "bench.h"

/* Replay the ops (parallel arrays: kind 'a'/'r'/'f', id < n_ids, size) on a fresh free-list
 * pool of `capacity` bytes per repeat, built with the given lists, fit, coalescing and flags.
 * Steps are the allocator's own count (blocks or list nodes visited); failures are refusals;
 * `footprint` gets the bytes the heap reached (control block included). */
int free_list_bench_replay(const char *kinds, const size_t *ids, const size_t *sizes,
                           size_t n_ops, size_t n_ids, size_t capacity, int lists, int fit,
                           int coalesce, unsigned flags, size_t repeats, bench_result *out,
                           size_t *footprint);

/* The same trace on libc malloc/realloc/free: the peak over the trace of the bytes its live
 * chunks occupy (usable size plus one size_t header each, as mp.Malloc counts them; 0 where
 * libc does not tell usable sizes). libc's free chunks are not visible, so this is a lower
 * bound on what it holds. */
int free_list_bench_libc_peak(const char *kinds, const size_t *ids, const size_t *sizes,
                              size_t n_ops, size_t n_ids, size_t *peak);

#endif
