/* bench.c - C-side timing with C11 timespec_get; medians make one slow run harmless. */
#include "bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bump_pool.h"
#include "embedded_pool.h"
#include "fixed_pool.h"

#define BENCH_MAX_REPEATS 31

static double clock_ns(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, compare_double);
    return v[n / 2];
}

static size_t repeats_clamped(size_t repeats)
{
    return repeats == 0 ? 1 : repeats > BENCH_MAX_REPEATS ? BENCH_MAX_REPEATS : repeats;
}

/* A cheap deterministic index sequence, so every allocator sees the same churn order. */
static size_t churn_next(unsigned long long *state, size_t live)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    /* multiply-shift range reduction: no division inside the timed loop */
    return (size_t)(((*state >> 32) * (unsigned long long)live) >> 32);
}

/* Touch the block, as a real user would, so no allocator is timed on untouched memory. */
static void block_touch(void *b, size_t size)
{
    ((volatile unsigned char *)b)[0] = 1;
    ((volatile unsigned char *)b)[size - 1] = 2;
}

double bench_malloc_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    void **slot = calloc(live, sizeof *slot);
    if (!slot) return -1;
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++) slot[i] = malloc(size);
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            free(slot[k]);
            slot[k] = malloc(size);
            if (!slot[k]) return -1;
            block_touch(slot[k], size);
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) free(slot[i]);
    }
    free(slot);
    return median(t, repeats);
}

double bench_fixed_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    void **slot = calloc(live, sizeof *slot);
    fixed_pool *p = NULL;
    if (!slot || fixed_pool_create(&p, size, live, 8) != POOL_OK) {
        free(slot);
        return -1;
    }
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++) fixed_pool_alloc(p, &slot[i]);
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            fixed_pool_free(p, slot[k]);
            if (fixed_pool_alloc(p, &slot[k]) != POOL_OK) return -1;
            block_touch(slot[k], size);
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) fixed_pool_free(p, slot[i]);
    }
    fixed_pool_destroy(p);
    free(slot);
    return median(t, repeats);
}

double bench_embedded_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    size_t bytes = (size + 64) * live * 2 + 4096;
    unsigned char *memory = malloc(bytes);
    emb_handle *slot = calloc(live, sizeof *slot);
    embedded_pool *p = NULL;
    if (!memory || !slot || embedded_pool_create_in(&p, memory, bytes, live, 0) != POOL_OK) {
        free(memory);
        free(slot);
        return -1;
    }
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++) embedded_pool_alloc(p, size, &slot[i]);
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            embedded_pool_free(p, slot[k]);
            if (embedded_pool_alloc(p, size, &slot[k]) != POOL_OK) return -1;
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) embedded_pool_free(p, slot[i]);
    }
    free(slot);
    free(memory);
    return median(t, repeats);
}

/* Phase timings: allocate BENCH_ROUND blocks (which fit in cache, so the allocator and not the
 * memory bus is timed), then release them all - free() each, or one reset - inside the clock.
 * The result is per object: its allocation plus its share of the release. */
#define BENCH_ROUND 1024

double bench_malloc_allocs(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    void *slot[BENCH_ROUND];
    repeats = repeats_clamped(repeats);
    size_t rounds = count / BENCH_ROUND ? count / BENCH_ROUND : 1;
    for (size_t r = 0; r < repeats; r++) {
        double total = 0;
        for (size_t k = 0; k < rounds; k++) {
            double start = clock_ns();
            for (size_t i = 0; i < BENCH_ROUND; i++) {
                slot[i] = malloc(size);
                if (!slot[i]) return -1;
                block_touch(slot[i], size);
            }
            for (size_t i = 0; i < BENCH_ROUND; i++) free(slot[i]);
            total += clock_ns() - start;
        }
        t[r] = total / (double)(rounds * BENCH_ROUND);
    }
    return median(t, repeats);
}

double bench_bump_allocs(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    size_t rounds = count / BENCH_ROUND ? count / BENCH_ROUND : 1;
    bump_pool *p;
    if (bump_pool_create(&p, ((size + 7) & ~(size_t)7) * BENCH_ROUND, 8, 0) != POOL_OK) return -1;
    for (size_t r = 0; r < repeats; r++) {
        double total = 0;
        for (size_t k = 0; k < rounds; k++) {
            double start = clock_ns();
            for (size_t i = 0; i < BENCH_ROUND; i++) {
                void *b;
                if (bump_pool_alloc(p, size, &b) != POOL_OK) {
                    bump_pool_destroy(p);
                    return -1;
                }
                block_touch(b, size);
            }
            bump_pool_reset(p);
            total += clock_ns() - start;
        }
        t[r] = total / (double)(rounds * BENCH_ROUND);
    }
    bump_pool_destroy(p);
    return median(t, repeats);
}

