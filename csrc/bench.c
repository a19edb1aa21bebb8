/* bench.c - C-side timing with C11 timespec_get; medians make one slow run harmless. Every
 * loop frees what it allocated on every path, failures included. */
#include "bench.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bump_pool.h"
#include "embedded_pool.h"
#include "fixed_pool.h"

#define BENCH_MAX_REPEATS 31

/* Between two allocator calls in a timed loop: the compiler may not carry what it knows about
 * memory across this line, so it cannot fold a free and the next alloc into nothing - in the
 * floors' loops and in the pools' (whose fast paths inline) alike, as calls far apart in a
 * real program are. It emits no instruction. */
#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define BENCH_BARRIER() atomic_signal_fence(memory_order_seq_cst)
#else
#define BENCH_BARRIER() ((void)0)
#endif

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

/* Bytes a piece of `size` takes when every piece is 8-aligned, or 0 on overflow. */
static size_t size_rounded(size_t size)
{
    size_t out;
    return size_align_up(size, 8, &out) == POOL_OK ? out : 0;
}

/* -- churn of pairs ------------------------------------------------------------------------ */

/* The timed loop over malloc; slot[] keeps whatever is live so the caller can free it. */
static double malloc_churn(void **slot, size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++)
            if (!(slot[i] = malloc(size))) return -1;
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            free(slot[k]);
            BENCH_BARRIER();
            if (!(slot[k] = malloc(size))) return -1;
            block_touch(slot[k], size);
            BENCH_BARRIER();
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) free(slot[i]), slot[i] = NULL;
    }
    return median(t, repeats);
}

double bench_malloc_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    if (size == 0 || live == 0 || pairs == 0) return -1;
    void **slot = calloc(live, sizeof *slot);
    double result = slot ? malloc_churn(slot, size, live, pairs, repeats_clamped(repeats)) : -1;
    for (size_t i = 0; slot && i < live; i++) free(slot[i]);
    free(slot);
    return result;
}

static double fixed_churn(fixed_pool *p, void **slot, size_t size, size_t live, size_t pairs,
                          size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    if (!p) return -1; /* checked once, as a caller would: the inlined calls then need not */
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++)
            if (fixed_pool_alloc(p, &slot[i]) != POOL_OK) return -1;
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            fixed_pool_free(p, slot[k]);
            BENCH_BARRIER();
            if (fixed_pool_alloc(p, &slot[k]) != POOL_OK) return -1;
            block_touch(slot[k], size);
            BENCH_BARRIER();
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) fixed_pool_free(p, slot[i]);
    }
    return median(t, repeats);
}

double bench_fixed_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    if (size == 0 || live == 0 || pairs == 0) return -1;
    void **slot = calloc(live, sizeof *slot);
    fixed_pool *p = NULL;
    double result = -1;
    if (slot && fixed_pool_create(&p, size, live, 8) == POOL_OK)
        result = fixed_churn(p, slot, size, live, pairs, repeats_clamped(repeats));
    fixed_pool_destroy(p); /* the blocks are the pool's */
    free(slot);
    return result;
}

/* The floor of a fixed pool: an intrusive free list and nothing else - no bounds, no
 * double-free check, no counters (only the empty check every pop needs). Its head lives in
 * memory, as an allocator's state does between calls. */
typedef struct list_node {
    struct list_node *next;
} list_node;

static double list_churn(list_node *list, unsigned char *blocks, size_t stride, void **slot,
                         size_t size, size_t live, size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        list->next = NULL;
        for (size_t i = 0; i < live; i++) slot[i] = blocks + i * stride;
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            list_node *freed = slot[k];
            freed->next = list->next;
            list->next = freed;
            BENCH_BARRIER();
            list_node *got = list->next;
            if (!got) return -1;
            list->next = got->next;
            slot[k] = got;
            block_touch(got, size);
            BENCH_BARRIER();
        }
        t[r] = (clock_ns() - start) / (double)pairs;
    }
    return median(t, repeats);
}

