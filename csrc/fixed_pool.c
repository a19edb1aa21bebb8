/* fixed_pool.c - fixed-size block pool with an intrusive free list and lazy initialisation. */
#include "fixed_pool.h"

#include <stdlib.h>
#include <string.h>

typedef fixed_free_block free_block;

/* The pool. Invariants: blocks [0, high_water) were handed out at least once; each of them is
 * either allocated (its flag in fast.allocated is 1) or on the free list exactly once; blocks
 * [high_water, count) are untouched and on no list; fast.used + list length == high_water.
 * The free list is fast.free_head when the stride is a power of two (fast.blocks ==
 * high_water), else slow_head (fast.blocks == 0, fast.free_head == NULL). */
struct fixed_pool {
    fixed_fast fast;             /* first: the inline fast paths' state (fixed_pool.h) */
    fixed_free_block *slow_head; /* the free list of a pool the fast paths do not serve */
    size_t block_size;           /* requested bytes per block */
    size_t stride;               /* distance between blocks: >= block_size, >= a pointer, aligned */
    size_t count;                /* number of blocks */
    size_t high_water;           /* blocks ever handed out */
    size_t failed;               /* refused allocations */
    void *own_blocks;            /* block memory to release on destroy (NULL when not ours) */
    pool_allocator allocator;    /* where this pool's memory came from */
    int owns_header;             /* 1 when the struct itself came from `allocator` */
};

_Static_assert(sizeof(free_block) == sizeof(void *), "a free block holds exactly one pointer");

static void *default_alloc(size_t size, void *ctx)
{
    (void)ctx;
    return malloc(size);
}

static void default_release(void *block, void *ctx)
{
    (void)ctx;
    free(block);
}

/* Where the blocks go: `align` is raised to a pointer's alignment (a free block holds one). */
typedef struct block_layout {
    size_t align;  /* alignment of block 0 and of the stride */
    size_t stride; /* distance between block starts */
    size_t bytes;  /* stride * count */
} block_layout;

/* The layout for a request, or an error code. */
static int layout_blocks(size_t block_size, size_t count, size_t align, block_layout *out)
{
    if (block_size == 0 || count == 0) return POOL_EINVAL;
    if (!size_is_pow2(align)) return POOL_EALIGN;
    out->align = align < _Alignof(free_block) ? _Alignof(free_block) : align;
    size_t size = block_size < sizeof(free_block) ? sizeof(free_block) : block_size;
    int err = size_align_up(size, out->align, &out->stride);
    if (err != POOL_OK) return err;
    return size_mul(out->stride, count, &out->bytes);
}

/* The allocated map has a flag per block, not a bit: alloc marks a block with one store and
 * free tests and clears it with one load and one store. The flags are _Bool, not a character
 * type, so storing one does not make the compiler reload every field of the pool. */
_Static_assert(sizeof(_Bool) == 1, "a flag per block is one byte");

static size_t map_bytes(size_t count)
{
    return count;
}

static int block_bit(const fixed_pool *p, size_t i)
{
    return p->fast.allocated[i];
}

static int pool_fast(const fixed_pool *p)
{
    return size_is_pow2(p->stride);
}

/* The free list this pool uses (see the invariants in fixed_pool.h). */
static free_block **list_head(fixed_pool *p)
{
    return pool_fast(p) ? &p->fast.free_head : &p->slow_head;
}

static const free_block *list_first(const fixed_pool *p)
{
    return pool_fast(p) ? p->fast.free_head : p->slow_head;
}

static unsigned char *block_at(const fixed_pool *p, size_t i)
{
    return p->fast.base + i * p->stride;
}

/* Index of the block at byte `off` from block 0, or -1 when `off` is not a block start below
 * the high-water mark. A pointer below block 0 wraps to a huge offset and fails the range test.
 * (The fast path in fixed_pool.h does the same with a rotate instead of a division.) */
static long block_index_at(const fixed_pool *p, uintptr_t off)
{
    if (off / p->stride >= p->high_water) return -1;
    return off % p->stride ? -1 : (long)(off / p->stride);
}

static long block_index(const fixed_pool *p, const void *ptr)
{
    return block_index_at(p, (uintptr_t)ptr - (uintptr_t)p->fast.base);
}

