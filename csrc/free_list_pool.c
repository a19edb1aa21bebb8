/* free_list_pool.c - boundary tags, three kinds of free list, four fits, split and coalesce. */
#include "free_list_pool.h"

#include <string.h>

/* Block layout (W = sizeof(size_t); offsets count from the region's start):
 *   header  at b:              size | ALLOC_BIT | PREV_ALLOC_BIT   (size a multiple of 16)
 *   payload at b + W:          16-aligned, what the caller gets
 *   free blocks only: next link at b + W, prev link at b + 2W (header offsets, NIL ends),
 *                     footer at b + size - W, equal to the header (the boundary tag)
 * Allocated blocks carry no footer (unless FL_FOOTER_ALWAYS): the next block's PREV_ALLOC_BIT
 * says the left neighbour is in use, and only a free left neighbour's footer is ever read.
 * The heap is [heap_start, brk): blocks tile it, and an epilogue header (size 0, allocated)
 * sits in its last word, so every walk stops without a bounds test. */
#define WORD sizeof(size_t)
#define ALLOC_BIT ((size_t)1)
#define PREV_ALLOC_BIT ((size_t)2)
#define FLAG_BITS ((size_t)(FL_ALIGN - 1))
#define NIL ((size_t)0) /* offset 0 is the control block: never a block */

_Static_assert((FL_ALIGN & (FL_ALIGN - 1)) == 0, "FL_ALIGN is a power of two");
_Static_assert(FL_ALIGN % sizeof(size_t) == 0, "headers sit one word before an aligned payload");
_Static_assert(FL_MIN_BLOCK % FL_ALIGN == 0, "block sizes are multiples of FL_ALIGN");
_Static_assert(FL_MIN_BLOCK >= 4 * sizeof(size_t), "a free block holds header, 2 links, footer");
_Static_assert(FL_ALIGN > (ALLOC_BIT | PREV_ALLOC_BIT), "flag bits live below the alignment");

/* The control block at the start of the region. Invariants: heap_start + W is 16-aligned in
 * memory; heap_start < brk <= size; every free block is on exactly one list (none when
 * implicit), in its size class; a rover is NIL or a free block on its list; the counters
 * agree with a walk of the heap. */
struct free_list_pool {
    unsigned char *base;        /* the caller's region */
    size_t size;                /* bytes in the region */
    size_t heap_start;          /* offset of the first block's header */
    size_t brk;                 /* end of the heap (just past the epilogue header) */
    int lists, fit, coalesce;   /* the fl_lists, fl_fit and fl_coalesce chosen at create */
    unsigned flags;             /* FL_NO_SPLIT, FL_FOOTER_ALWAYS */
    size_t nlists;              /* 0 (implicit), 1 (explicit) or FL_CLASSES (segregated) */
    size_t head[FL_CLASSES];    /* first free block of each list, NIL when empty */
    size_t rover[FL_CLASSES];   /* next fit: where the next search of each list starts */
    size_t rover_block;         /* next fit on the implicit list: a block's header */
    size_t used_blocks, used_bytes, free_blocks, free_bytes;
    size_t allocs, frees, reallocs, failed, splits, coalesces, extends;
    size_t steps, max_steps, total_steps, ops;
};

/* -- words and headers ------------------------------------------------------------------- */
static size_t word_get(const free_list_pool *p, size_t off)
{
    size_t v;
    memcpy(&v, p->base + off, WORD);
    return v;
}

static void word_put(free_list_pool *p, size_t off, size_t v)
{
    memcpy(p->base + off, &v, WORD);
}

static size_t block_size(const free_list_pool *p, size_t b)
{
    return word_get(p, b) & ~FLAG_BITS;
}

static int block_allocated(const free_list_pool *p, size_t b)
{
    return (word_get(p, b) & ALLOC_BIT) != 0;
}

static int block_prev_allocated(const free_list_pool *p, size_t b)
{
    return (word_get(p, b) & PREV_ALLOC_BIT) != 0;
}

static size_t block_next(const free_list_pool *p, size_t b)
{
    return b + block_size(p, b);
}