double bench_list_pairs(size_t size, size_t live, size_t pairs, size_t repeats)
{
    if (size == 0 || live == 0 || pairs == 0) return -1;
    size_t stride = size_rounded(size < sizeof(list_node) ? sizeof(list_node) : size), bytes;
    if (stride == 0 || size_mul(stride, live, &bytes) != POOL_OK) return -1;
    unsigned char *blocks = malloc(bytes);
    void **slot = calloc(live, sizeof *slot);
    list_node *list = malloc(sizeof *list); /* the list's head, as a pool keeps it */
    double result = blocks && slot && list ? list_churn(list, blocks, stride, slot, size, live,
                                                        pairs, repeats_clamped(repeats)) : -1;
    free(list);
    free(slot);
    free(blocks);
    return result;
}

static double embedded_churn(embedded_pool *p, emb_handle *slot, size_t size, size_t live,
                             size_t pairs, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    for (size_t r = 0; r < repeats; r++) {
        unsigned long long state = 42;
        for (size_t i = 0; i < live; i++)
            if (embedded_pool_alloc(p, size, &slot[i]) != POOL_OK) return -1;
        double start = clock_ns();
        for (size_t i = 0; i < pairs; i++) {
            size_t k = churn_next(&state, live);
            embedded_pool_free(p, slot[k]);
            if (embedded_pool_alloc(p, size, &slot[k]) != POOL_OK) return -1;
        }
        t[r] = (clock_ns() - start) / (double)pairs;
        for (size_t i = 0; i < live; i++) embedded_pool_free(p, slot[i]);
    }
    return median(t, repeats);
}

double bench_embedded_pairs(size_t size, size_t live, size_t pairs, size_t repeats,
                            unsigned flags)
{
    if (size == 0 || live == 0 || pairs == 0) return -1;
    size_t piece = size_rounded(size), data, bytes;
    /* twice the live bytes, so placement (not a full pool) is what is timed */
    if (piece == 0 || size_mul(piece, 2 * live, &data) != POOL_OK ||
        embedded_pool_table_bytes(live) == 0 ||
        size_add(data, embedded_pool_table_bytes(live), &bytes) != POOL_OK)
        return -1;
    unsigned char *memory = malloc(bytes);
    emb_handle *slot = calloc(live, sizeof *slot);
    embedded_pool *p = NULL;
    double result = -1;
    if (memory && slot && embedded_pool_create_in(&p, memory, bytes, live, flags) == POOL_OK)
        result = embedded_churn(p, slot, size, live, pairs, repeats_clamped(repeats));
    free(slot);
    free(memory); /* the pool lives in it */
    return result;
}

/* -- phases: allocate a round, release it all --------------------------------------------- */

/* Rounds of BENCH_ROUND blocks fit in cache, so the allocator and not the memory bus is timed;
 * the release is inside the clock. The result is per object: its allocation plus its share
 * of the release. */
#define BENCH_ROUND 1024

static size_t rounds_for(size_t count)
{
    return count / BENCH_ROUND ? count / BENCH_ROUND : 1;
}

static double malloc_phases(void **slot, size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    for (size_t r = 0; r < repeats; r++) {
        double total = 0;
        for (size_t k = 0; k < rounds_for(count); k++) {
            double start = clock_ns();
            for (size_t i = 0; i < BENCH_ROUND; i++) {
                if (!(slot[i] = malloc(size))) return -1;
                block_touch(slot[i], size);
                BENCH_BARRIER();
            }
            for (size_t i = 0; i < BENCH_ROUND; i++) free(slot[i]), slot[i] = NULL;
            total += clock_ns() - start;
        }
        t[r] = total / (double)(rounds_for(count) * BENCH_ROUND);
    }
    return median(t, repeats);
}

double bench_malloc_allocs(size_t size, size_t count, size_t repeats)
{
    if (size == 0) return -1;
    void **slot = calloc(BENCH_ROUND, sizeof *slot);
    double result = slot ? malloc_phases(slot, size, count, repeats_clamped(repeats)) : -1;
    for (size_t i = 0; slot && i < BENCH_ROUND; i++) free(slot[i]);
    free(slot);
    return result;
}

