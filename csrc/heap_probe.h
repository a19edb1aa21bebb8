/* heap_probe.h - read-only looks at the C library's own heap, for lesson 01.
 * Nothing here allocates; it reports what libc already did. */
#ifndef HEAP_PROBE_H
#define HEAP_PROBE_H

#include <stddef.h>

/* The alignment malloc guarantees for every block: that of max_align_t. */
size_t heap_guaranteed_alignment(void);

/* 1 when the C library is glibc, whose chunk layout heap_chunk_size_field decodes. */
int heap_is_glibc(void);

/* Bytes the caller may really use in a block from malloc (>= requested); 0 when unknown. */
size_t heap_usable_size(void *block);

/* The size word glibc keeps just before a block (chunk size | flag bits); 0 off glibc. */
size_t heap_chunk_size_field(const void *block);

/* n * size as C computes it for size_t: wrapped modulo SIZE_MAX + 1, as an unchecked caller gets. */
size_t heap_product_unchecked(size_t n, size_t size);

/* n * size, or POOL_EOVERFLOW when it would wrap (the check every caller should make). */
int heap_product_checked(size_t n, size_t size, size_t *out);

/* The classic program, in C: fill n ints with i * i, then read them back and sum them. */
void heap_ints_fill(int *block, size_t n);
long long heap_ints_sum(const int *block, size_t n);

/* Lesson experiments run wholly in C, so no Python allocation lands between their calls. */

/* malloc(size), fill with 0xAB, free, malloc(size) again: copies the second block's bytes to
 * `after`, sets *same to 1 when libc handed back the same address. Frees everything. It first
 * frees one block of that size, so that on glibc the thread's cache of that size (tcache) is
 * not empty: the experiment's malloc then comes from that cache and leaves room in it for the
 * free, so the outcome does not depend on what the process did before (see heap_probe.c). */
int heap_reuse_experiment(size_t size, unsigned char *after, int *same);

/* n blocks of `size` back to back (it allocates until the last n are, up to
 * HEAP_CHECKERBOARD_TRIES, freeing the rest); fills the even ones with 'A', 'B', ... and frees
 * every odd one, leaving holes between live blocks. The odd entries of `blocks` are addresses only, never to be used. */
#define HEAP_CHECKERBOARD_TRIES 4096
int heap_checkerboard(size_t n, size_t size, void **blocks);

#endif