/* Only valid when the left neighbour is free: its footer is the word before b. */
static size_t block_prev(const free_list_pool *p, size_t b)
{
    return b - (word_get(p, b - WORD) & ~FLAG_BITS);
}

static int has_footer(const free_list_pool *p, int allocated)
{
    return !allocated || (p->flags & FL_FOOTER_ALWAYS);
}

/* Write a block's header (and its footer when it has one). */
static void block_set(free_list_pool *p, size_t b, size_t size, int allocated, int prev_allocated)
{
    size_t v = size | (allocated ? ALLOC_BIT : 0) | (prev_allocated ? PREV_ALLOC_BIT : 0);
    word_put(p, b, v);
    if (size && has_footer(p, allocated)) word_put(p, b + size - WORD, v);
}

static void block_set_prev_allocated(free_list_pool *p, size_t b, int prev_allocated)
{
    block_set(p, b, block_size(p, b), block_allocated(p, b), prev_allocated);
}

static size_t epilogue(const free_list_pool *p)
{
    return p->brk - WORD;
}

static size_t link_next(const free_list_pool *p, size_t b)
{
    return word_get(p, b + WORD);
}

static size_t link_prev(const free_list_pool *p, size_t b)
{
    return word_get(p, b + 2 * WORD);
}

/* -- free lists -------------------------------------------------------------------------- */
static size_t class_of(size_t size)
{
    size_t k = 0;
    while (k + 1 < FL_CLASSES && size > ((size_t)FL_MIN_BLOCK << k)) k++;
    return k;
}

static size_t list_of(const free_list_pool *p, size_t size)
{
    return p->lists == FL_SEGREGATED ? class_of(size) : 0;
}

static void list_link(free_list_pool *p, size_t k, size_t b, size_t prev, size_t next)
{
    word_put(p, b + WORD, next);
    word_put(p, b + 2 * WORD, prev);
    if (prev) word_put(p, prev + WORD, b);
    else p->head[k] = b;
    if (next) word_put(p, next + 2 * WORD, b);
}

static void list_insert(free_list_pool *p, size_t b)
{
    size_t k = list_of(p, block_size(p, b)), prev = NIL, next = p->head[k];
    if (p->lists == FL_ADDRESS) {
        while (next && next < b) {
            p->steps++;
            prev = next;
            next = link_next(p, next);
        }
    }
    list_link(p, k, b, prev, next);
}

static void list_remove(free_list_pool *p, size_t b)
{
    size_t k = list_of(p, block_size(p, b)), prev = link_prev(p, b), next = link_next(p, b);
    if (prev) word_put(p, prev + WORD, next);
    else p->head[k] = next;
    if (next) word_put(p, next + 2 * WORD, prev);
    if (p->rover[k] == b) p->rover[k] = next;
}

/* A block becomes free (its header already says so): count it and list it. */
static void free_add(free_list_pool *p, size_t b)
{
    p->free_blocks++;
    p->free_bytes += block_size(p, b);
    if (p->nlists) list_insert(p, b);
}

/* A free block is about to be used or merged: uncount and unlist it. */
static void free_take(free_list_pool *p, size_t b)
{
    p->free_blocks--;
    p->free_bytes -= block_size(p, b);
    if (p->nlists) list_remove(p, b);
}

/* -- coalescing -------------------------------------------------------------------------- */
/* Merge free block b (not counted yet) with its free neighbours; returns the merged block. */
static size_t coalesce(free_list_pool *p, size_t b)
{
    size_t size = block_size(p, b), next = b + size;
    if (!block_allocated(p, next)) {
        p->steps++;
        p->coalesces++;
        free_take(p, next);
        size += block_size(p, next);
        if (p->rover_block == next) p->rover_block = b;
    }
    if (!block_prev_allocated(p, b)) {
        size_t prev = block_prev(p, b);
        p->steps++;
        p->coalesces++;
        free_take(p, prev);
        size += block_size(p, prev);
        if (p->rover_block == b) p->rover_block = prev;
        b = prev;
    }
    block_set(p, b, size, 0, block_prev_allocated(p, b));
    return b;
}

/* Would merging free runs make a block of `need` bytes? (Asked before a sweep, so a sweep
 * happens only when it helps and a refused request leaves the heap as it was.) */
