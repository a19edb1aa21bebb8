/* bump_pool.c - arena allocator with an optional chain of chunks and a measure-only mode. */
#include "bump_pool.h"

#include <stdlib.h>
#include <string.h>

/* One chunk of the chain. Invariants: base % BUMP_CHUNK_ALIGN == 0; used <= capacity;
 * start is the sum of the capacities of the chunks before it. */
typedef struct chunk {
    unsigned char *raw; /* what malloc returned (NULL in measure mode) */
    uintptr_t base;     /* first usable address, aligned (0 in measure mode) */
    size_t capacity;    /* usable bytes from base */
    size_t used;        /* bytes handed out, padding included */
    size_t start;       /* offset of base in the pool's concatenated offset space */
} chunk;

/* One allocation, kept (with BUMP_JOURNAL) so the walker can show payload and padding. A
 * production arena keeps nothing per allocation, so the journal is optional instrumentation;
 * stats are counted without it. Entries are in allocation order. */
typedef struct entry {
    size_t chunk;  /* chunk index */
    size_t offset; /* payload offset within the chunk */
    size_t size;   /* payload bytes */
    size_t pad;    /* padding bytes just before the payload */
} entry;

/* The pool. Invariants: chunks[0..nchunks) in chain order, only the last one is current;
 * journal[0..nentries) covers exactly the used bytes of every chunk, in order; while the fast
 * path serves the pool, the current chunk's `used` is fast.top - base (its field is stale). */
struct bump_pool {
    bump_fast fast;           /* first: the inline fast path's state (bump_pool.h) */
    unsigned flags;           /* BUMP_* flags */
    unsigned long generation; /* incremented by every reset: older marks are stale */
    chunk *chunks;            /* the chain */
    size_t nchunks;           /* chunks in use */
    size_t chunk_slots;       /* room in chunks[] */
    entry *journal;           /* the allocations, for the walker */
    size_t nentries;          /* live allocations */
    size_t entry_slots;       /* room in journal[] */
    size_t high_water;        /* largest total used, brought up to date before use shrinks */
    size_t last_offset;       /* pool offset of the latest allocation (kept with the journal) */
    size_t malloc_calls;      /* calls made to malloc/realloc */
};

/* The fast path serves real memory without a journal at a default alignment that cannot make
 * an address wrap. */
static int pool_fast(const bump_pool *p)
{
    return !(p->flags & (BUMP_JOURNAL | BUMP_MEASURE)) && p->fast.align <= BUMP_CHUNK_ALIGN;
}

/* Bytes used in chunk i (the current chunk's count is in fast.top on a fast pool). */
static size_t chunk_used(const bump_pool *p, size_t i)
{
    const chunk *c = &p->chunks[i];
    return i == p->nchunks - 1 && pool_fast(p) ? (size_t)(p->fast.top - c->base) : c->used;
}

/* Set the current chunk's used bytes, keeping the fast path's top and end in step. */
static void current_set_used(bump_pool *p, size_t used)
{
    chunk *c = &p->chunks[p->nchunks - 1];
    c->used = used;
    if (pool_fast(p)) p->fast.top = c->base + used, p->fast.end = c->base + c->capacity;
}

/* Bytes used in all chunks: summed when asked, so alloc updates only its own chunk. */
static size_t pool_used(const bump_pool *p)
{
    size_t total = 0;
    for (size_t i = 0; i < p->nchunks; i++) total += chunk_used(p, i);
    return total;
}

/* The high-water mark only needs updating just before use goes down (release, reset), which
 * keeps the comparison off the allocation path. */
static size_t pool_high_water(const bump_pool *p)
{
    size_t used = pool_used(p);
    return used > p->high_water ? used : p->high_water;
}

static int pool_journaling(const bump_pool *p)
{
    return (p->flags & BUMP_JOURNAL) != 0;
}

static chunk *pool_current(bump_pool *p)
{
    return &p->chunks[p->nchunks - 1];
}

