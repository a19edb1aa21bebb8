/* fixed_pool.c - fixed-size block pool with an intrusive free list and lazy initialisation. */
#include "fixed_pool.h"

#include <stdlib.h>
#include <string.h>

/* A free block's first bytes are this struct: a real pointer to the next free block. It is a
 * pointer, not an integer offset, so the list works wherever the blocks live. */
typedef struct free_block {
    struct free_block *next; /* next free block, NULL at the end of the list */
} free_block;

/* The pool. Invariants: blocks [0, high_water) were handed out at least once; each of them is
 * either allocated (its bit in `allocated` set) or on the free list exactly once; blocks
 * [high_water, count) are untouched and never on the list; used + list length == high_water. */
struct fixed_pool {
    unsigned char *blocks;     /* block 0; aligned to `align` */
    size_t block_size;         /* requested bytes per block */
    size_t stride;             /* distance between blocks: >= block_size, >= a pointer, aligned */
    size_t count;              /* number of blocks */
    int stride_shift;          /* log2(stride) when stride is a power of two, else -1 */
    size_t touched;            /* high_water * stride: free's range check without a multiply */
    free_block *free_head;     /* most recently freed block (LIFO), NULL when the list is empty */
    size_t high_water;         /* blocks ever handed out */
    size_t used;               /* blocks currently handed out */
    size_t failed;             /* refused allocations */
    unsigned char *allocated;  /* one bit per block: 1 while handed out (double-free check) */
    void *own_blocks;          /* block memory to release on destroy (NULL when not ours) */
    pool_allocator allocator;  /* where this pool's memory came from */
    int owns_header;           /* 1 when the struct itself came from `allocator` */
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

static size_t bitmap_bytes(size_t count)
{
    return count / 8 + (count % 8 != 0);
}

static int block_bit(const fixed_pool *p, size_t i)
{
    return (p->allocated[i / 8] >> (i % 8)) & 1;
}

static void block_set_bit(fixed_pool *p, size_t i, int on)
{
    unsigned char mask = (unsigned char)(1u << (i % 8));
    p->allocated[i / 8] = (unsigned char)(on ? p->allocated[i / 8] | mask : p->allocated[i / 8] & ~mask);
}

static unsigned char *block_at(const fixed_pool *p, size_t i)
{
    return p->blocks + i * p->stride;
}

/* Index of the block at byte `off` from block 0, or -1 when `off` is not a block start below
 * the high-water mark. A pointer below block 0 wraps to a huge offset and fails the range test;
 * a shift instead of a division keeps free cheap when the stride is a power of two. */
static inline long block_index_at(const fixed_pool *p, uintptr_t off)
{
    if (POOL_UNLIKELY(off >= p->touched)) return -1;
    if (POOL_LIKELY(p->stride_shift >= 0))
        return POOL_UNLIKELY(off & (p->stride - 1)) ? -1 : (long)(off >> p->stride_shift);
    return off % p->stride ? -1 : (long)(off / p->stride);
}

static inline long block_index(const fixed_pool *p, const void *ptr)
{
    return block_index_at(p, (uintptr_t)ptr - (uintptr_t)p->blocks);
}

static void pool_init_fields(fixed_pool *p, size_t block_size, size_t stride, size_t count)
{
    p->block_size = block_size;
    p->stride = stride;
    p->stride_shift = -1;
    if (size_is_pow2(stride))
        for (p->stride_shift = 0; ((size_t)1 << p->stride_shift) != stride; p->stride_shift++) continue;
    p->count = count;
    p->free_head = NULL;
    p->high_water = 0;
    p->touched = 0;
    p->used = 0;
    p->failed = 0;
    memset(p->allocated, 0, bitmap_bytes(count));
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
    if (size_add(sizeof(fixed_pool), bitmap_bytes(count), &header) != POOL_OK) return POOL_EOVERFLOW;
    if (size_add(l.bytes, l.align - 1, &padded) != POOL_OK) return POOL_EOVERFLOW;
    pool_allocator use = a ? *a : (pool_allocator){default_alloc, default_release, NULL};
    fixed_pool *p = use.alloc(header, use.ctx);
    if (!p) return POOL_ENOMEM;
    void *memory = use.alloc(padded, use.ctx);
    if (!memory) {
        use.release(p, use.ctx); /* the half-made pool must not leak */
        return POOL_ENOMEM;
    }
    p->allocated = (unsigned char *)(p + 1);
    p->own_blocks = memory;
    p->blocks = (unsigned char *)(((uintptr_t)memory + (l.align - 1)) & ~(uintptr_t)(l.align - 1));
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

/* Buffer layout for create_in: [fixed_pool][bitmap][pad to align][blocks]. */
static int layout_buffer(size_t block_size, size_t count, size_t align, block_layout *l,
                         size_t *blocks_at, size_t *total)
{
    size_t header;
    int err = layout_blocks(block_size, count, align, l);
    if (err != POOL_OK) return err;
    if (size_add(sizeof(fixed_pool), bitmap_bytes(count), &header) != POOL_OK) return POOL_EOVERFLOW;
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
    p->allocated = (unsigned char *)(p + 1);
    p->blocks = (unsigned char *)buffer + at;
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

/* The rare path of alloc: the list is empty, so hand out the next untouched block (lazy
 * init) or refuse. */
POOL_COLD static int alloc_untouched(fixed_pool *p, void **out)
{
    if (p->high_water == p->count) {
        p->failed++;
        *out = NULL;
        return POOL_ENOMEM;
    }
    size_t i = p->high_water++;
    p->touched += p->stride;
    block_set_bit(p, i, 1);
    p->used++;
    *out = block_at(p, i);
    return POOL_OK;
}

int fixed_pool_alloc(fixed_pool *p, void **out)
{
    if (POOL_UNLIKELY(!p || !out)) return POOL_EINVAL;
    free_block *b = p->free_head;
    if (POOL_UNLIKELY(!b)) return alloc_untouched(p, out);
    p->free_head = b->next;
    /* a block from the list is a block start below the high-water mark: no checks needed */
    uintptr_t off = (uintptr_t)b - (uintptr_t)p->blocks;
    size_t i = p->stride_shift >= 0 ? off >> p->stride_shift : off / p->stride;
    p->allocated[i / 8] = (unsigned char)(p->allocated[i / 8] | (1u << (i % 8)));
    p->used++;
    *out = b;
    return POOL_OK;
}

int fixed_pool_free(fixed_pool *p, void *block)
{
    if (POOL_UNLIKELY(!p || !block)) return POOL_EINVAL;
    long index = block_index(p, block);
    if (POOL_UNLIKELY(index < 0)) return POOL_EFOREIGN;
    unsigned char *bits = &p->allocated[(size_t)index / 8], mask = (unsigned char)(1u << (index % 8));
    if (POOL_UNLIKELY(!(*bits & mask))) return POOL_EDOUBLEFREE;
    *bits = (unsigned char)(*bits & ~mask);
    free_block *b = block;
    b->next = p->free_head;
    p->free_head = b;
    p->used--;
    return POOL_OK;
}

void fixed_pool_stats(const fixed_pool *p, fixed_stats *s)
{
    if (!p || !s) return;
    s->block_size = p->block_size;
    s->stride = p->stride;
    s->count = p->count;
    s->used = p->used;
    s->free = p->count - p->used;
    s->high_water = p->high_water;
    s->failed = p->failed;
}

unsigned char *fixed_pool_base(const fixed_pool *p)
{
    return p ? p->blocks : NULL;
}

long fixed_pool_free_head(const fixed_pool *p)
{
    return p && p->free_head ? block_index(p, p->free_head) : -1;
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
    if ((uintptr_t)p->blocks % _Alignof(free_block)) return "blocks are not pointer-aligned";
    if (p->high_water > p->count) return "high-water mark beyond the pool";
    if (p->used > p->high_water) return "more blocks used than ever handed out";
    if (p->touched != p->high_water * p->stride) return "touched bytes do not match the high-water mark";
    size_t listed = 0;
    for (const free_block *b = p->free_head; b; b = b->next) {
        long i = block_index(p, b);
        if (i < 0) return "free list points outside the touched blocks or inside a block";
        if (block_bit(p, (size_t)i)) return "an allocated block is on the free list";
        if (++listed > p->high_water) return "free list has a cycle";
    }
    if (listed + p->used != p->high_water) return "free list length does not match the counts";
    size_t bits = 0;
    for (size_t i = 0; i < p->count; i++) bits += (size_t)block_bit(p, i);
    if (bits != p->used) return "allocated bits do not match the used count";
    return NULL;
}

size_t fixed_pool_bytes_held(const fixed_pool *p)
{
    if (!p) return 0;
    return sizeof *p + bitmap_bytes(p->count) + p->count * p->stride; /* count * stride was checked */
}