static int sweep_would_fit(free_list_pool *p, size_t need)
{
    size_t run = 0;
    for (size_t b = p->heap_start; b < epilogue(p); b = block_next(p, b)) {
        p->steps++;
        run = block_allocated(p, b) ? 0 : run + block_size(p, b);
        if (run >= need) return 1;
    }
    return 0;
}

static void sweep(free_list_pool *p)
{
    size_t b = p->heap_start;
    while (b < epilogue(p)) {
        size_t next = block_next(p, b);
        p->steps++;
        if (!block_allocated(p, b) && !block_allocated(p, next)) {
            free_take(p, b);
            free_take(p, next);
            block_set(p, b, block_size(p, b) + block_size(p, next), 0, block_prev_allocated(p, b));
            if (p->rover_block == next) p->rover_block = b;
            p->coalesces++;
            free_add(p, b);
            continue; /* b may merge with its new right neighbour too */
        }
        b = next;
    }
}

void free_list_pool_coalesce(free_list_pool *p)
{
    if (p) sweep(p);
}

/* -- searching --------------------------------------------------------------------------- */
/* Keep the better of `best` and candidate b for this fit; 1 when the search can stop. */
static int fit_consider(const free_list_pool *p, size_t b, size_t need, size_t *best)
{
    size_t size = block_size(p, b);
    if (size < need) return 0;
    if (p->fit == FL_FIRST || p->fit == FL_NEXT) {
        *best = b;
        return 1;
    }
    if (*best == NIL || (p->fit == FL_BEST ? size < block_size(p, *best)
                                           : size > block_size(p, *best)))
        *best = b;
    return p->fit == FL_BEST && size == need;
}

/* Visit blocks [from, to) of the implicit list. */
static int implicit_scan(free_list_pool *p, size_t from, size_t to, size_t need, size_t *best)
{
    for (size_t b = from; b < to; b = block_next(p, b)) {
        p->steps++;
        if (!block_allocated(p, b) && fit_consider(p, b, need, best)) return 1;
    }
    return 0;
}

static size_t implicit_find(free_list_pool *p, size_t need)
{
    size_t best = NIL, start = p->heap_start;
    if (p->fit == FL_NEXT && p->rover_block) start = p->rover_block;
    if (!implicit_scan(p, start, epilogue(p), need, &best))
        implicit_scan(p, p->heap_start, start, need, &best);
    if (best && p->fit == FL_NEXT) p->rover_block = best;
    return best;
}

/* Visit list k from `from` up to (not including) `stop` (NIL: to the end). */
static int list_scan(free_list_pool *p, size_t from, size_t stop, size_t need, size_t *best)
{
    for (size_t b = from; b && b != stop; b = link_next(p, b)) {
        p->steps++;
        if (fit_consider(p, b, need, best)) return 1;
    }
    return 0;
}

static size_t listed_find(free_list_pool *p, size_t need)
{
    size_t best = NIL;
    for (size_t k = list_of(p, need); k < p->nlists; k++) {
        if (p->fit == FL_NEXT && p->rover[k]) {
            if (!list_scan(p, p->rover[k], NIL, need, &best))
                list_scan(p, p->head[k], p->rover[k], need, &best);
        } else {
            list_scan(p, p->head[k], NIL, need, &best);
        }
        /* classes hold disjoint size ranges: a fit found here beats any in a larger class,
         * except for worst fit, which must see them all */
        if (best && p->fit != FL_WORST) break;
    }
    if (best && p->fit == FL_NEXT) p->rover[list_of(p, block_size(p, best))] = best;
    return best;
}

static size_t find_fit(free_list_pool *p, size_t need)
{
    return p->nlists ? listed_find(p, need) : implicit_find(p, need);
}

/* -- growing the heap -------------------------------------------------------------------- */
/* Grow the heap so that a free block of `need` bytes ends it (merged with a free last block
 * unless coalescing is off); NIL when the region has no room. The block is counted and listed. */