/* Add a chunk of at least `capacity` bytes to the chain; the pool is unchanged on failure. */
static int chunk_append(bump_pool *p, size_t capacity)
{
    if (p->nchunks == p->chunk_slots) {
        size_t slots = p->chunk_slots ? p->chunk_slots * 2 : 4;
        size_t bytes;
        if (size_mul(slots, sizeof(chunk), &bytes) != POOL_OK) return POOL_EOVERFLOW;
        chunk *grown = realloc(p->chunks, bytes);
        if (!grown) return POOL_ENOMEM;
        p->malloc_calls++;
        p->chunks = grown;
        p->chunk_slots = slots;
    }
    chunk c = {NULL, 0, capacity, 0, 0};
    if (!(p->flags & BUMP_MEASURE)) {
        size_t bytes;
        if (size_add(capacity, BUMP_CHUNK_ALIGN - 1, &bytes) != POOL_OK) return POOL_EOVERFLOW;
        c.raw = malloc(bytes);
        if (!c.raw) return POOL_ENOMEM;
        p->malloc_calls++;
        c.base = ((uintptr_t)c.raw + (BUMP_CHUNK_ALIGN - 1)) & ~(uintptr_t)(BUMP_CHUNK_ALIGN - 1);
    }
    if (p->nchunks) {
        const chunk *prev = &p->chunks[p->nchunks - 1];
        if (size_add(prev->start, prev->capacity, &c.start) != POOL_OK) {
            free(c.raw);
            return POOL_EOVERFLOW;
        }
    }
    p->chunks[p->nchunks++] = c;
    current_set_used(p, 0);
    return POOL_OK;
}

/* Make room for one more journal entry; the pool is unchanged on failure. */
static int journal_reserve(bump_pool *p)
{
    if (!pool_journaling(p) || p->nentries < p->entry_slots) return POOL_OK;
    size_t slots = p->entry_slots ? p->entry_slots * 2 : 16;
    size_t bytes;
    if (size_mul(slots, sizeof(entry), &bytes) != POOL_OK) return POOL_EOVERFLOW;
    entry *grown = realloc(p->journal, bytes);
    if (!grown) return POOL_ENOMEM;
    p->journal = grown; /* instrumentation: not counted in malloc_calls */
    p->entry_slots = slots;
    return POOL_OK;
}

/* Padding needed so that `size` bytes at the chunk's top are aligned, or an error code when
 * they would not fit (computed on the real address, so it holds for the chunk that gets it). */
static int chunk_fit(const chunk *c, size_t size, size_t align, size_t *pad)
{
    uintptr_t top = c->base + c->used;
    uintptr_t aligned = (top + (align - 1)) & ~(uintptr_t)(align - 1);
    size_t need;
    if (aligned < top) return POOL_EOVERFLOW;
    *pad = (size_t)(aligned - top);
    if (size_add(*pad, size, &need) != POOL_OK) return POOL_EOVERFLOW;
    return need <= c->capacity - c->used ? POOL_OK : POOL_ENOMEM;
}

/* Capacity of the next chunk in a growable chain: double the last, capped, but always enough
 * for this request at the worst alignment. */
static int chunk_next_capacity(const bump_pool *p, size_t size, size_t align, size_t *out)
{
    size_t last = p->chunks[p->nchunks - 1].capacity, grown, need;
    grown = last > BUMP_MAX_CHUNK / 2 ? BUMP_MAX_CHUNK : last * 2;
    if (size_add(size, align > BUMP_CHUNK_ALIGN ? align : 0, &need) != POOL_OK)
        return POOL_EOVERFLOW;
    *out = need > grown ? need : grown;
    return POOL_OK;
}

int bump_pool_create(bump_pool **out, size_t capacity, size_t align, unsigned flags)
{
    if (!out) return POOL_EINVAL;
    *out = NULL;
    if (flags & ~(BUMP_GROWABLE | BUMP_MEASURE | BUMP_POISON | BUMP_JOURNAL)) return POOL_EINVAL;
    if (!size_is_pow2(align) || align < sizeof(void *)) return POOL_EALIGN;
    if (flags & BUMP_MEASURE) capacity = SIZE_MAX - BUMP_CHUNK_ALIGN;
    if (capacity == 0) return POOL_EINVAL;
    bump_pool *p = calloc(1, sizeof *p);
    if (!p) return POOL_ENOMEM;
    p->malloc_calls = 1;
    p->flags = flags;
    p->fast.align = align;
    int err = chunk_append(p, capacity);
    if (err != POOL_OK) {
        free(p->chunks);
        free(p);
        return err;
    }
    *out = p;
    return POOL_OK;
}

void bump_pool_destroy(bump_pool *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->nchunks; i++) free(p->chunks[i].raw);
    free(p->chunks);
    free(p->journal);
    free(p);
}

