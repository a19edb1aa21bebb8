/* fixed_pool.h - a pool of equal-sized blocks; the free list is threaded through the free
 * blocks themselves, and blocks never handed out are tracked by a high-water mark (lazy init). */
#ifndef FIXED_POOL_H
#define FIXED_POOL_H

#include "pool_common.h"

typedef struct fixed_pool fixed_pool;

typedef struct fixed_stats {
    size_t block_size;  /* bytes a caller asked for per block */
    size_t stride;      /* bytes between block starts (rounded for a pointer and alignment) */
    size_t count;       /* blocks in the pool */
    size_t used;        /* blocks handed out */
    size_t free;        /* blocks available (free list + untouched) */
    size_t high_water;  /* blocks ever touched; those beyond it were never initialised */
    size_t failed;      /* allocations refused because the pool was empty */
} fixed_stats;

/* Create over memory from malloc (or `a`, when not NULL); nothing leaks when it fails. */
int fixed_pool_create(fixed_pool **out, size_t block_size, size_t count, size_t align);
int fixed_pool_create_with(fixed_pool **out, size_t block_size, size_t count, size_t align,
                           const pool_allocator *a);
/* Create inside a caller's buffer (embedded use): the pool's header sits at its start. */
int fixed_pool_create_in(fixed_pool **out, void *buffer, size_t buffer_size, size_t block_size,
                         size_t count, size_t align);
/* Bytes a buffer for fixed_pool_create_in needs, or 0 when the sizes overflow. */
size_t fixed_pool_buffer_size(size_t block_size, size_t count, size_t align);
void fixed_pool_destroy(fixed_pool *p);

/* O(1) allocation and free; free refuses foreign, interior and already-free pointers. */
int fixed_pool_alloc(fixed_pool *p, void **out);
int fixed_pool_free(fixed_pool *p, void *block);

/* Inspection. */
void fixed_pool_stats(const fixed_pool *p, fixed_stats *s);
unsigned char *fixed_pool_base(const fixed_pool *p);
/* The index of the free block that block `index` links to (read from its bytes), -1 at the
 * end of the list; POOL_EINVAL when `index` is not a free block below the high-water mark. */
long fixed_pool_free_head(const fixed_pool *p); /* index of the first free block, or -1 */
int fixed_pool_free_next(const fixed_pool *p, size_t index, long *next);
void fixed_pool_walk(const fixed_pool *p, pool_walker fn, void *user);
const char *fixed_pool_check(const fixed_pool *p); /* NULL when sound */

/* Bytes the pool holds: its struct, the one-bit-per-block bitmap and every block (alignment
 * slack of the block memory left out). */
size_t fixed_pool_bytes_held(const fixed_pool *p);

#endif