static size_t extend(free_list_pool *p, size_t need)
{
    size_t b = epilogue(p), have = 0, grow;
    if (!block_prev_allocated(p, b) && p->coalesce != FL_NEVER) have = block_size(p, block_prev(p, b));
    grow = need - have;
    if (grow > p->size - p->brk) return NIL;
    p->steps++;
    p->extends++;
    block_set(p, b, grow, 0, block_prev_allocated(p, b));
    p->brk += grow;
    block_set(p, epilogue(p), 0, 1, 0);
    if (p->coalesce != FL_NEVER) b = coalesce(p, b);
    free_add(p, b);
    return b;
}

/* -- placing ----------------------------------------------------------------------------- */
/* Mark allocated block b (counted as used) to be `need` bytes, freeing a tail big enough to
 * be a block of its own. */
static void block_trim(free_list_pool *p, size_t b, size_t need)
{
    size_t size = block_size(p, b), rest;
    if ((p->flags & FL_NO_SPLIT) || size - need < FL_MIN_BLOCK) return;
    rest = b + need;
    p->splits++;
    p->used_bytes -= size - need;
    block_set(p, b, need, 1, block_prev_allocated(p, b));
    block_set(p, rest, size - need, 0, 1);
    block_set_prev_allocated(p, block_next(p, rest), 0);
    if (p->coalesce == FL_IMMEDIATE) rest = coalesce(p, rest);
    free_add(p, rest);
}

/* Hand out free block b (counted and listed) for a request of `need` bytes. */
static void place(free_list_pool *p, size_t b, size_t need)
{
    free_take(p, b);
    block_set(p, b, block_size(p, b), 1, block_prev_allocated(p, b));
    block_set_prev_allocated(p, block_next(p, b), 1);
    p->used_blocks++;
    p->used_bytes += block_size(p, b);
    block_trim(p, b, need);
    if (p->fit == FL_NEXT && !p->nlists) p->rover_block = block_next(p, b);
}

/* Bytes a block needs for `size` payload bytes: header (+ footer), rounded, at least the
 * minimum. 0 when the arithmetic would wrap. */
static size_t block_need(const free_list_pool *p, size_t size)
{
    size_t need, tags = (p->flags & FL_FOOTER_ALWAYS) ? 2 * WORD : WORD;
    if (size_add(size, tags, &need) != POOL_OK) return 0;
    if (size_align_up(need, FL_ALIGN, &need) != POOL_OK) return 0;
    return need < FL_MIN_BLOCK ? FL_MIN_BLOCK : need;
}

static size_t payload_size(const free_list_pool *p, size_t b)
{
    return block_size(p, b) - ((p->flags & FL_FOOTER_ALWAYS) ? 2 * WORD : WORD);
}

/* -- bookkeeping per call ---------------------------------------------------------------- */
static void op_begin(free_list_pool *p)
{
    p->steps = 1;
}

static int op_end(free_list_pool *p, int result)
{
    p->ops++;
    p->total_steps += p->steps;
    if (p->steps > p->max_steps) p->max_steps = p->steps;
    return result;
}

/* The block whose payload is `ptr`: cheap O(1) checks in the spirit of glibc's, refusing
 * pointers outside the heap, misaligned ones, implausible headers and already-free blocks. */
static int block_of(const free_list_pool *p, const void *ptr, size_t *out)
{
    uintptr_t a = (uintptr_t)ptr, lo = (uintptr_t)(p->base + p->heap_start + WORD);
    uintptr_t hi = (uintptr_t)(p->base + epilogue(p));
    size_t b, h, size;
    if (a < lo || a >= hi || a % FL_ALIGN) return POOL_EFOREIGN;
    b = (size_t)(a - (uintptr_t)p->base) - WORD;
    h = word_get(p, b);
    size = h & ~FLAG_BITS;
    if (size < FL_MIN_BLOCK || size > epilogue(p) - b) return POOL_EFOREIGN;
    if (!(h & ALLOC_BIT)) return POOL_EDOUBLEFREE;
    if (!block_prev_allocated(p, b + size)) return POOL_EFOREIGN;
    *out = b;
    return POOL_OK;
}