static double bump_phases(bump_pool *p, size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    for (size_t r = 0; r < repeats; r++) {
        double total = 0;
        for (size_t k = 0; k < rounds_for(count); k++) {
            double start = clock_ns();
            for (size_t i = 0; i < BENCH_ROUND; i++) {
                void *b;
                if (bump_pool_alloc(p, size, &b) != POOL_OK) return -1;
                block_touch(b, size);
                BENCH_BARRIER();
            }
            bump_pool_reset(p);
            total += clock_ns() - start;
        }
        t[r] = total / (double)(rounds_for(count) * BENCH_ROUND);
    }
    return median(t, repeats);
}

double bench_bump_allocs(size_t size, size_t count, size_t repeats)
{
    size_t bytes, piece = size == 0 ? 0 : size_rounded(size);
    if (piece == 0 || size_mul(piece, BENCH_ROUND, &bytes) != POOL_OK) return -1;
    bump_pool *p;
    if (bump_pool_create(&p, bytes, 8, 0) != POOL_OK) return -1;
    double result = bump_phases(p, size, count, repeats_clamped(repeats));
    bump_pool_destroy(p);
    return result;
}

/* The floor of a bump pool: a pointer, a limit, an add and a compare (on a size rounded
 * once, outside the loop); its top lives in memory, as an arena's does between calls. */
typedef struct pointer_floor {
    size_t top; /* bytes handed out */
} pointer_floor;

static double pointer_phases(pointer_floor *floor, unsigned char *memory, size_t bytes,
                             size_t size, size_t count, size_t repeats)
{
    double t[BENCH_MAX_REPEATS];
    size_t piece = size_rounded(size);
    for (size_t r = 0; r < repeats; r++) {
        double total = 0;
        for (size_t k = 0; k < rounds_for(count); k++) {
            double start = clock_ns();
            floor->top = 0;
            for (size_t i = 0; i < BENCH_ROUND; i++) {
                if (piece > bytes - floor->top) return -1;
                void *b = memory + floor->top;
                floor->top += piece;
                block_touch(b, size);
                BENCH_BARRIER();
            }
            total += clock_ns() - start;
        }
        t[r] = total / (double)(rounds_for(count) * BENCH_ROUND);
    }
    return median(t, repeats);
}

double bench_pointer_allocs(size_t size, size_t count, size_t repeats)
{
    size_t bytes, piece = size == 0 ? 0 : size_rounded(size);
    if (piece == 0 || size_mul(piece, BENCH_ROUND, &bytes) != POOL_OK) return -1;
    unsigned char *memory = malloc(bytes);
    pointer_floor *floor = malloc(sizeof *floor);
    double result = memory && floor ? pointer_phases(floor, memory, bytes, size, count,
                                                     repeats_clamped(repeats)) : -1;
    free(floor);
    free(memory);
    return result;
}