static void pool_init_fields(fixed_pool *p, size_t block_size, size_t stride, size_t count)
{
    p->block_size = block_size;
    p->stride = stride;
    p->fast.stride_shift = 0;
    if (size_is_pow2(stride))
        while (((size_t)1 << p->fast.stride_shift) != stride) p->fast.stride_shift++;
    p->count = count;
    p->fast.free_head = p->slow_head = NULL;
    p->high_water = 0;
    p->fast.blocks = 0;
    p->fast.used = 0;
    p->failed = 0;
    memset(p->fast.allocated, 0, map_bytes(count));
}

int fixed_pool_create_with(fixed_pool **out, size_t block_size, size_t count, size_t align,
                           const pool_allocator *a)
{
    if (!out) return POOL_EINVAL;
    *out = NULL;
    block_layout l;
    size_t header, padded;
    int err = layout_blocks(block_size, count, align, &l);
    if (err != POOL_OK) return err;
    if (size_add(sizeof(fixed_pool), map_bytes(count), &header) != POOL_OK) return POOL_EOVERFLOW;
    if (size_add(l.bytes, l.align - 1, &padded) != POOL_OK) return POOL_EOVERFLOW;
    pool_allocator use = a ? *a : (pool_allocator){default_alloc, default_release, NULL};
    fixed_pool *p = use.alloc(header, use.ctx);
    if (!p) return POOL_ENOMEM;
    void *memory = use.alloc(padded, use.ctx);
    if (!memory) {
        use.release(p, use.ctx); /* the half-made pool must not leak */
        return POOL_ENOMEM;
    }
    p->fast.allocated = (_Bool *)(p + 1);
    p->own_blocks = memory;
    p->fast.base = (unsigned char *)(((uintptr_t)memory + (l.align - 1)) & ~(uintptr_t)(l.align - 1));
    p->allocator = use;
    p->owns_header = 1;
    pool_init_fields(p, block_size, l.stride, count);
    *out = p;
    return POOL_OK;
}

int fixed_pool_create(fixed_pool **out, size_t block_size, size_t count, size_t align)
{
    return fixed_pool_create_with(out, block_size, count, align, NULL);
}

/* Buffer layout for create_in: [fixed_pool][allocated map][pad to align][blocks]. */
static int layout_buffer(size_t block_size, size_t count, size_t align, block_layout *l,
                         size_t *blocks_at, size_t *total)
{
    size_t header;
    int err = layout_blocks(block_size, count, align, l);
    if (err != POOL_OK) return err;
    if (size_add(sizeof(fixed_pool), map_bytes(count), &header) != POOL_OK) return POOL_EOVERFLOW;
    if ((err = size_align_up(header, l->align, blocks_at)) != POOL_OK) return err;
    return size_add(*blocks_at, l->bytes, total);
}

size_t fixed_pool_buffer_size(size_t block_size, size_t count, size_t align)
{
    block_layout l;
    size_t at, total;
    return layout_buffer(block_size, count, align, &l, &at, &total) == POOL_OK ? total : 0;
}

int fixed_pool_create_in(fixed_pool **out, void *buffer, size_t buffer_size, size_t block_size,
                         size_t count, size_t align)
{
    if (!out) return POOL_EINVAL;
    *out = NULL;
    if (!buffer) return POOL_EINVAL;
    block_layout l;
    size_t at, total;
    int err = layout_buffer(block_size, count, align, &l, &at, &total);
    if (err != POOL_OK) return err;
    size_t header_align = _Alignof(fixed_pool) > l.align ? _Alignof(fixed_pool) : l.align;
    if ((uintptr_t)buffer % header_align) return POOL_EALIGN;
    if (buffer_size < total) return POOL_ENOMEM;
    fixed_pool *p = buffer;
    p->fast.allocated = (_Bool *)(p + 1);
    p->fast.base = (unsigned char *)buffer + at;
    p->own_blocks = NULL;
    p->allocator = (pool_allocator){default_alloc, default_release, NULL};
    p->owns_header = 0;
    pool_init_fields(p, block_size, l.stride, count);
    *out = p;
    return POOL_OK;
}

void fixed_pool_destroy(fixed_pool *p)
{
    if (!p || !p->owns_header) return;
    pool_allocator a = p->allocator;
    a.release(p->own_blocks, a.ctx);
    a.release(p, a.ctx);
}

/* Everything fixed_pool_alloc's inline fast path leaves out: NULL arguments, a pool whose
 * stride is not a power of two, an empty list (then the next untouched block: lazy init). */