/* -- the public calls -------------------------------------------------------------------- */
int free_list_pool_create_in(free_list_pool **out, void *region, size_t size, int lists, int fit,
                             int coalesce, unsigned flags)
{
    uintptr_t start, first;
    free_list_pool *p;
    if (!out) return POOL_EINVAL;
    *out = NULL;
    if (!region || lists < FL_IMPLICIT || lists > FL_SEGREGATED || fit < FL_FIRST ||
        fit > FL_WORST || coalesce < FL_IMMEDIATE || coalesce > FL_NEVER ||
        (flags & ~(FL_NO_SPLIT | FL_FOOTER_ALWAYS)))
        return POOL_EINVAL;
    start = ((uintptr_t)region + _Alignof(free_list_pool) - 1) & ~(uintptr_t)(_Alignof(free_list_pool) - 1);
    first = (start + sizeof *p + WORD + FL_ALIGN - 1) & ~(uintptr_t)(FL_ALIGN - 1);
    /* room for the control block, the first header and the epilogue */
    if (size < WORD || (uintptr_t)region > UINTPTR_MAX - size || first > (uintptr_t)region + size)
        return POOL_ENOMEM;
    p = (free_list_pool *)(void *)start;
    memset(p, 0, sizeof *p);
    p->base = region;
    p->size = size;
    p->heap_start = (size_t)(first - (uintptr_t)region) - WORD;
    p->brk = p->heap_start + WORD;
    p->lists = lists;
    p->fit = fit;
    p->coalesce = coalesce;
    p->flags = flags;
    p->nlists = lists == FL_IMPLICIT ? 0 : lists == FL_SEGREGATED ? FL_CLASSES : 1;
    block_set(p, epilogue(p), 0, 1, 1);
    *out = p;
    return POOL_OK;
}

int free_list_pool_alloc(free_list_pool *p, size_t size, void **out)
{
    size_t need, b;
    if (!out) return POOL_EINVAL;
    *out = NULL;
    if (!p || size == 0) return POOL_EINVAL;
    need = block_need(p, size);
    if (need == 0) return POOL_EOVERFLOW;
    op_begin(p);
    b = find_fit(p, need);
    if (!b && p->coalesce == FL_DEFERRED && sweep_would_fit(p, need)) {
        sweep(p);
        b = find_fit(p, need);
    }
    if (!b) b = extend(p, need);
    if (!b) {
        p->failed++;
        return op_end(p, POOL_ENOMEM);
    }
    place(p, b, need);
    p->allocs++;
    *out = p->base + b + WORD;
    return op_end(p, POOL_OK);
}

/* Free block b (allocated, checked): mark it free, merge if immediate, list it. */
static void block_release(free_list_pool *p, size_t b)
{
    p->used_blocks--;
    p->used_bytes -= block_size(p, b);
    block_set(p, b, block_size(p, b), 0, block_prev_allocated(p, b));
    block_set_prev_allocated(p, block_next(p, b), 0);
    if (p->coalesce == FL_IMMEDIATE) b = coalesce(p, b);
    free_add(p, b);
}

int free_list_pool_free(free_list_pool *p, void *block)
{
    size_t b;
    int err;
    if (!p || !block) return POOL_EINVAL;
    err = block_of(p, block, &b);
    if (err != POOL_OK) return err;
    op_begin(p);
    block_release(p, b);
    p->frees++;
    return op_end(p, POOL_OK);
}

/* Grow allocated block b to `need` bytes without moving it, if its right neighbour is free
 * and big enough or is the end of the heap. 1 when done. */
static int grow_in_place(free_list_pool *p, size_t b, size_t need)
{
    size_t size = block_size(p, b), next = b + size, grown;
    if (next == epilogue(p)) {
        if (need - size > p->size - p->brk) return 0;
        p->extends++;
        p->brk += need - size;
        grown = need;
        block_set(p, epilogue(p), 0, 1, 1);
    } else if (!block_allocated(p, next) && size + block_size(p, next) >= need) {
        p->steps++;
        free_take(p, next);
        grown = size + block_size(p, next);
        block_set_prev_allocated(p, block_next(p, next), 1);
    } else {
        return 0;
    }
    if (p->rover_block == next) p->rover_block = b;
    p->used_bytes += grown - size;
    block_set(p, b, grown, 1, block_prev_allocated(p, b));
    block_trim(p, b, need);
    return 1;
}

