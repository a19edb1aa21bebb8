/* pool_common.h - what every allocator in mempools shares: the error codes they return,
 * the region kinds their walkers report, and overflow-safe size arithmetic. */
#ifndef POOL_COMMON_H
#define POOL_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* Error codes: every fallible call returns one; library code never asserts. */
typedef enum pool_error {
    POOL_OK = 0,
    POOL_ENOMEM = 1,      /* the request does not fit */
    POOL_EINVAL = 2,      /* a bad argument (zero size, NULL pool, ...) */
    POOL_EOVERFLOW = 3,   /* size arithmetic would wrap around SIZE_MAX */
    POOL_EALIGN = 4,      /* alignment is zero, not a power of two, or not honoured */
    POOL_EDOUBLEFREE = 5, /* the block is already free */
    POOL_EFOREIGN = 6,    /* the pointer is not a block of this pool */
    POOL_ESTALE = 7,      /* a handle or mark from an earlier generation */
    POOL_ELOCKED = 8,     /* the block is locked and cannot move or be freed */
    POOL_ENOTLOCKED = 9   /* unlock of a block that is not locked */
} pool_error;

/* Region kinds a walker reports, in address order. */
typedef enum pool_region_kind {
    POOL_REGION_HEADER = 0,    /* allocator metadata in front of a block */
    POOL_REGION_PAYLOAD = 1,   /* bytes a caller asked for */
    POOL_REGION_PADDING = 2,   /* bytes lost to alignment or rounding */
    POOL_REGION_FREE = 3,      /* free and reusable */
    POOL_REGION_TABLE = 4,     /* an allocation table or other bookkeeping */
    POOL_REGION_UNTOUCHED = 5, /* never handed out yet (beyond a high-water mark) */
    POOL_REGION_OTHER = 6,     /* memory the pool does not own or cannot classify */
    POOL_REGION_FOOTER = 7     /* a boundary tag: a copy of the header at a block's end */
} pool_region_kind;

/* A walker is called once per region, in address order. `offset` counts from the start of the
 * pool's memory; `owner` is a block id (or -1 when the region has no owner). */
typedef void (*pool_walker)(size_t offset, size_t size, int kind, long owner, void *user);

/* Where a pool gets its own memory; tests pass one that fails on purpose. */
typedef struct pool_allocator {
    void *(*alloc)(size_t size, void *ctx);
    void (*release)(void *block, void *ctx);
    void *ctx;
} pool_allocator;

/* A short, static, human-readable name for an error code. */
const char *pool_error_name(int code);

/* Overflow-safe size helpers: return POOL_OK and store the result, or POOL_EOVERFLOW. */
static inline int size_add(size_t a, size_t b, size_t *out)
{
    if (a > SIZE_MAX - b) return POOL_EOVERFLOW;
    *out = a + b;
    return POOL_OK;
}

static inline int size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return POOL_EOVERFLOW;
    *out = a * b;
    return POOL_OK;
}

static inline int size_is_pow2(size_t a)
{
    return a != 0 && (a & (a - 1)) == 0;
}

/* Round `v` up to a multiple of `align` (a power of two), refusing to wrap. */
static inline int size_align_up(size_t v, size_t align, size_t *out)
{
    if (!size_is_pow2(align)) return POOL_EALIGN;
    if (v > SIZE_MAX - (align - 1)) return POOL_EOVERFLOW;
    *out = (v + (align - 1)) & ~(align - 1);
    return POOL_OK;
}

/* Branch hints and out-of-line rare paths, so an allocator's fast path is straight-line code
 * that needs no saved registers; plain C elsewhere. */
#if defined(__GNUC__)
#define POOL_LIKELY(x) __builtin_expect(!!(x), 1)
#define POOL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define POOL_COLD __attribute__((noinline, cold))
#else
#define POOL_LIKELY(x) (x)
#define POOL_UNLIKELY(x) (x)
#define POOL_COLD
#endif

/* The strictest alignment a fundamental C type needs on this platform. */
#define POOL_MAX_ALIGN (_Alignof(max_align_t))

#endif