/* -- creating a fixed pool ---------------------------------------------------------------- */

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
    size_t stride = size_rounded(size < sizeof(void *) ? sizeof(void *) : size), bytes;
    if (stride == 0 || size_mul(stride, count, &bytes) != POOL_OK) return -1;
    for (size_t r = 0; r < repeats; r++) {
        double start = clock_ns();
        unsigned char *blocks = malloc(bytes);
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

/* A fine clock for single operations: the CPU's time-stamp counter where the compiler offers
 * it (x86), since timespec_get may tick in steps of hundreds of ns (it does on the machine the
 * README's numbers come from); elsewhere timespec_get itself. */
static uint64_t ticks_now(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    return __builtin_ia32_rdtsc();
#else
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/* Ticks per nanosecond, measured against timespec_get over 5 ms. */
static double ticks_per_ns(void)
{
    double start = clock_ns(), now;
    uint64_t first = ticks_now();
    while ((now = clock_ns()) - start < 5e6) continue;
    return (double)(ticks_now() - first) / (now - start);
}

/* Ticks one read of the clock costs (median of batches): subtracted from each op's time. */
static double ticks_read_cost(size_t samples)
{
    double t[BENCH_MAX_REPEATS];
    size_t batch = samples ? samples : 1000;
    for (size_t r = 0; r < BENCH_MAX_REPEATS; r++) {
        uint64_t start = ticks_now();
        for (size_t i = 0; i < batch; i++) ticks_now();
        t[r] = (double)(ticks_now() - start) / (double)batch;
    }
    return median(t, BENCH_MAX_REPEATS);
}

double bench_clock_cost(size_t samples)
{
    return ticks_read_cost(samples) / ticks_per_ns();
}

/* -- trace replay ------------------------------------------------------------------------- */

/* One allocator behind the replay loop: created fresh, used through one entry per id. */
typedef struct replay_state {
    int pool;              /* BENCH_* */
    size_t n_ids;          /* entries in the arrays below */
    void **ptr;            /* malloc, bump, fixed: the block of each id (NULL when none) */
    size_t *size;          /* bytes of each id */
    emb_handle *handle;    /* embedded: the handle of each id */
    size_t live;           /* bump: blocks not yet freed (the arena resets at 0) */
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
}

static int replay_open(replay_state *r, int pool, size_t n_ids, size_t max_live, size_t param)
{
    memset(r, 0, sizeof *r);
    r->pool = pool;
    r->n_ids = n_ids ? n_ids : 1;
    r->ptr = calloc(r->n_ids, sizeof *r->ptr);
    r->size = calloc(r->n_ids, sizeof *r->size);
    r->handle = calloc(r->n_ids, sizeof *r->handle);
    if (!r->ptr || !r->size || !r->handle) return POOL_ENOMEM;
    size_t slots = max_live ? max_live : 1, table = embedded_pool_table_bytes(slots), bytes;
    switch (pool) {
    case BENCH_MALLOC:
        return POOL_OK;
    case BENCH_BUMP:
        return bump_pool_create(&r->bump, param, 8, 0);
    case BENCH_FIXED:
        r->block_size = param;
        return fixed_pool_create(&r->fixed, param, slots, 8);
    case BENCH_EMBEDDED:
    case BENCH_EMBEDDED_FIRST:
        if (table == 0) return POOL_EINVAL;
        if (size_add(param, table, &bytes) != POOL_OK) return POOL_EOVERFLOW;
        if (!(r->memory = malloc(bytes))) return POOL_ENOMEM;
        return embedded_pool_create_in(&r->emb, r->memory, bytes, slots,
                                       pool == BENCH_EMBEDDED_FIRST ? EMB_FIRST_FIT : 0);
    default:
        return POOL_EINVAL;
    }
}

/* An arena frees nothing by itself: the replay resets it once every block is freed. */
static int bump_op(replay_state *r, char kind, size_t id, size_t size)
{
    if (kind == 'f') {
        if (--r->live == 0) bump_pool_reset(r->bump);
        return 0;
    }
    void *p;
    if (bump_pool_alloc(r->bump, size, &p) != POOL_OK) return 1;
    if (kind == 'r') /* a bump pool cannot grow a block: copy into a new one */
        memcpy(p, r->ptr[id], r->size[id] < size ? r->size[id] : size);
    else r->live++;
    r->ptr[id] = p;
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
    case BENCH_EMBEDDED:
    case BENCH_EMBEDDED_FIRST: return embedded_op(r, kind, id, size);
    default: return 1;
    }
    if (!refused && kind != 'f') ((volatile unsigned char *)r->ptr[id])[0] = 1;
    if (!refused) r->size[id] = kind == 'f' ? 0 : size;
    return refused;
}

/* Ops one timed sample of a replay covers at least (the trace is replayed as often as needed). */
#define BENCH_SAMPLE_OPS 20000

typedef struct replay_trace {
    const char *kinds;
    const size_t *ids;
    const size_t *sizes;
    size_t n_ops, n_ids, max_live, param;
} replay_trace;

/* One pass over the trace on a fresh pool. Pass 0 counts steps and refusals; with `latency`
 * each op is timed on its own (in clock ticks) and the fastest of every pass is kept per op:
 * an op's own cost, not the interrupts and other programs that hit it in one pass. */
static int replay_pass(const replay_trace *t, int pool, size_t pass, bench_result *out,
                       double *latency, double *elapsed)
{
    replay_state r;
    int err = replay_open(&r, pool, t->n_ids, t->max_live, t->param);
    if (err != POOL_OK) {
        replay_close(&r);
        return err;
    }
    size_t total_steps = 0;
    double start = clock_ns();
    for (size_t i = 0; i < t->n_ops; i++) {
        uint64_t before = latency ? ticks_now() : 0;
        int refused = replay_op(&r, t->kinds[i], t->ids[i], t->sizes[i]);
        if (latency) {
            double ticks = (double)(ticks_now() - before);
            if (pass == 0 || ticks < latency[i]) latency[i] = ticks;
        }
        if (pass == 0 && !latency) {
            out->failures += (size_t)refused;
            total_steps += r.steps;
            if (r.steps > out->max_steps) out->max_steps = r.steps;
        }
    }
    *elapsed = clock_ns() - start;
    if (pass == 0 && !latency) out->mean_steps = (double)total_steps / (double)t->n_ops;
    replay_close(&r);
    return POOL_OK;
}

/* p50 / p99 / max of the per-op latencies (in ticks), the clock's own cost subtracted. */
static void latency_summary(double *latency, size_t n, bench_result *out)
{
    double cost = ticks_read_cost(200), per_ns = ticks_per_ns();
    for (size_t i = 0; i < n; i++)
        latency[i] = latency[i] > cost ? (latency[i] - cost) / per_ns : 0;
    qsort(latency, n, sizeof *latency, compare_double);
    out->p50_ns = latency[n / 2];
    out->p99_ns = latency[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
    out->max_ns = latency[n - 1];
}

int bench_replay(int pool, const char *kinds, const size_t *ids, const size_t *sizes,
                 size_t n_ops, size_t n_ids, size_t max_live, size_t param, size_t repeats,
                 bench_result *out)
{
    double t[BENCH_MAX_REPEATS], elapsed;
    if (!kinds || !ids || !sizes || !out || n_ops == 0) return POOL_EINVAL;
    for (size_t i = 0; i < n_ops; i++)
        if (ids[i] >= n_ids) return POOL_EINVAL;
    repeats = repeats_clamped(repeats);
    memset(out, 0, sizeof *out);
    const replay_trace trace = {kinds, ids, sizes, n_ops, n_ids, max_live, param};
    double *latency = calloc(n_ops, sizeof *latency);
    if (!latency) return POOL_ENOMEM;
    int err = replay_pass(&trace, pool, 0, out, NULL, &elapsed); /* untimed: steps, refusals */
    /* each timed sample replays the trace until it covers BENCH_SAMPLE_OPS ops, so a short
     * trace still gives a median that does not swing from run to run */
    size_t passes = (BENCH_SAMPLE_OPS + n_ops - 1) / n_ops;
    for (size_t k = 0; k < repeats && err == POOL_OK; k++) {
        double total = 0;
        for (size_t pass = 0; pass < passes && err == POOL_OK; pass++) {
            err = replay_pass(&trace, pool, 1, out, NULL, &elapsed);
            total += elapsed;
        }
        t[k] = total / (double)(passes * n_ops);
    }
    for (size_t k = 0; k < repeats && err == POOL_OK; k++)
        err = replay_pass(&trace, pool, k, out, latency, &elapsed);
    if (err == POOL_OK) {
        out->ns_per_op = median(t, repeats);
        latency_summary(latency, n_ops, out);
    }
    free(latency);
    if (pool == BENCH_MALLOC) out->mean_steps = 0, out->max_steps = 0; /* libc does not say */
    return err;
}