int free_list_pool_realloc(free_list_pool *p, void *block, size_t size, void **out)
{
    size_t b, need, keep;
    void *moved;
    int err;
    if (!out) return POOL_EINVAL;
    *out = NULL;
    if (!p || size == 0) return POOL_EINVAL;
    if (!block) return free_list_pool_alloc(p, size, out);
    err = block_of(p, block, &b);
    if (err != POOL_OK) return err;
    need = block_need(p, size);
    if (need == 0) return POOL_EOVERFLOW;
    keep = payload_size(p, b);
    op_begin(p);
    if (need <= block_size(p, b)) {
        block_trim(p, b, need);
    } else if (!grow_in_place(p, b, need)) {
        size_t steps = p->steps;
        err = free_list_pool_alloc(p, size, &moved);
        p->ops--; /* counted once, as this realloc */
        p->total_steps -= p->steps;
        p->steps += steps;
        if (err != POOL_OK) return op_end(p, err);
        memcpy(moved, block, keep < size ? keep : size);
        p->allocs--;
        block_release(p, b);
        p->reallocs++;
        *out = moved;
        return op_end(p, POOL_OK);
    }
    p->reallocs++;
    *out = block;
    return op_end(p, POOL_OK);
}

/* -- inspection -------------------------------------------------------------------------- */
void free_list_pool_stats(const free_list_pool *p, fl_stats *s)
{
    if (!p || !s) return;
    memset(s, 0, sizeof *s);
    s->capacity = p->size;
    s->table_bytes = p->heap_start;
    s->heap_bytes = p->brk;
    s->used_blocks = p->used_blocks;
    s->used_bytes = p->used_bytes;
    s->free_blocks = p->free_blocks;
    s->free_bytes = p->free_bytes;
    for (size_t b = p->heap_start; b < epilogue(p); b = block_next(p, b))
        if (!block_allocated(p, b) && block_size(p, b) > s->largest_free)
            s->largest_free = block_size(p, b);
    s->allocs = p->allocs;
    s->frees = p->frees;
    s->reallocs = p->reallocs;
    s->failed = p->failed;
    s->splits = p->splits;
    s->coalesces = p->coalesces;
    s->extends = p->extends;
    s->last_steps = p->steps;
    s->max_steps = p->max_steps;
    s->total_steps = p->total_steps;
    s->ops = p->ops;
}

unsigned char *free_list_pool_base(const free_list_pool *p)
{
    return p ? p->base : NULL;
}

size_t free_list_pool_block_size(const free_list_pool *p, size_t size)
{
    return p && size ? block_need(p, size) : 0;
}

size_t free_list_pool_lists(const free_list_pool *p)
{
    return p ? p->nlists : 0;
}

size_t free_list_pool_list_head(const free_list_pool *p, size_t k)
{
    return p && k < p->nlists ? p->head[k] : NIL;
}

void free_list_pool_walk(const free_list_pool *p, pool_walker fn, void *user)
{
    if (!p || !fn) return;
    fn(0, p->heap_start, POOL_REGION_TABLE, -1, user);
    for (size_t b = p->heap_start; b < epilogue(p); b = block_next(p, b)) {
        size_t size = block_size(p, b);
        int allocated = block_allocated(p, b), footer = has_footer(p, allocated);
        long owner = allocated ? (long)(b + WORD) : -1;
        fn(b, WORD, POOL_REGION_HEADER, owner, user);
        fn(b + WORD, size - (footer ? 2 : 1) * WORD,
           allocated ? POOL_REGION_PAYLOAD : POOL_REGION_FREE, owner, user);
        if (footer) fn(b + size - WORD, WORD, POOL_REGION_FOOTER, owner, user);
    }
    fn(epilogue(p), WORD, POOL_REGION_HEADER, -1, user);
    if (p->brk < p->size) fn(p->brk, p->size - p->brk, POOL_REGION_UNTOUCHED, -1, user);
}