/* Bring the current chunk's `used` field up to date from the fast path's top. */
static chunk *pool_sync(bump_pool *p)
{
    chunk *c = pool_current(p);
    c->used = chunk_used(p, p->nchunks - 1);
    return c;
}

/* Any allocation at any alignment: a refusal, a new chunk, a journal entry, measure mode. */
static int alloc_general(bump_pool *p, size_t size, size_t align, void **out)
{
    *out = NULL;
    if (size == 0) return POOL_EINVAL;
    size_t pad;
    int err = chunk_fit(pool_sync(p), size, align, &pad);
    if (err == POOL_ENOMEM && (p->flags & BUMP_GROWABLE)) {
        size_t capacity;
        err = chunk_next_capacity(p, size, align, &capacity);
        if (err == POOL_OK) err = journal_reserve(p);
        if (err == POOL_OK) err = chunk_append(p, capacity);
        if (err == POOL_OK) err = chunk_fit(pool_current(p), size, align, &pad);
    }
    if (err != POOL_OK) return err;
    err = journal_reserve(p);
    if (err != POOL_OK) return err;
    chunk *c = pool_current(p);
    size_t offset = c->used + pad;
    if (pool_journaling(p)) {
        p->journal[p->nentries++] = (entry){p->nchunks - 1, offset, size, pad};
        p->last_offset = c->start + offset;
    }
    current_set_used(p, offset + size);
    p->fast.padding += pad;
    p->fast.allocations++;
    if (!(p->flags & BUMP_MEASURE)) *out = (void *)(c->base + offset);
    return POOL_OK;
}

int bump_pool_alloc_aligned(bump_pool *p, size_t size, size_t align, void **out)
{
    if (!p || !out) return POOL_EINVAL;
    if (size != 0 && !size_is_pow2(align)) {
        *out = NULL;
        return POOL_EALIGN;
    }
    return alloc_general(p, size, align, out);
}

int bump_pool_alloc_slow(bump_pool *p, size_t size, void **out)
{
    if (!p || !out) return POOL_EINVAL;
    return alloc_general(p, size, p->fast.align, out);
}

size_t bump_pool_last_offset(const bump_pool *p)
{
    return p ? p->last_offset : 0;
}

size_t bump_pool_available(const bump_pool *p)
{
    if (!p) return 0;
    return p->chunks[p->nchunks - 1].capacity - chunk_used(p, p->nchunks - 1);
}

bump_mark bump_pool_mark(const bump_pool *p)
{
    bump_mark m = {p, 0, 0, 0, 0, 0};
    if (p) {
        m.generation = p->generation;
        m.chunk = p->nchunks - 1;
        m.used = chunk_used(p, p->nchunks - 1);
        m.padding = p->fast.padding;
        m.allocations = p->fast.allocations;
    }
    return m;
}

/* Poison bytes [from, capacity-or-used) of a chunk so stale reads show up. */
static void chunk_poison(const bump_pool *p, const chunk *c, size_t from, size_t to)
{
    if ((p->flags & BUMP_POISON) && c->raw && to > from)
        memset((void *)(c->base + from), BUMP_POISON_BYTE, to - from);
}

/* Drop everything after (chunk, used): later chunks are freed, the journal is cut. Without a
 * journal the padding and allocation counts after a mark are unknown: they restart from the
 * mark's own (a reset zeroes them). */
static void pool_rewind(bump_pool *p, size_t chunk_index, size_t used, size_t padding,
                        size_t allocations)
{
    p->high_water = pool_high_water(p);
    pool_sync(p);
    while (p->nchunks - 1 > chunk_index) {
        chunk *c = pool_current(p);
        chunk_poison(p, c, 0, c->used);
        free(c->raw);
        p->nchunks--;
    }
    chunk *c = pool_current(p);
    chunk_poison(p, c, used, c->used);
    current_set_used(p, used);
    p->fast.padding = padding;
    p->fast.allocations = allocations;
    while (p->nentries > allocations) p->nentries--;
}

int bump_pool_release(bump_pool *p, bump_mark mark)
{
    if (!p) return POOL_EINVAL;
    if (mark.pool != p) return POOL_EFOREIGN;
    if (mark.generation != p->generation) return POOL_ESTALE;
    /* A mark above the current top was already released past: it no longer names a position. */
    if (mark.chunk >= p->nchunks) return POOL_ESTALE;
    if (mark.chunk == p->nchunks - 1 && mark.used > chunk_used(p, mark.chunk)) return POOL_ESTALE;
    pool_rewind(p, mark.chunk, mark.used, mark.padding, mark.allocations);
    return POOL_OK;
}

