"""The cffi builder: the only place that knows the C declarations of csrc/."""

from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
SOURCES = [
    "pool_common.c",
    "heap_probe.c",
    "bump_pool.c",
    "fixed_pool.c",
    "embedded_pool.c",
    "bench.c",
    "fault_injection.c",
    "naive/naive_pools.c",
]
# The flags the course promises; warnings in our C fail the build.
C_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter"]

CDEF = """
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *block, size_t size);
void free(void *block);
void *memset(void *s, int c, size_t n);

typedef enum pool_error {
    POOL_OK, POOL_ENOMEM, POOL_EINVAL, POOL_EOVERFLOW, POOL_EALIGN, POOL_EDOUBLEFREE,
    POOL_EFOREIGN, POOL_ESTALE, POOL_ELOCKED, POOL_ENOTLOCKED
} pool_error;
typedef enum pool_region_kind {
    POOL_REGION_HEADER, POOL_REGION_PAYLOAD, POOL_REGION_PADDING, POOL_REGION_FREE,
    POOL_REGION_TABLE, POOL_REGION_UNTOUCHED, POOL_REGION_OTHER, POOL_REGION_FOOTER
} pool_region_kind;
typedef void (*pool_walker)(size_t offset, size_t size, int kind, long owner, void *user);
const char *pool_error_name(int code);
extern "Python" void mp_collect_region(size_t, size_t, int, long, void *);

int heap_is_glibc(void);
size_t heap_guaranteed_alignment(void);
size_t heap_usable_size(void *block);
size_t heap_chunk_size_field(const void *block);
size_t heap_product_unchecked(size_t n, size_t size);
int heap_product_checked(size_t n, size_t size, size_t *out);
void heap_ints_fill(int *block, size_t n);
long long heap_ints_sum(const int *block, size_t n);
int heap_reuse_experiment(size_t size, unsigned char *after, int *same);
int heap_checkerboard(size_t n, size_t size, void **blocks);

typedef struct bump_pool bump_pool;
#define BUMP_GROWABLE ...
#define BUMP_MEASURE ...
#define BUMP_POISON ...
#define BUMP_JOURNAL ...
#define BUMP_POISON_BYTE ...
#define BUMP_CHUNK_ALIGN ...
typedef struct bump_mark {
    const bump_pool *pool; unsigned long generation; size_t chunk; size_t used; size_t padding;
    size_t allocations;
} bump_mark;
typedef struct bump_stats {
    size_t capacity, used, available, high_water, padding, chunks, allocations, malloc_calls;
} bump_stats;
int bump_pool_create(bump_pool **out, size_t capacity, size_t align, unsigned flags);
void bump_pool_destroy(bump_pool *p);
int bump_pool_alloc(bump_pool *p, size_t size, void **out);
int bump_pool_alloc_aligned(bump_pool *p, size_t size, size_t align, void **out);
size_t bump_pool_last_offset(const bump_pool *p);
size_t bump_pool_available(const bump_pool *p);
bump_mark bump_pool_mark(const bump_pool *p);
int bump_pool_release(bump_pool *p, bump_mark mark);
void bump_pool_reset(bump_pool *p);
void bump_pool_stats(const bump_pool *p, bump_stats *s);
unsigned char *bump_pool_address(const bump_pool *p, size_t offset);
int bump_pool_chunk(const bump_pool *p, size_t index, size_t *start, size_t *capacity);
void bump_pool_walk(const bump_pool *p, pool_walker fn, void *user);
const char *bump_pool_check(const bump_pool *p);

typedef struct fixed_pool fixed_pool;
typedef struct fixed_stats {
    size_t block_size, stride, count, used, free, high_water, failed;
} fixed_stats;
typedef struct pool_allocator {
    void *(*alloc)(size_t size, void *ctx); void (*release)(void *block, void *ctx); void *ctx;
} pool_allocator;
int fixed_pool_create(fixed_pool **out, size_t block_size, size_t count, size_t align);
int fixed_pool_create_with(fixed_pool **out, size_t block_size, size_t count, size_t align,
                           const pool_allocator *a);
typedef struct fault_allocator {
    int calls; int fail_at; int outstanding; pool_allocator allocator;
} fault_allocator;
void fault_allocator_init(fault_allocator *f, int fail_at);
size_t fixed_pool_buffer_size(size_t block_size, size_t count, size_t align);
int fixed_pool_create_in(fixed_pool **out, void *buffer, size_t buffer_size, size_t block_size,
                         size_t count, size_t align);
void fixed_pool_destroy(fixed_pool *p);
int fixed_pool_alloc(fixed_pool *p, void **out);
int fixed_pool_free(fixed_pool *p, void *block);
void fixed_pool_stats(const fixed_pool *p, fixed_stats *s);
unsigned char *fixed_pool_base(const fixed_pool *p);
long fixed_pool_free_head(const fixed_pool *p);
int fixed_pool_free_next(const fixed_pool *p, size_t index, long *next);
void fixed_pool_walk(const fixed_pool *p, pool_walker fn, void *user);
const char *fixed_pool_check(const fixed_pool *p);

typedef struct embedded_pool embedded_pool;
#define EMBEDDED_POOL_CAPACITY ...
#define EMBEDDED_POOL_SLOTS ...
#define EMBEDDED_POOL_ALIGN ...
#define EMB_ZERO_ON_FREE ...
#define EMB_FIRST_FIT ...
#define EMBEDDED_POOL_MAX_SLOTS ...
#define EMBEDDED_POOL_MAX_LOCKS ...
typedef struct emb_handle { unsigned slot; unsigned generation; } emb_handle;
typedef struct emb_hooks { void (*enter)(void *ctx); void (*exit)(void *ctx); void *ctx; } emb_hooks;
typedef struct emb_stats {
    size_t capacity, table_bytes, used, free_bytes, largest_gap, live, slots, compactions,
           bytes_moved, last_steps;
} emb_stats;
extern "Python" void mp_section_enter(void *);
extern "Python" void mp_section_exit(void *);
int embedded_pool_create_static(embedded_pool **out, size_t slots, unsigned flags);
int embedded_pool_create_in(embedded_pool **out, void *buffer, size_t size, size_t slots,
                            unsigned flags);
size_t embedded_pool_table_bytes(size_t slots);
void embedded_pool_set_hooks(embedded_pool *p, const emb_hooks *hooks);
int embedded_pool_alloc(embedded_pool *p, size_t size, emb_handle *out);
int embedded_pool_realloc(embedded_pool *p, emb_handle h, size_t size);
int embedded_pool_free(embedded_pool *p, emb_handle h);
int embedded_pool_compact(embedded_pool *p);
int embedded_pool_lock(embedded_pool *p, emb_handle h, void **out);
int embedded_pool_unlock(embedded_pool *p, emb_handle h);
int embedded_pool_offset(const embedded_pool *p, emb_handle h, size_t *offset, size_t *size);
unsigned char *embedded_pool_base(embedded_pool *p);
void embedded_pool_stats(const embedded_pool *p, emb_stats *s);
void embedded_pool_walk(const embedded_pool *p, pool_walker fn, void *user);
const char *embedded_pool_check(const embedded_pool *p);

double bench_malloc_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_fixed_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_list_pairs(size_t size, size_t live, size_t pairs, size_t repeats);
double bench_embedded_pairs(size_t size, size_t live, size_t pairs, size_t repeats,
                            unsigned flags);
double bench_malloc_allocs(size_t size, size_t count, size_t repeats);
double bench_bump_allocs(size_t size, size_t count, size_t repeats);
double bench_pointer_allocs(size_t size, size_t count, size_t repeats);
double bench_fixed_create_lazy(size_t size, size_t count, size_t repeats);
double bench_fixed_create_eager(size_t size, size_t count, size_t repeats);
double bench_clock_cost(size_t samples);
typedef enum bench_pool {
    BENCH_MALLOC = 1, BENCH_BUMP = 2, BENCH_FIXED = 3, BENCH_EMBEDDED = 4, BENCH_EMBEDDED_FIRST = 5
} bench_pool;
typedef struct bench_result {
    double ns_per_op; double mean_steps; size_t max_steps; size_t failures;
    double p50_ns; double p99_ns; double max_ns;
} bench_result;
int bench_replay(int pool, const char *kinds, const size_t *ids, const size_t *sizes,
                 size_t n_ops, size_t n_ids, size_t max_live, size_t param, size_t repeats,
                 bench_result *out);
size_t embedded_pool_last_steps(const embedded_pool *p);

typedef struct naive_bump { unsigned char *start; unsigned char *end; unsigned char *top; } naive_bump;
void naive_bump_init(naive_bump *b, void *memory, size_t size);
void *naive_bump_alloc(naive_bump *b, size_t size);
typedef struct naive_fixed {
    unsigned char *blocks; size_t stride; size_t count; void *free_head; size_t bytes;
} naive_fixed;
naive_fixed *naive_fixed_create(size_t block_size, size_t count, int fail_second);
void *naive_fixed_alloc(naive_fixed *p);
void naive_fixed_free(naive_fixed *p, void *block);
void naive_fixed_destroy(naive_fixed *p);
size_t naive_fixed_leaked(void);
void naive_fixed_forget_leaks(void);
#define NAIVE_EMB_SLOTS ...
typedef struct naive_embedded {
    unsigned char *memory; size_t size; size_t offset[16]; size_t length[16]; int last;
} naive_embedded;
void naive_embedded_init(naive_embedded *p, void *memory, size_t size);
int naive_embedded_alloc(naive_embedded *p, size_t size);
void naive_embedded_free(naive_embedded *p, int slot);
int naive_embedded_realloc(naive_embedded *p, int slot, size_t size);
"""

