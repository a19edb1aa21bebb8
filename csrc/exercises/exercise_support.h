/* exercise_support.h - what exercise cells may use beside the C library: a tracked allocator
 * (malloc, calloc, realloc and free in a cell are these, so the checks know every block's size
 * and count the live ones), the "not implemented yet" marker of released stubs, and the structs
 * the exercises are about. Student functions are named ex_* so none can shadow a libc symbol. */
#ifndef EXERCISE_SUPPORT_H
#define EXERCISE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* The tracked allocator. Its table of live blocks is private to exercise_support.c: no call
 * resets it, and freeing a pointer it never handed out is counted, not passed to libc.
 * Every block handed out, freed or moved is also appended to the ledger file EX_LEDGER in the
 * working directory (opened and closed within each call, so no descriptor of it is open while
 * the cell runs). The checks count from the ledger, not from this process's tables: a cell that
 * overwrites the tables next to its own variables cannot hide a block it leaked. */
#define EX_LEDGER ".mempools-ledger"
#define EX_MEMORY_BUDGET ((size_t)1 << 30) /* live bytes a cell may hold: then malloc says NULL */
void *ex_malloc(size_t size);
void *ex_calloc(size_t n, size_t size);
void *ex_realloc(void *block, size_t size);
void ex_free(void *block);
size_t ex_block_size(const void *block); /* bytes requested for a live block; 0 if unknown */
long ex_foreign_frees(void);             /* frees of pointers the allocator never handed out */

/* The names the leak exercise uses: the same tracked allocator. */
void *tracked_malloc(size_t size);
void tracked_free(void *block);
long tracked_live(void);

/* Called by the checker before any check: makes stdout unbuffered, so a crash loses nothing the
 * cell printed. From then on a NULL from malloc is also said on stderr (EX_MALLOC_FAILED), so a
 * runaway allocation is named even if the NULL then crashes the program. It is a message only:
 * the checker's private result channel and its key never pass through this library, so no
 * cell finds them next to its own static variables. */
void ex_checker_start(void);
#define EX_MALLOC_FAILED "mempools: malloc returned NULL"

/* A released stub calls this; the grader recognises the stub before running anything. */
void mp_not_implemented(void);

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

/* Workload features for choosing a pool (lesson 06's decision guide). */
typedef struct ex_workload {
    int sizes_all_equal;     /* every request has the same size */
    int freed_all_at_once;   /* objects die together (end of a request, frame, parse) */
    int malloc_available;    /* there is a C library heap to use at all */
    int must_not_fragment;   /* it runs for months in fixed memory */
} ex_workload;
enum { EX_MALLOC = 1, EX_BUMP = 2, EX_FIXED = 3, EX_EMBEDDED = 4 };

/* A free-list heap (lesson 05): the block format of free_list_pool.c, with pointers as links.
 * Blocks tile [start, end). Each starts with a header word, size | EX_ALLOC | EX_PREV_ALLOC (size
 * a multiple of EX_ALIGN, at least EX_MIN_BLOCK; the flags live in the low EX_FLAGS bits). A free
 * block holds its explicit-list links right after the header and ends with a footer, a copy of
 * its header; an allocated block has no footer: the next block's EX_PREV_ALLOC bit says it is in
 * use. `end` is the epilogue header (size 0, allocated), and the first block's EX_PREV_ALLOC bit
 * is set, so no walk needs a bounds test. Every free block is on the list exactly once. */
enum { EX_ALLOC = 1, EX_PREV_ALLOC = 2, EX_FLAGS = 15, EX_ALIGN = 16, EX_MIN_BLOCK = 32 };
typedef struct ex_fblock {
    size_t header;          /* size | EX_ALLOC | EX_PREV_ALLOC */
    struct ex_fblock *next; /* free blocks only: the next one on the list, NULL at its end */
    struct ex_fblock *prev; /* free blocks only: the one before it on the list, NULL at the head */
} ex_fblock;
typedef struct ex_heap {
    unsigned char *start;  /* the first block's header */
    unsigned char *end;    /* the epilogue header */
    ex_fblock *free_head;  /* the explicit free list (LIFO), NULL when empty */
} ex_heap;
void ex_list_push(ex_heap *h, ex_fblock *b); /* put free block b at the head of the list */

#endif