int fixed_pool_alloc_slow(fixed_pool *p, void **out)
{
    if (!p || !out) return POOL_EINVAL;
    free_block **head = list_head(p), *b = *head;
    if (b) {
        *head = b->next;
        p->fast.allocated[(size_t)block_index(p, b)] = 1; /* a listed block is a touched block start */
        p->fast.used++;
        *out = b;
        return POOL_OK;
    }
    if (p->high_water == p->count) {
        p->failed++;
        *out = NULL;
        return POOL_ENOMEM;
    }
    size_t i = p->high_water++;
    if (pool_fast(p)) p->fast.blocks = p->high_water;
    p->fast.allocated[i] = 1;
    p->fast.used++;
    *out = block_at(p, i);
    return POOL_OK;
}

/* Everything fixed_pool_free's inline fast path leaves out: NULL arguments, a pool whose
 * stride is not a power of two, and every refusal. */
int fixed_pool_free_slow(fixed_pool *p, void *block)
{
    if (!p || !block) return POOL_EINVAL;
    long index = block_index(p, block);
    if (index < 0) return POOL_EFOREIGN;
    if (!p->fast.allocated[index]) return POOL_EDOUBLEFREE;
    p->fast.allocated[index] = 0;
    free_block *b = block, **head = list_head(p);
    b->next = *head;
    *head = b;
    p->fast.used--;
    return POOL_OK;
}

void fixed_pool_stats(const fixed_pool *p, fixed_stats *s)
{
    if (!p || !s) return;
    s->block_size = p->block_size;
    s->stride = p->stride;
    s->count = p->count;
    s->used = p->fast.used;
    s->free = p->count - p->fast.used;
    s->high_water = p->high_water;
    s->failed = p->failed;
}

unsigned char *fixed_pool_base(const fixed_pool *p)
{
    return p ? p->fast.base : NULL;
}

long fixed_pool_free_head(const fixed_pool *p)
{
    return p && list_first(p) ? block_index(p, list_first(p)) : -1;
}

int fixed_pool_free_next(const fixed_pool *p, size_t index, long *next)
{
    if (!p || !next || index >= p->high_water || block_bit(p, index)) return POOL_EINVAL;
    const free_block *b = (const free_block *)block_at(p, index);
    *next = b->next ? block_index(p, b->next) : -1;
    return POOL_OK;
}

void fixed_pool_walk(const fixed_pool *p, pool_walker fn, void *user)
{
    if (!p || !fn) return;
    for (size_t i = 0; i < p->high_water; i++) {
        size_t at = i * p->stride;
        if (!block_bit(p, i)) {
            fn(at, p->stride, POOL_REGION_FREE, -1, user);
            continue;
        }
        fn(at, p->block_size, POOL_REGION_PAYLOAD, (long)i, user);
        if (p->stride > p->block_size)
            fn(at + p->block_size, p->stride - p->block_size, POOL_REGION_PADDING, (long)i, user);
    }
    if (p->high_water < p->count)
        fn(p->high_water * p->stride, (p->count - p->high_water) * p->stride,
           POOL_REGION_UNTOUCHED, -1, user);
}

const char *fixed_pool_check(const fixed_pool *p)
{
    if (!p) return "pool is NULL";
    if (p->stride < sizeof(free_block) || p->stride < p->block_size) return "stride too small";
    if ((uintptr_t)p->fast.base % _Alignof(free_block)) return "blocks are not pointer-aligned";
    if (p->high_water > p->count) return "high-water mark beyond the pool";
    if (p->fast.used > p->high_water) return "more blocks used than ever handed out";
    if (p->fast.blocks != (pool_fast(p) ? p->high_water : 0))
        return "the fast path's block count does not match the high-water mark";
    if (!pool_fast(p) && p->fast.free_head) return "a pool without fast paths has a fast free list";
    if (pool_fast(p) && p->stride != (size_t)1 << p->fast.stride_shift) return "stride shift is wrong";
    size_t listed = 0;
    for (const free_block *b = list_first(p); b; b = b->next) {
        long i = block_index(p, b);
        if (i < 0) return "free list points outside the touched blocks or inside a block";
        if (block_bit(p, (size_t)i)) return "an allocated block is on the free list";
        if (++listed > p->high_water) return "free list has a cycle";
    }
    if (listed + p->fast.used != p->high_water) return "free list length does not match the counts";
    size_t bits = 0;
    for (size_t i = 0; i < p->count; i++) bits += p->fast.allocated[i];
    if (bits != p->fast.used) return "allocated map does not match the used count";
    return NULL;
}

size_t fixed_pool_bytes_held(const fixed_pool *p)
{
    if (!p) return 0;
    return sizeof *p + map_bytes(p->count) + p->count * p->stride; /* count * stride was checked */
}
