/* naive_pools.h - DELIBERATELY BROKEN allocators that the lessons run to show classic bugs.
 * Never linked into the real pools; every function is prefixed naive_ and says its bug. */
#ifndef NAIVE_POOLS_H
#define NAIVE_POOLS_H

#include <stddef.h>

/* Bump pool whose end is computed as start + size - 1: the last byte can never be handed out. */
typedef struct naive_bump {
    unsigned char *start; /* first byte */
    unsigned char *end;   /* BUG: points at the last byte, then used as one-past-the-end */
    unsigned char *top;   /* next free byte */
} naive_bump;
void naive_bump_init(naive_bump *b, void *memory, size_t size);
void *naive_bump_alloc(naive_bump *b, size_t size);

/* Fixed pool with a 12-byte stride (no rounding for pointer alignment), no overflow check on
 * count * size, a leak when its second allocation fails, and no double-free check. */
typedef struct naive_fixed {
    unsigned char *blocks; /* block memory */
    size_t stride;         /* BUG: the requested size, not rounded */
    size_t count;          /* blocks */
    void *free_head;       /* free list stored at each block's (possibly misaligned) start */
    size_t bytes;          /* count * stride as computed (may have wrapped) */
} naive_fixed;
/* fail_second: make the block-memory malloc fail, to show the header leaking. Returns NULL. */
naive_fixed *naive_fixed_create(size_t block_size, size_t count, int fail_second);
void *naive_fixed_alloc(naive_fixed *p);
void naive_fixed_free(naive_fixed *p, void *block);
void naive_fixed_destroy(naive_fixed *p);
/* Bytes still allocated by naive_fixed_create that nobody can free (the leak). */
size_t naive_fixed_leaked(void);
void naive_fixed_forget_leaks(void);

/* Embedded pool that places each new block right after the previous slot's block without
 * checking the gap, and a realloc that can only shift later blocks. Offsets are in bytes. */
#define NAIVE_EMB_SLOTS 16
typedef struct naive_embedded {
    unsigned char *memory;          /* the pool bytes */
    size_t size;                    /* bytes in memory */
    size_t offset[NAIVE_EMB_SLOTS]; /* block start */
    size_t length[NAIVE_EMB_SLOTS]; /* block size, 0 when free */
    int last;                       /* slot allocated last, -1 before the first */
} naive_embedded;
void naive_embedded_init(naive_embedded *p, void *memory, size_t size);
int naive_embedded_alloc(naive_embedded *p, size_t size);           /* slot, or -1 */
void naive_embedded_free(naive_embedded *p, int slot);
int naive_embedded_realloc(naive_embedded *p, int slot, size_t size); /* 0 ok, -1 failed */

#endif