/* Walk the heap: tiling, tags, prev-allocated bits, adjacency, counts. */
static const char *check_blocks(const free_list_pool *p)
{
    size_t b = p->heap_start, used = 0, used_bytes = 0, nfree = 0, free_bytes = 0;
    int prev_allocated = 1;
    while (b < epilogue(p)) {
        size_t size = block_size(p, b);
        if (size < FL_MIN_BLOCK || size % FL_ALIGN || size > epilogue(p) - b)
            return "a block's size is not a multiple of 16, below the minimum or past the heap";
        if (block_prev_allocated(p, b) != prev_allocated)
            return "a block's prev-allocated bit disagrees with its left neighbour";
        if (has_footer(p, block_allocated(p, b)) && word_get(p, b + size - WORD) != word_get(p, b))
            return "a block's footer differs from its header";
        if (!block_allocated(p, b) && !prev_allocated && p->coalesce == FL_IMMEDIATE)
            return "two free blocks are adjacent although coalescing is immediate";
        prev_allocated = block_allocated(p, b);
        if (prev_allocated) used++, used_bytes += size;
        else nfree++, free_bytes += size;
        b += size;
    }
    if (b != epilogue(p) || word_get(p, b) != (ALLOC_BIT | (prev_allocated ? PREV_ALLOC_BIT : 0)))
        return "the blocks do not end exactly at an intact epilogue header";
    if (used != p->used_blocks || used_bytes != p->used_bytes)
        return "the allocated block count or bytes disagree with the heap";
    if (nfree != p->free_blocks || free_bytes != p->free_bytes)
        return "the free block count or bytes disagree with the heap";
    return NULL;
}

/* Is b the header offset of a block in the heap? */
static int is_block(const free_list_pool *p, size_t b)
{
    for (size_t c = p->heap_start; c < epilogue(p); c = block_next(p, c))
        if (c == b) return 1;
    return 0;
}

/* Follow every list: members plausible free blocks in their class, links both ways, order,
 * rovers. "Every free block on exactly one list" without extra memory: the lists must hold as
 * many blocks as the heap has free ones, with the same sum of offsets and of squared offsets. */
static const char *check_lists(const free_list_pool *p)
{
    size_t listed = 0, sum = 0, squares = 0, heap_sum = 0, heap_squares = 0;
    for (size_t k = 0; k < p->nlists; k++) {
        size_t prev = NIL;
        int rover_seen = p->rover[k] == NIL;
        for (size_t b = p->head[k]; b; prev = b, b = link_next(p, b)) {
            if (++listed > p->free_blocks) return "the free lists hold more blocks than are free (a cycle?)";
            if (b < p->heap_start || b >= epilogue(p) || b % FL_ALIGN != p->heap_start % FL_ALIGN ||
                block_allocated(p, b) || block_size(p, b) > epilogue(p) - b)
                return "a free list links to something that is not a free block";
            if (link_prev(p, b) != prev) return "a free list's prev link does not match its next link";
            if (list_of(p, block_size(p, b)) != k) return "a free block is on the wrong size class list";
            if (p->lists == FL_ADDRESS && prev && prev >= b)
                return "the address-ordered free list is out of order";
            rover_seen |= p->rover[k] == b;
            sum += b;
            squares += b * b;
        }
        if (!rover_seen) return "a next-fit rover points at a block not on its list";
    }
    if (!p->nlists) {
        if (p->rover_block && !is_block(p, p->rover_block) && p->rover_block != epilogue(p))
            return "the next-fit rover is not at a block";
        return NULL;
    }
    for (size_t b = p->heap_start; b < epilogue(p); b = block_next(p, b))
        if (!block_allocated(p, b)) heap_sum += b, heap_squares += b * b;
    if (listed != p->free_blocks || sum != heap_sum || squares != heap_squares)
        return "the free lists and the heap's free blocks differ (one is on no list or on two)";
    return NULL;
}

const char *free_list_pool_check(const free_list_pool *p)
{
    const char *problem;
    if (!p) return "no pool";
    if (p->heap_start >= p->brk || p->brk > p->size || (uintptr_t)(p->base + p->heap_start + WORD) % FL_ALIGN)
        return "the heap's bounds are outside the region or misaligned";
    problem = check_blocks(p);
    return problem ? problem : check_lists(p);
}