void bump_pool_reset(bump_pool *p)
{
    if (!p) return;
    pool_rewind(p, 0, 0, 0, 0);
    p->generation++;
}

void bump_pool_stats(const bump_pool *p, bump_stats *s)
{
    if (!p || !s) return;
    memset(s, 0, sizeof *s);
    for (size_t i = 0; i < p->nchunks; i++) s->capacity += p->chunks[i].capacity;
    s->used = pool_used(p);
    s->available = bump_pool_available(p);
    s->high_water = pool_high_water(p);
    s->padding = p->fast.padding;
    s->chunks = p->nchunks;
    s->allocations = p->fast.allocations;
    s->malloc_calls = p->malloc_calls;
}

unsigned char *bump_pool_address(const bump_pool *p, size_t offset)
{
    if (!p) return NULL;
    for (size_t i = 0; i < p->nchunks; i++) {
        const chunk *c = &p->chunks[i];
        if (offset >= c->start && offset - c->start < c->capacity)
            return c->raw ? (unsigned char *)(c->base + (offset - c->start)) : NULL;
    }
    return NULL;
}

int bump_pool_chunk(const bump_pool *p, size_t index, size_t *start, size_t *capacity)
{
    if (!p || !start || !capacity || index >= p->nchunks) return POOL_EINVAL;
    *start = p->chunks[index].start;
    *capacity = p->chunks[index].capacity;
    return POOL_OK;
}

void bump_pool_walk(const bump_pool *p, pool_walker fn, void *user)
{
    if (!p || !fn) return;
    size_t k = 0;
    for (size_t i = 0; i < p->nchunks; i++) {
        const chunk *c = &p->chunks[i];
        size_t used = chunk_used(p, i);
        if (!pool_journaling(p) && used) /* without a journal: one used run per chunk */
            fn(c->start, used, POOL_REGION_PAYLOAD, -1, user);
        for (; k < p->nentries && p->journal[k].chunk == i; k++) {
            const entry *e = &p->journal[k];
            if (e->pad) fn(c->start + e->offset - e->pad, e->pad, POOL_REGION_PADDING, -1, user);
            fn(c->start + e->offset, e->size, POOL_REGION_PAYLOAD, (long)k, user);
        }
        if (c->capacity > used) fn(c->start + used, c->capacity - used, POOL_REGION_FREE, -1, user);
    }
}

const char *bump_pool_check(const bump_pool *p)
{
    if (!p) return "pool is NULL";
    if (p->nchunks == 0) return "no chunk";
    const chunk *last = &p->chunks[p->nchunks - 1];
    if (pool_fast(p) ? p->fast.end != last->base + last->capacity : p->fast.top || p->fast.end)
        return "the fast path's end does not match the current chunk";
    size_t k = 0, padding = 0;
    for (size_t i = 0; i < p->nchunks; i++) {
        const chunk *c = &p->chunks[i];
        size_t used = chunk_used(p, i);
        if (used > c->capacity) return "chunk used exceeds its capacity";
        if (c->base % BUMP_CHUNK_ALIGN) return "chunk base is not aligned";
        if (i && c->start != p->chunks[i - 1].start + p->chunks[i - 1].capacity)
            return "chunk start does not follow the previous chunk";
        if (!pool_journaling(p)) continue;
        size_t top = 0;
        for (; k < p->nentries && p->journal[k].chunk == i; k++) {
            const entry *e = &p->journal[k];
            if (e->offset != top + e->pad) return "allocation does not follow the previous one";
            top = e->offset + e->size;
            padding += e->pad;
        }
        if (top != used) return "chunk used does not match its allocations";
    }
    if (pool_journaling(p)) {
        if (k != p->nentries) return "journal names a chunk out of order";
        if (padding != p->fast.padding) return "padding total does not match the allocations";
        if (p->nentries != p->fast.allocations) return "allocation count does not match the journal";
    }
    return NULL;
}

size_t bump_pool_bytes_held(const bump_pool *p)
{
    if (!p) return 0;
    size_t held = sizeof *p + p->chunk_slots * sizeof(chunk);
    for (size_t i = 0; i < p->nchunks; i++)
        if (p->chunks[i].raw) held += p->chunks[i].capacity + (BUMP_CHUNK_ALIGN - 1);
    return held;
}
