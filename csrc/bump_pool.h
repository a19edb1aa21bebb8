/* bump_pool.h - a bump (arena) allocator: one offset moves forward through a block of memory.
 * No per-block free: mark/release frees everything after a mark, reset frees everything. */
#ifndef BUMP_POOL_H
#define BUMP_POOL_H

#include "pool_common.h"

typedef struct bump_pool bump_pool;

/* Creation flags. */
#define BUMP_GROWABLE 1u /* chain a new chunk when a request does not fit */
#define BUMP_MEASURE 2u  /* no memory: run the same arithmetic on a virtual base to size a pool */
#define BUMP_POISON 4u   /* fill released memory with BUMP_POISON_BYTE */
#define BUMP_JOURNAL 8u  /* record each allocation so the walker can show payload and padding */
#define BUMP_POISON_BYTE 0xDD

/* Every chunk's first byte is aligned to this, so alignments up to it give the same offsets on
 * every run (and in measure mode, whose virtual base is 0). */
#define BUMP_CHUNK_ALIGN 4096u
/* Growable pools double each new chunk up to this size. */
#define BUMP_MAX_CHUNK ((size_t)64 * 1024 * 1024)

/* A position to release back to; valid until a reset of its pool. */
typedef struct bump_mark {
    const bump_pool *pool;    /* the pool it came from */
    unsigned long generation; /* the pool's reset count when it was taken */
    size_t chunk;             /* index of the chunk that was current */
    size_t used;              /* bytes used in that chunk */
    size_t padding;           /* the pool's padding total then */
    size_t allocations;       /* the pool's allocation count then */
} bump_mark;

typedef struct bump_stats {
    size_t capacity;    /* bytes in all chunks (the virtual capacity in measure mode) */
    size_t used;        /* payload + padding handed out, all chunks */
    size_t available;   /* bytes left in the current chunk */
    size_t high_water;  /* largest `used` since create (the size a measure run asks for) */
    size_t padding;     /* bytes of `used` lost to alignment */
    size_t chunks;      /* chunks in the chain */
    size_t allocations; /* live allocations */
    size_t malloc_calls; /* calls the pool made to malloc for itself and its chunks (the
                          * optional journal's are not counted: a real arena has none) */
} bump_stats;

/* Create and destroy. `align` is the default alignment (power of two, >= sizeof(void *)). */
int bump_pool_create(bump_pool **out, size_t capacity, size_t align, unsigned flags);
void bump_pool_destroy(bump_pool *p);

/* What the inline fast path of bump_pool_alloc reads and writes: the first member of every
 * bump_pool (private; shown here only so the fast path inlines into the caller's loop).
 * Invariants: a pool the fast path serves (real memory, no journal, default alignment at most
 * BUMP_CHUNK_ALIGN) has top <= end, the current chunk's top and end addresses; any other pool
 * has top == end == 0, so the fast path always hands it to the out-of-line function. */
typedef struct bump_fast {
    uintptr_t top;      /* first unused byte of the current chunk (fast pools), else 0 */
    uintptr_t end;      /* one past the current chunk's last byte (fast pools), else 0 */
    size_t align;       /* default alignment */
    size_t padding;     /* bytes of `used` lost to alignment */
    size_t allocations; /* live allocations */
} bump_fast;

/* Allocate by moving the offset; *out is NULL in measure mode. The slow function serves
 * everything the inline fast path leaves out (NULL arguments, size 0, a full chunk, growth,
 * the journal, measure mode). */
int bump_pool_alloc_slow(bump_pool *p, size_t size, void **out);

static inline int bump_pool_alloc(bump_pool *p, size_t size, void **out)
{
    bump_fast *f = (bump_fast *)(void *)p; /* a struct's address is its first member's */
    if (POOL_UNLIKELY(!p || !out)) return bump_pool_alloc_slow(p, size, out);
    uintptr_t aligned = (f->top + (f->align - 1)) & ~(uintptr_t)(f->align - 1);
    size_t room = (size_t)(f->end - f->top), pad = (size_t)(aligned - f->top);
    /* size - 1 wraps for size 0; room - size cannot wrap once size <= room */
    if (POOL_UNLIKELY(size - 1 >= room || pad > room - size)) return bump_pool_alloc_slow(p, size, out);
    f->top = aligned + size;
    f->padding += pad;
    f->allocations++;
    *out = (void *)aligned;
    return POOL_OK;
}
int bump_pool_alloc_aligned(bump_pool *p, size_t size, size_t align, void **out);
/* Offset of the last allocation from the start of the pool's (concatenated) chunks; kept only
 * with BUMP_JOURNAL (0 otherwise). */
size_t bump_pool_last_offset(const bump_pool *p);

/* Marks and resets. */
size_t bump_pool_available(const bump_pool *p);
bump_mark bump_pool_mark(const bump_pool *p);
int bump_pool_release(bump_pool *p, bump_mark mark);
void bump_pool_reset(bump_pool *p);

/* Inspection: stats, the byte at an offset's address, a walker and a checker. */
void bump_pool_stats(const bump_pool *p, bump_stats *s);
unsigned char *bump_pool_address(const bump_pool *p, size_t offset);
/* Offset and capacity of chunk `index` of the chain; POOL_EINVAL past the last one. */
int bump_pool_chunk(const bump_pool *p, size_t index, size_t *start, size_t *capacity);
void bump_pool_walk(const bump_pool *p, pool_walker fn, void *user);
const char *bump_pool_check(const bump_pool *p); /* NULL when sound */

/* Bytes the pool holds from malloc: its struct, the chunk array and every chunk with its
 * alignment slack (the walker's journal is instrumentation and is left out). */
size_t bump_pool_bytes_held(const bump_pool *p);

#endif