double bench_fixed_create_lazy(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    for (size_t r = 0; r < repeats; r++) {
        fixed_pool *p;
        double start = clock_ns();
        if (fixed_pool_create(&p, size, count, 8) != POOL_OK) return -1;
        t[r] = clock_ns() - start;
        fixed_pool_destroy(p);
    }
    return median(t, repeats);
}

double bench_fixed_create_eager(size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    repeats = repeats_clamped(repeats);
    size_t stride = size < sizeof(void *) ? sizeof(void *) : (size + 7) & ~(size_t)7;
    for (size_t r = 0; r < repeats; r++) {
        double start = clock_ns();
        unsigned char *blocks = malloc(stride * count);
        if (!blocks) return -1;
        void *head = NULL;
        for (size_t i = count; i-- > 0;) { /* the loop lazy init avoids */
            memcpy(blocks + i * stride, &head, sizeof head);
            head = blocks + i * stride;
        }
        t[r] = clock_ns() - start;
        ((volatile unsigned char *)blocks)[0] = 0;
        free(blocks);
    }
    return median(t, repeats);
}

/* One allocator behind the replay loop: created fresh, used through one entry per id. */
typedef struct replay_state {
    int pool;              /* BENCH_* */
    size_t n_ids;          /* entries in the arrays below */
    void **ptr;            /* malloc, bump, fixed: the block of each id (NULL when none) */
    size_t *size;          /* bytes of each id */
    emb_handle *handle;    /* embedded: the handle of each id */
    size_t *entry;         /* bump: each id's current allocation, numbered by op */
    bump_mark *mark;       /* bump, per allocation: the position before it */
    unsigned char *freed;  /* bump, per allocation: freed but not released (newer ones live) */
    size_t *stack;         /* bump: allocations in order, oldest first */
    size_t depth;          /* bump: entries on the stack */
    size_t allocations;    /* bump: allocations numbered so far */
    size_t block_size;     /* fixed: the pool's block size */
    unsigned char *memory; /* embedded: the pool's array */
    bump_pool *bump;
    fixed_pool *fixed;
    embedded_pool *emb;
    size_t steps;          /* work done by the current op */
} replay_state;

static void replay_close(replay_state *r)
{
    if (r->pool == BENCH_MALLOC && r->ptr)
        for (size_t i = 0; i < r->n_ids; i++) free(r->ptr[i]);
    bump_pool_destroy(r->bump);
    fixed_pool_destroy(r->fixed);
    free(r->memory);
    free(r->ptr);
    free(r->size);
    free(r->handle);
    free(r->entry);
    free(r->mark);
    free(r->freed);
    free(r->stack);
}

static int replay_open(replay_state *r, int pool, size_t n_ids, size_t n_ops, size_t max_live,
                       size_t param)
{
    memset(r, 0, sizeof *r);
    r->pool = pool;
    r->n_ids = n_ids ? n_ids : 1;
    r->ptr = calloc(r->n_ids, sizeof *r->ptr);
    r->size = calloc(r->n_ids, sizeof *r->size);
    r->handle = calloc(r->n_ids, sizeof *r->handle);
    r->entry = calloc(r->n_ids, sizeof *r->entry);
    r->mark = calloc(n_ops, sizeof *r->mark);
    r->freed = calloc(n_ops, 1);
    r->stack = calloc(n_ops, sizeof *r->stack);
    if (!r->ptr || !r->size || !r->handle || !r->entry || !r->mark || !r->freed || !r->stack)
        return POOL_ENOMEM;
    switch (pool) {
    case BENCH_MALLOC:
        return POOL_OK;
    case BENCH_BUMP:
        return bump_pool_create(&r->bump, param, 8, 0);
    case BENCH_FIXED:
        r->block_size = param;
        return fixed_pool_create(&r->fixed, param, max_live ? max_live : 1, 8);
    case BENCH_EMBEDDED: {
        size_t slots = max_live ? max_live : 1, bytes = param + embedded_pool_table_bytes(slots);
        r->memory = malloc(bytes);
        if (!r->memory) return POOL_ENOMEM;
        return embedded_pool_create_in(&r->emb, r->memory, bytes, slots, 0);
    }
    default:
        return POOL_EINVAL;
    }
}

