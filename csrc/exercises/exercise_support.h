/* exercise_support.h - what exercise cells may use beside the C library: a counting malloc
 * (to find leaks), the "not implemented yet" marker of released stubs, and the structs the
 * exercises are about. Student functions are named ex_* so none can shadow a libc symbol. */
#ifndef EXERCISE_SUPPORT_H
#define EXERCISE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* malloc/free that count live blocks, for the leak exercise. */
void *tracked_malloc(size_t size);
void tracked_free(void *block);
long tracked_live(void);
void tracked_reset(void);

/* Student files call this when they write malloc (see build.py): it is malloc, but a NULL
 * result is reported on stdout, so a runaway allocation is named even if the NULL then
 * crashes the program. */
void *ex_malloc_counted(size_t size);

/* Called by a released stub; the checks then say "not implemented yet". */
void mp_not_implemented(void);
int mp_was_not_implemented(void);

/* A bump allocator over caller memory (lesson 02). */
typedef struct ex_bump {
    unsigned char *base; /* first byte of the pool */
    size_t capacity;     /* bytes in the pool */
    size_t offset;       /* next free byte, from base */
} ex_bump;

/* A fixed-size pool with lazy initialisation (lesson 03). */
typedef struct ex_free_block {
    struct ex_free_block *next;
} ex_free_block;
typedef struct ex_fixed {
    unsigned char *blocks;   /* block 0 */
    size_t stride;           /* bytes between blocks (a multiple of 8, at least a pointer) */
    size_t count;            /* blocks in the pool */
    size_t high_water;       /* blocks ever handed out */
    ex_free_block *free_head; /* most recently freed block, NULL when none */
    unsigned char *in_use;   /* one byte per block: 1 while handed out */
} ex_fixed;

/* Reference implementations the exercises build on (not the ones students write). */
void *ex_ref_bump_alloc(ex_bump *b, size_t size);  /* 8-byte aligned, NULL when full */
void *ex_ref_fixed_alloc(ex_fixed *p);              /* sets in_use[i]; NULL when empty */

/* A block of the embedded pool's table (lesson 04): where it is, how big, whether pinned. */
typedef struct ex_block {
    size_t offset;
    size_t size;
    int locked;
} ex_block;

/* Workload features for choosing a pool (lesson 05). */
typedef struct ex_workload {
    int sizes_all_equal;     /* every request has the same size */
    int freed_all_at_once;   /* objects die together (end of a request, frame, parse) */
    int malloc_available;    /* there is a C library heap to use at all */
    int must_not_fragment;   /* it runs for months in fixed memory */
} ex_workload;
enum { EX_MALLOC = 1, EX_BUMP = 2, EX_FIXED = 3, EX_EMBEDDED = 4 };

#endif
