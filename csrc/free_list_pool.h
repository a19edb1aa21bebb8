/* free_list_pool.h - a general-purpose allocator over one caller-provided region, the kind that
 * sits inside malloc: headers with boundary tags, implicit / explicit / segregated free lists,
 * first / next / best / worst fit, splitting and immediate or deferred coalescing. The heap
 * grows from the start of the region like sbrk, so its footprint is what it has touched. */
#ifndef FREE_LIST_POOL_H
#define FREE_LIST_POOL_H

#include "pool_common.h"

typedef struct free_list_pool free_list_pool;

#define FL_ALIGN 16      /* every payload is 16-aligned, as glibc's are */
#define FL_MIN_BLOCK 32  /* header + two links + footer, rounded to FL_ALIGN */
#define FL_CLASSES 10    /* segregated size classes: <=32, <=64, ..., <=8192, larger */

/* How free blocks are found. */
typedef enum fl_lists {
    FL_IMPLICIT = 0,   /* no list: walk every block, allocated ones too */
    FL_EXPLICIT = 1,   /* one doubly linked list through the free payloads, newest first */
    FL_ADDRESS = 2,    /* one doubly linked list kept in address order */
    FL_SEGREGATED = 3  /* FL_CLASSES lists by size class, newest first in each */
} fl_lists;

/* Which free block a request takes. */
typedef enum fl_fit {
    FL_FIRST = 0, /* the first that fits */
    FL_NEXT = 1,  /* the first that fits after where the last search stopped */
    FL_BEST = 2,  /* the smallest that fits */
    FL_WORST = 3  /* the largest */
} fl_fit;

/* When free neighbours merge. */
typedef enum fl_coalesce {
    FL_IMMEDIATE = 0, /* on every free */
    FL_DEFERRED = 1,  /* in one sweep, when a search fails and merging would make room */
    FL_NEVER = 2      /* not at all (to show why it matters) */
} fl_coalesce;

/* Create flags. */
#define FL_NO_SPLIT 1u       /* hand out a whole free block even when its tail could be split */
#define FL_FOOTER_ALWAYS 2u  /* a footer on allocated blocks too (what the prev-allocated bit saves) */

typedef struct fl_stats {
    size_t capacity;     /* bytes in the caller's region */
    size_t table_bytes;  /* control block and alignment in front of the first block */
    size_t heap_bytes;   /* bytes from the region's start to the heap's end: the footprint */
    size_t used_blocks;  /* allocated blocks */
    size_t used_bytes;   /* their sizes, headers included */
    size_t free_blocks;  /* free blocks */
    size_t free_bytes;   /* their sizes, headers and footers included */
    size_t largest_free; /* the biggest free block */
    size_t allocs, frees, reallocs, failed; /* calls that succeeded / refused for lack of room */
    size_t splits, coalesces, extends;      /* blocks split, merges, heap growths */
    size_t last_steps;   /* blocks or list nodes visited by the last call */
    size_t max_steps;    /* the worst call so far */
    size_t total_steps;  /* over all alloc, free and realloc calls */
    size_t ops;          /* alloc, free and realloc calls counted in total_steps */
} fl_stats;

/* Create inside `region` (its control block sits at the start); nothing outside it is used. */
int free_list_pool_create_in(free_list_pool **out, void *region, size_t size, int lists, int fit,
                             int coalesce, unsigned flags);

/* malloc, free and realloc. On any error the pool is unchanged and *out is NULL. realloc
 * shrinks in place, grows into a free right neighbour (or the heap's end), else moves. */
int free_list_pool_alloc(free_list_pool *p, size_t size, void **out);
int free_list_pool_free(free_list_pool *p, void *block);
int free_list_pool_realloc(free_list_pool *p, void *block, size_t size, void **out);
/* Merge every run of free neighbours now (what deferred coalescing does on a failed search). */
void free_list_pool_coalesce(free_list_pool *p);

/* Inspection. Offsets count from the region's start. */
void free_list_pool_stats(const free_list_pool *p, fl_stats *s);
unsigned char *free_list_pool_base(const free_list_pool *p);
/* Bytes a block of `size` requested bytes occupies, or 0 when it cannot exist. */
size_t free_list_pool_block_size(const free_list_pool *p, size_t size);
/* How many free lists there are (0 for implicit) and the offset of list k's first block's
 * header (0: empty). The links themselves are read from the free blocks' bytes. */
size_t free_list_pool_lists(const free_list_pool *p);
size_t free_list_pool_list_head(const free_list_pool *p, size_t k);
void free_list_pool_walk(const free_list_pool *p, pool_walker fn, void *user);
const char *free_list_pool_check(const free_list_pool *p); /* NULL when sound */

#endif
