/* fixed_pool.h - a pool of equal-sized blocks; the free list is threaded through the free
 * blocks themselves, and blocks never handed out are tracked by a high-water mark (lazy init). */
#ifndef FIXED_POOL_H
#define FIXED_POOL_H

#include "pool_common.h"

typedef struct fixed_pool fixed_pool;

/* A free block's first bytes: a real pointer to the next free block. It is a pointer, not an
 * integer offset, so the list works wherever the blocks live. */
typedef struct fixed_free_block {
    struct fixed_free_block *next; /* next free block, NULL at the end of the list */
} fixed_free_block;

/* What the inline fast paths below read and write: the first member of every fixed_pool
 * (private; shown here only so the fast paths inline into the caller's loop, as the fastest
 * allocators do). The fast paths serve a pool whose stride is a power of two: `blocks` equals
 * its high-water mark and its free list is `free_head`. Any other pool keeps blocks == 0 and
 * free_head == NULL (its list lives elsewhere), so every call takes the out-of-line path. */
typedef struct fixed_fast {
    fixed_free_block *free_head; /* most recently freed block (LIFO), or NULL */
    unsigned char *base;         /* block 0 */
    _Bool *allocated;            /* one flag per block: 1 while handed out (double-free check) */
    size_t blocks;               /* blocks the fast free accepts: the high-water mark, or 0 */
    size_t used;                 /* blocks currently handed out */
    unsigned stride_shift;       /* log2(stride) when the stride is a power of two, else 0 */
} fixed_fast;

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

/* O(1) allocation and free; free refuses foreign, interior and already-free pointers. Each is
 * an inline fast path for the common case and an out-of-line function for everything else
 * (an empty list, a pool whose stride is not a power of two, NULL arguments, errors). */
int fixed_pool_alloc_slow(fixed_pool *p, void **out);
int fixed_pool_free_slow(fixed_pool *p, void *block);

/* Pop the free list and mark the block allocated. */
static inline int fixed_pool_alloc(fixed_pool *p, void **out)
{
    fixed_fast *f = (fixed_fast *)(void *)p; /* a struct's address is its first member's */
    fixed_free_block *b;
    if (POOL_UNLIKELY(!p || !out || !(b = f->free_head))) return fixed_pool_alloc_slow(p, out);
    f->free_head = b->next;
    f->allocated[((uintptr_t)b - (uintptr_t)f->base) >> f->stride_shift] = 1;
    f->used++;
    *out = b;
    return POOL_OK;
}

/* Ownership in one compare: the offset from block 0, rotated right by log2(stride), is the
 * block's index when the offset is a multiple of the stride and huge otherwise (the low bits
 * rotate to the top; a pointer below block 0 wraps to a huge offset), so `index < blocks`
 * refuses foreign, interior and untouched pointers at once. Then the block's byte in the
 * allocated map catches a double free. */
static inline int fixed_pool_free(fixed_pool *p, void *block)
{
    enum { BITS = sizeof(uintptr_t) * 8 };
    fixed_fast *f = (fixed_fast *)(void *)p;
    if (POOL_UNLIKELY(!p)) return fixed_pool_free_slow(p, block);
    uintptr_t off = (uintptr_t)block - (uintptr_t)f->base;
    size_t i = (size_t)((off >> f->stride_shift) | (off << ((BITS - f->stride_shift) % BITS)));
    if (POOL_UNLIKELY(i >= f->blocks || !f->allocated[i])) return fixed_pool_free_slow(p, block);
    f->allocated[i] = 0;
    fixed_free_block *b = block;
    b->next = f->free_head;
    f->free_head = b;
    f->used--;
    return POOL_OK;
}

/* Inspection. */
void fixed_pool_stats(const fixed_pool *p, fixed_stats *s);
unsigned char *fixed_pool_base(const fixed_pool *p);
/* The index of the free block that block `index` links to (read from its bytes), -1 at the
 * end of the list; POOL_EINVAL when `index` is not a free block below the high-water mark. */
long fixed_pool_free_head(const fixed_pool *p); /* index of the first free block, or -1 */
int fixed_pool_free_next(const fixed_pool *p, size_t index, long *next);
void fixed_pool_walk(const fixed_pool *p, pool_walker fn, void *user);
const char *fixed_pool_check(const fixed_pool *p); /* NULL when sound */

/* Bytes the pool holds: its struct, one flag byte per block and every block (alignment
 * slack of the block memory left out). */
size_t fixed_pool_bytes_held(const fixed_pool *p);

#endif