/* Bump pools free like a stack: a freed block is released once everything newer is gone. */
static void bump_free(replay_state *r, size_t id)
{
    r->freed[r->entry[id]] = 1;
    while (r->depth && r->freed[r->stack[r->depth - 1]]) {
        size_t top = r->stack[--r->depth];
        bump_pool_release(r->bump, r->mark[top]);
        r->freed[top] = 0;
        r->steps++;
    }
}

static int bump_op(replay_state *r, char kind, size_t id, size_t size)
{
    if (kind == 'f') {
        bump_free(r, id);
        return 0;
    }
    void *p;
    size_t old = r->entry[id];
    bump_mark before = bump_pool_mark(r->bump);
    if (bump_pool_alloc(r->bump, size, &p) != POOL_OK) return 1;
    if (kind == 'r') /* a bump pool cannot grow a block: copy into a new one */
        memcpy(p, r->ptr[id], r->size[id] < size ? r->size[id] : size);
    r->entry[id] = r->allocations++;
    r->mark[r->entry[id]] = before;
    r->stack[r->depth++] = r->entry[id];
    r->ptr[id] = p;
    if (kind == 'r') r->freed[old] = 1; /* released once everything newer is gone */
    return 0;
}

static int fixed_op(replay_state *r, char kind, size_t id, size_t size)
{
    if (kind == 'f') return fixed_pool_free(r->fixed, r->ptr[id]) != POOL_OK;
    if (size > r->block_size) return 1;
    if (kind == 'r') return 0; /* any size up to the block fits where it is */
    return fixed_pool_alloc(r->fixed, &r->ptr[id]) != POOL_OK;
}

static int malloc_op(replay_state *r, char kind, size_t id, size_t size)
{
    if (kind == 'f') {
        free(r->ptr[id]);
        r->ptr[id] = NULL;
        return 0;
    }
    void *p = kind == 'a' ? malloc(size) : realloc(r->ptr[id], size);
    if (!p) return 1;
    r->ptr[id] = p;
    return 0;
}

static int embedded_op(replay_state *r, char kind, size_t id, size_t size)
{
    int err;
    if (kind == 'f') err = embedded_pool_free(r->emb, r->handle[id]);
    else if (kind == 'r') err = embedded_pool_realloc(r->emb, r->handle[id], size);
    else err = embedded_pool_alloc(r->emb, size, &r->handle[id]);
    r->steps = embedded_pool_last_steps(r->emb);
    return err != POOL_OK;
}

/* One op; 0 when done, 1 when the pool refused it. Every new block is touched once. */
static int replay_op(replay_state *r, char kind, size_t id, size_t size)
{
    int refused;
    r->steps = 1;
    switch (r->pool) {
    case BENCH_MALLOC: refused = malloc_op(r, kind, id, size); break;
    case BENCH_BUMP: refused = bump_op(r, kind, id, size); break;
    case BENCH_FIXED: refused = fixed_op(r, kind, id, size); break;
    case BENCH_EMBEDDED: return embedded_op(r, kind, id, size);
    default: return 1;
    }
    if (!refused && kind != 'f') ((volatile unsigned char *)r->ptr[id])[0] = 1;
    if (!refused) r->size[id] = kind == 'f' ? 0 : size;
    return refused;
}

int bench_replay(int pool, const char *kinds, const size_t *ids, const size_t *sizes,
                 size_t n_ops, size_t n_ids, size_t max_live, size_t param, size_t repeats,
                 bench_result *out)
{
    double t[BENCH_MAX_REPEATS];
    if (!kinds || !ids || !sizes || !out || n_ops == 0) return POOL_EINVAL;
    for (size_t i = 0; i < n_ops; i++)
        if (ids[i] >= n_ids) return POOL_EINVAL;
    repeats = repeats_clamped(repeats);
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k <= repeats; k++) { /* pass 0 counts steps and refusals, untimed */
        replay_state r;
        int err = replay_open(&r, pool, n_ids, n_ops, max_live, param);
        if (err != POOL_OK) {
            replay_close(&r);
            return err;
        }
        size_t total_steps = 0;
        double start = clock_ns();
        for (size_t i = 0; i < n_ops; i++) {
            int refused = replay_op(&r, kinds[i], ids[i], sizes[i]);
            if (k == 0) {
                out->failures += (size_t)refused;
                total_steps += r.steps;
                if (r.steps > out->max_steps) out->max_steps = r.steps;
            }
        }
        if (k > 0) t[k - 1] = (clock_ns() - start) / (double)n_ops;
        else out->mean_steps = (double)total_steps / (double)n_ops;
        replay_close(&r);
    }
    out->ns_per_op = median(t, repeats);
    if (pool == BENCH_MALLOC) out->mean_steps = 0, out->max_steps = 0; /* libc does not say */
    return POOL_OK;
}