# The free-list allocator (lesson 05): its own block, so it merges cleanly with the others.
FREE_LIST_SOURCES = ["free_list_pool.c", "free_list_bench.c"]
FREE_LIST_HEADERS = ["free_list_pool.h", "free_list_bench.h"]
FREE_LIST_CDEF = """
typedef struct free_list_pool free_list_pool;
#define FL_ALIGN ...
#define FL_MIN_BLOCK ...
#define FL_CLASSES ...
#define FL_NO_SPLIT ...
#define FL_FOOTER_ALWAYS ...
typedef enum fl_lists { FL_IMPLICIT, FL_EXPLICIT, FL_ADDRESS, FL_SEGREGATED } fl_lists;
typedef enum fl_fit { FL_FIRST, FL_NEXT, FL_BEST, FL_WORST } fl_fit;
typedef enum fl_coalesce { FL_IMMEDIATE, FL_DEFERRED, FL_NEVER } fl_coalesce;
typedef struct fl_stats {
    size_t capacity, table_bytes, heap_bytes, used_blocks, used_bytes, free_blocks, free_bytes,
           largest_free, allocs, frees, reallocs, failed, splits, coalesces, extends,
           last_steps, max_steps, total_steps, ops;
} fl_stats;
int free_list_pool_create_in(free_list_pool **out, void *region, size_t size, int lists, int fit,
                             int coalesce, unsigned flags);
int free_list_pool_alloc(free_list_pool *p, size_t size, void **out);
int free_list_pool_free(free_list_pool *p, void *block);
int free_list_pool_realloc(free_list_pool *p, void *block, size_t size, void **out);
void free_list_pool_coalesce(free_list_pool *p);
void free_list_pool_stats(const free_list_pool *p, fl_stats *s);
unsigned char *free_list_pool_base(const free_list_pool *p);
size_t free_list_pool_block_size(const free_list_pool *p, size_t size);
size_t free_list_pool_lists(const free_list_pool *p);
size_t free_list_pool_list_head(const free_list_pool *p, size_t k);
void free_list_pool_walk(const free_list_pool *p, pool_walker fn, void *user);
const char *free_list_pool_check(const free_list_pool *p);
int free_list_bench_replay(const char *kinds, const size_t *ids, const size_t *sizes,
                           size_t n_ops, size_t n_ids, size_t capacity, int lists, int fit,
                           int coalesce, unsigned flags, size_t repeats, bench_result *out,
                           size_t *footprint);
int free_list_bench_libc_peak(const char *kinds, const size_t *ids, const size_t *sizes,
                              size_t n_ops, size_t n_ids, size_t *peak);
"""
SOURCES += FREE_LIST_SOURCES
CDEF += FREE_LIST_CDEF
# lessons 03/04's bug hunt: five classic flaws, deliberately broken (csrc/naive/bug_hunt.h)
SOURCES.append("naive/bug_hunt.c")
CDEF += """
size_t naive_array_bytes(size_t n, size_t size);
typedef struct naive_lazy {
    unsigned char *blocks; size_t stride; size_t count; size_t high_water;
} naive_lazy;
int naive_lazy_init(naive_lazy *p, size_t stride, size_t count);
void *naive_lazy_alloc(naive_lazy *p);
void naive_lazy_destroy(naive_lazy *p);
int naive_embedded_realloc_wrong(void *naive_embedded_pool, int slot, size_t size);
void naive_irq_disable(void);
void naive_irq_enable(void);
int naive_irq_enabled(void);
void fixed_irq_disable(void);
void fixed_irq_enable(void);
int fixed_irq_enabled(void);
"""

# lessons 02 and 05: what a pool really holds, for one definition of utilisation
CDEF += """
size_t bump_pool_bytes_held(const bump_pool *p);
size_t fixed_pool_bytes_held(const fixed_pool *p);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "mempools._native",
    """
    #include <stdlib.h>
    #include <string.h>
    #include "pool_common.h"
    #include "heap_probe.h"
    #include "bump_pool.h"
    #include "fixed_pool.h"
    #include "embedded_pool.h"
    #include "bench.h"
    #include "fault_injection.h"
    #include "naive/naive_pools.h"
    #include "naive/bug_hunt.h"
    """ + "".join(f'#include "{h}"\n' for h in FREE_LIST_HEADERS),
    # relative to setup.py, as setuptools wants for sdists and editable installs
    sources=[f"csrc/{name}" for name in SOURCES],
    include_dirs=[str(CSRC)],
    extra_compile_args=C_FLAGS,
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
