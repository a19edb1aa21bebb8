/* embedded_pool.h - a pool for a machine with no malloc: one statically allocated byte array
 * holding its own allocation table; callers keep handles, so blocks can move (compaction). */
#ifndef EMBEDDED_POOL_H
#define EMBEDDED_POOL_H

#include "pool_common.h"

/* Size of the static array and default slot count, fixed at compile time. */
#ifndef EMBEDDED_POOL_CAPACITY
#define EMBEDDED_POOL_CAPACITY 4096
#endif
#ifndef EMBEDDED_POOL_SLOTS
#define EMBEDDED_POOL_SLOTS 32
#endif
/* Every block starts on this boundary and its size is rounded up to it. */
#define EMBEDDED_POOL_ALIGN 8
/* Table links are 16 bits wide (that keeps a slot small): at most this many slots. */
#define EMBEDDED_POOL_MAX_SLOTS 65534u
/* Offsets are 32 bits wide: a pool uses at most this many bytes of its array. */
#define EMBEDDED_POOL_MAX_BYTES 0xFFFFFFF8u
/* Generations are 24 bits and lock counts 8 bits (they share one word of a slot). */
#define EMBEDDED_POOL_MAX_GENERATION 0xFFFFFFu
#define EMBEDDED_POOL_MAX_LOCKS 255u

typedef struct embedded_pool embedded_pool;

/* A handle names a table slot and the slot's generation when it was handed out; a handle whose
 * generation no longer matches is stale. */
typedef struct emb_handle {
    unsigned slot;
    unsigned generation;
} emb_handle;

/* Critical-section hooks the application supplies (e.g. mask one interrupt, take a mutex).
 * The pool calls enter/exit around every public operation and never disables interrupts itself. */
typedef struct emb_hooks {
    void (*enter)(void *ctx);
    void (*exit)(void *ctx);
    void *ctx;
} emb_hooks;

/* Flags. */
#define EMB_ZERO_ON_FREE 1u /* clear a block's bytes when it is freed */
#define EMB_FIRST_FIT 2u    /* place blocks by first fit (an O(live) walk in address order)
                             * instead of the default good fit (size-class index, O(1)) */

typedef struct emb_stats {
    size_t capacity;     /* bytes for blocks (the table excluded) */
    size_t table_bytes;  /* bytes the header and table take at the start */
    size_t used;         /* bytes in live blocks, rounding included */
    size_t free_bytes;   /* capacity - used */
    size_t largest_gap;  /* biggest run of free bytes */
    size_t live;         /* live handles */
    size_t slots;        /* table slots */
    size_t compactions;  /* compaction passes run */
    size_t bytes_moved;  /* bytes copied by compaction and realloc, since create */
    size_t last_steps;   /* table entries and index words visited by the last operation */
} emb_stats;

/* Create over the static array (one per program) or over a caller's array. */
int embedded_pool_create_static(embedded_pool **out, size_t slots, unsigned flags);
int embedded_pool_create_in(embedded_pool **out, void *buffer, size_t size, size_t slots,
                            unsigned flags);
/* Bytes the header and a table of `slots` take at the start of the pool (0 on overflow or
 * too many slots): a buffer needs this plus the bytes for blocks. */
size_t embedded_pool_table_bytes(size_t slots);
void embedded_pool_set_hooks(embedded_pool *p, const emb_hooks *hooks);

/* Allocation through handles. realloc keeps the handle; on failure data and handle stay. */
int embedded_pool_alloc(embedded_pool *p, size_t size, emb_handle *out);
int embedded_pool_realloc(embedded_pool *p, emb_handle h, size_t size);
int embedded_pool_free(embedded_pool *p, emb_handle h);
int embedded_pool_compact(embedded_pool *p);

/* Locked blocks never move; the pointer from lock stays valid until the matching unlock. */
int embedded_pool_lock(embedded_pool *p, emb_handle h, void **out);
int embedded_pool_unlock(embedded_pool *p, emb_handle h);

/* Where a block is now: valid until the next operation that may move blocks. */
int embedded_pool_offset(const embedded_pool *p, emb_handle h, size_t *offset, size_t *size);
unsigned char *embedded_pool_base(embedded_pool *p);

/* Inspection. Offsets count from the start of the pool's memory (the table is at 0). */
void embedded_pool_stats(const embedded_pool *p, emb_stats *s);
size_t embedded_pool_last_steps(const embedded_pool *p); /* work done by the last call */
void embedded_pool_walk(const embedded_pool *p, pool_walker fn, void *user);
const char *embedded_pool_check(const embedded_pool *p); /* NULL when sound */

#endif
