/* capstone_support.c - the heap the student's allocator grows, and the driver that replays a
 * trace on it with the malloc lab's checks after every operation. Each check process loads one
 * build of one cell and replays one trace at a time, so the state here is per process. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, with POSIX mmap, mprotect, sigaction, clock_gettime */
#include "capstone_support.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* The student's allocator (its declarations are the exercise's). */
int mm_init(void);
void *mm_malloc(size_t size);
void mm_free(void *ptr);
void *mm_realloc(void *ptr, size_t size);

/* The heap: MM_HEAP_MAX bytes reserved once, inaccessible; [heap, heap + heap_end) is the heap,
 * readable and writable (whole pages: the first `mapped` bytes). heap_peak is the most heap_end
 * has been since the last reset. */
static unsigned char *heap;
static size_t heap_end, heap_peak, mapped;

static size_t page_round(size_t n)
{
    size_t page = mem_pagesize();
    return (n + page - 1) / page * page;
}

/* A fresh, empty heap; 0 when the memory could not be reserved. */
static int heap_reset(void)
{
    if (!heap) {
        void *area = mmap(NULL, MM_HEAP_MAX, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (area == MAP_FAILED) return 0;
        heap = area;
    }
    memset(heap, 0, mapped); /* as fresh: no earlier replay's bytes can pass for a copy */
    if (mapped && mprotect(heap, mapped, PROT_NONE)) return 0;
    heap_end = heap_peak = mapped = 0;
    return 1;
}

void *mem_sbrk(intptr_t incr)
{
    if (!heap || incr < 0 || (size_t)incr > MM_HEAP_MAX - heap_end) return (void *)-1;
    size_t old = heap_end, want = page_round(heap_end + (size_t)incr);
    if (want > mapped) {
        if (mprotect(heap + mapped, want - mapped, PROT_READ | PROT_WRITE)) return (void *)-1;
        mapped = want;
    }
    heap_end += (size_t)incr;
    if (heap_end > heap_peak) heap_peak = heap_end;
    return heap + old;
}

void *mem_heap_lo(void)
{
    return heap;
}

void *mem_heap_hi(void)
{
    return (void *)((uintptr_t)heap + heap_end - 1);
}

size_t mem_heapsize(void)
{
    return heap_end;
}

size_t mem_pagesize(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Defaults for the optional functions; a cell that defines them replaces these. */
static int check_absent, walk_absent;

__attribute__((weak)) int mm_check(void)
{
    check_absent = 1;
    return 1;
}

__attribute__((weak)) void mm_walk(mm_walker fn, void *user)
{
    (void)fn;
    (void)user;
    walk_absent = 1;
}

/* The driver's model: for every trace id, the payload it holds (NULL when not live) and its
 * size. A live payload's byte k is always pattern(id, k). */
typedef struct live_block {
    unsigned char *payload;
    size_t size;
} live_block;
static live_block *live;
static size_t live_ids;

/* The pattern: a pseudo-random run of PERIOD bytes (stored twice, so any window of up to
 * PERIOD bytes is contiguous); id's payload byte k is byte (start(id) + k) % PERIOD of it, so
 * whole payloads are written with memcpy and checked with memcmp. */
#define PERIOD 4096
static unsigned char run[2 * PERIOD];

static size_t start(long id)
{
    return ((size_t)id * 977u + 13u) % PERIOD;
}

static unsigned char pattern(long id, size_t k)
{
    return run[(start(id) + k) % PERIOD];
}

static void run_init(void)
{
    static int done;
    if (done++) return;
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < PERIOD; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        run[i] = run[i + PERIOD] = (unsigned char)x;
    }
}

static void fill(long id, size_t from)
{
    for (size_t k = from; k < live[id].size;) {
        size_t n = live[id].size - k < PERIOD ? live[id].size - k : PERIOD;
        memcpy(live[id].payload + k, run + (start(id) + k) % PERIOD, n);
        k += n;
    }
}

/* The first byte of id's payload before `upto` that lost its pattern, or upto when none. */
static size_t first_garbled(long id, size_t upto)
{
    for (size_t k = 0; k < upto;) {
        size_t n = upto - k < PERIOD ? upto - k : PERIOD;
        if (memcmp(live[id].payload + k, run + (start(id) + k) % PERIOD, n)) {
            while (live[id].payload[k] == pattern(id, k)) k++;
            return k;
        }
        k += n;
    }
    return upto;
}

/* -- reporting a violation and the op a fatal signal interrupts -------------------------- */
static cap_verdict *verdict;
static const cap_op *current;
static size_t current_index, current_total;

static const char *phase; /* what runs outside the ops: mm_init, the edge calls */

static int fail(int problem, long id, long other, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int problem, long id, long other, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(verdict->message, sizeof verdict->message, fmt, args);
    va_end(args);
    verdict->problem = problem;
    verdict->op = current_index;
    verdict->id = id;
    verdict->other = other;
    if (id >= 0 && (size_t)id < live_ids && live[id].payload) {
        verdict->offset = (size_t)(live[id].payload - heap);
        verdict->size = live[id].size;
    }
    return problem;
}

/* Digits of v at the end of buf[0 .. n); returns where they start (no library call). */
static char *digits(char *end, size_t v)
{
    *--end = '\0';
    do *--end = (char)('0' + v % 10); while (v /= 10);
    return end;
}

/* A fatal signal in an op: say which op on stderr in one write() (no library call that is
 * unsafe in a signal handler), then die of the same signal. The checker decides the verdict
 * from how the process ended; this line only names the op (CAP_DURING, read by the parent). */
static void on_fatal(int sig)
{
    char text[200], number[3][24];
    size_t n = 0;
    const char *call = current->kind == 'a' ? "mm_malloc" : current->kind == 'f' ? "mm_free"
                       : "mm_realloc";
    const char *op[] = {CAP_DURING, "op ", digits(number[0] + 24, current_index + 1), " of ",
                        digits(number[1] + 24, current_total), ": ", call, " for id ",
                        digits(number[2] + 24, (size_t)current->id), "\n"};
    const char *before[] = {CAP_DURING, phase, " (before op ", op[2], " of ", op[4], ")\n"};
    const char **parts = phase ? before : op;
    size_t count = phase ? sizeof before / sizeof *before : sizeof op / sizeof *op;
    for (size_t i = 0; i < count; i++)
        for (const char *c = parts[i]; *c && n < sizeof text - 1; c++) text[n++] = *c;
    if (write(STDERR_FILENO, text, n) < 0) text[0] = '\0';
    signal(sig, SIG_DFL);
    raise(sig);
}

static const int FATAL[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU};
static struct sigaction saved[sizeof FATAL / sizeof *FATAL];

static void fatal_handlers(int install)
{
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_fatal;
    sigemptyset(&act.sa_mask);
    for (size_t i = 0; i < sizeof FATAL / sizeof *FATAL; i++)
        sigaction(FATAL[i], install ? &act : &saved[i], install ? &saved[i] : NULL);
}

/* -- the checks after each op --------------------------------------------------------------- */
static size_t live_bytes;

/* A payload the allocator just returned for id: aligned, inside the heap, apart from every
 * other live payload. */
static int placed(long id, const unsigned char *p, size_t size, const char *call)
{
    uintptr_t at = (uintptr_t)p, lo = (uintptr_t)heap;
    size_t off = (size_t)(at - lo);
    if (at % MM_ALIGNMENT)
        return fail(CAP_MISALIGNED, id, -1, "%s for id %ld returned offset %zu, which is not "
                    "%d-byte aligned (offset %% 16 = %zu)", call, id, off, MM_ALIGNMENT,
                    (size_t)(at % MM_ALIGNMENT));
    if (at < lo || at > lo + heap_end || size > lo + heap_end - at)
        return fail(CAP_OUTSIDE, id, -1, "%s for id %ld returned a %zu-byte block that is not "
                    "inside the heap [mem_heap_lo, mem_heap_lo + %zu): every block must come "
                    "from memory mem_sbrk gave you", call, id, size, heap_end);
    for (size_t other = 0; other < live_ids; other++) {
        const live_block *b = &live[other];
        if ((long)other == id || !b->payload) continue;
        if (p < b->payload + b->size && b->payload < p + size)
            return fail(CAP_OVERLAP, id, (long)other, "%s for id %ld returned [%zu, %zu), "
                        "which overlaps the live payload of id %zu at [%zu, %zu)", call, id,
                        off, off + size, other, (size_t)(b->payload - heap),
                        (size_t)(b->payload - heap) + b->size);
    }
    return CAP_OK;
}

static int intact(void)
{
    for (size_t id = 0; id < live_ids; id++) {
        if (!live[id].payload) continue;
        size_t k = first_garbled((long)id, live[id].size);
        if (k < live[id].size)
            return fail(CAP_GARBLED, (long)id, -1, "the payload of id %zu (%zu bytes at offset "
                        "%zu) changed while it was allocated: byte %zu is 0x%02x, the driver "
                        "wrote 0x%02x", id, live[id].size, (size_t)(live[id].payload - heap),
                        k, live[id].payload[k], pattern((long)id, k));
    }
    return CAP_OK;
}

static int do_malloc(const cap_op *op)
{
    unsigned char *p = mm_malloc(op->size);
    if (!p)
        return fail(CAP_NULL, op->id, -1, "mm_malloc(%zu) for id %ld returned NULL with %zu "
                    "bytes live and a %zu-byte heap (the heap may grow to %zu)", op->size,
                    op->id, live_bytes, heap_end, MM_HEAP_MAX);
    live[op->id].payload = p;
    live[op->id].size = op->size;
    live_bytes += op->size;
    int bad = placed(op->id, p, op->size, "mm_malloc");
    if (!bad) fill(op->id, 0);
    return bad;
}

static int do_realloc(const cap_op *op)
{
    live_block old = live[op->id];
    unsigned char *p = mm_realloc(old.payload, op->size);
    live[op->id].payload = NULL;
    live_bytes -= old.size;
    if (!p)
        return fail(CAP_NULL, op->id, -1, "mm_realloc(id %ld, %zu) returned NULL with %zu "
                    "bytes live and a %zu-byte heap", op->id, op->size, live_bytes, heap_end);
    live[op->id].payload = p;
    live[op->id].size = op->size;
    live_bytes += op->size;
    int bad = placed(op->id, p, op->size, "mm_realloc");
    if (bad) return bad;
    size_t keep = old.size < op->size ? old.size : op->size;
    size_t k = first_garbled(op->id, keep);
    if (k < keep)
        return fail(CAP_REALLOC_DATA, op->id, -1, "mm_realloc(id %ld, %zu) moved it from offset "
                    "%zu to %zu but did not keep its data: byte %zu of the first %zu is 0x%02x, "
                    "it was 0x%02x", op->id, op->size, (size_t)(old.payload - heap),
                    (size_t)(p - heap), k, keep, p[k], pattern(op->id, k));
    fill(op->id, keep);
    return CAP_OK;
}

/* mm_malloc(0) returns NULL or a block that can be freed; mm_free(NULL) does nothing. */
static int edge_calls(void)
{
    phase = "mm_free(NULL) or mm_malloc(0)";
    mm_free(NULL);
    unsigned char *p = mm_malloc(0);
    uintptr_t at = (uintptr_t)p, lo = (uintptr_t)heap;
    if (p && (at % MM_ALIGNMENT || at < lo || at > lo + heap_end))
        return fail(CAP_MALLOC0, -1, -1, "mm_malloc(0) returned a pointer that is neither NULL "
                    "nor an aligned block in the heap");
    if (p) mm_free(p);
    phase = NULL;
    return CAP_OK;
}

static int run_op(const cap_op *op)
{
    if (op->kind == 'f' && op->id == -1) { /* the trace's `f -1`: free(NULL) */
        mm_free(NULL);
        return CAP_OK;
    }
    live_block *b = &live[op->id];
    if (op->kind == 'a')
        return b->payload ? fail(CAP_BAD_TRACE, op->id, -1, "the trace allocates id %ld twice",
                                 op->id) : do_malloc(op);
    if (op->kind == 'f') {
        if (b->payload) {
            mm_free(b->payload);
            live_bytes -= b->size;
            b->payload = NULL;
        }
        return CAP_OK;
    }
    if (!b->payload) return op->size ? do_malloc(op) : CAP_OK; /* realloc(NULL, n) */
    if (op->size) return do_realloc(op);
    mm_free(b->payload); /* the trace's `r id 0` frees (the handout's realloc(p, 0)) */
    live_bytes -= b->size;
    b->payload = NULL;
    return CAP_OK;
}

static int replay_ops(const cap_op *ops, size_t n, cap_verdict *v)
{
    current_total = n;
    current_index = 0;
    current = ops;
    phase = "mm_init()";
    int status = mm_init();
    if (status < 0)
        return fail(CAP_INIT, -1, -1, "mm_init() returned %d: it could not set up the heap",
                    status);
    phase = "mm_check()";
    check_absent = 0;
    mm_check();
    v->has_check = !check_absent;
    phase = NULL;
    if (edge_calls()) return v->problem;
    for (size_t i = 0; i < n; i++) {
        current_index = i;
        current = &ops[i];
        if (ops[i].id < (ops[i].kind == 'f' ? -1 : 0) || ops[i].id >= (long)live_ids)
            return fail(CAP_BAD_TRACE, ops[i].id, -1, "id %ld is out of range", ops[i].id);
        if (run_op(&ops[i]) || intact()) return v->problem;
        if (i == n / 2 && edge_calls()) return v->problem;
        if (v->has_check && !mm_check())
            return fail(CAP_CHECK, ops[i].id, -1, "your mm_check() returned 0 (inconsistent "
                        "heap) after this op");
        if (live_bytes > v->peak_live) v->peak_live = live_bytes;
        v->peak_heap = heap_peak;
    }
    current_index = n;
    return CAP_OK;
}

int cap_replay(const cap_op *ops, size_t n, size_t ids, int report, cap_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->id = v->other = -1;
    verdict = v;
    free(live);
    live_bytes = 0;
    live_ids = ids;
    live = calloc(ids ? ids : 1, sizeof *live);
    run_init();
    if (!live || !heap_reset()) {
        snprintf(v->message, sizeof v->message, "the driver could not reserve its memory");
        return v->problem = CAP_BAD_TRACE;
    }
    if (report) fatal_handlers(1);
    int problem = replay_ops(ops, n, v);
    if (report) fatal_handlers(0);
    v->peak_heap = heap_peak;
    return problem;
}

size_t cap_live(cap_span *out, size_t max)
{
    size_t count = 0;
    for (size_t id = 0; id < live_ids; id++) {
        if (!live[id].payload) continue;
        if (count < max) {
            size_t at = count; /* insertion sort by offset: few blocks, called once */
            while (at > 0 && out[at - 1].offset > (size_t)(live[id].payload - heap)) {
                out[at] = out[at - 1];
                at--;
            }
            out[at].offset = (size_t)(live[id].payload - heap);
            out[at].size = live[id].size;
            out[at].id = (long)id;
        }
        count++;
    }
    return count;
}

typedef struct walk_sink {
    cap_block *out;
    size_t max, count;
} walk_sink;

static void walk_collect(size_t offset, size_t size, int allocated, void *user)
{
    walk_sink *sink = user;
    if (sink->count < sink->max) {
        sink->out[sink->count].offset = offset;
        sink->out[sink->count].size = size;
        sink->out[sink->count].allocated = allocated != 0;
    }
    sink->count++;
}

size_t cap_walk(cap_block *out, size_t max)
{
    walk_sink sink = {out, max, 0};
    walk_absent = 0;
    mm_walk(walk_collect, &sink);
    return walk_absent ? (size_t)-1 : sink.count;
}

/* -- throughput (never graded) -------------------------------------------------------------- */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int time_round(const cap_op *ops, size_t n, void **at, int libc)
{
    for (size_t i = 0; i < n; i++) {
        if (ops[i].id < 0) continue; /* free(NULL) */
        void **p = &at[ops[i].id];
        if (ops[i].kind == 'a' || (ops[i].kind == 'r' && !*p)) {
            if (!ops[i].size) continue;
            *p = libc ? malloc(ops[i].size) : mm_malloc(ops[i].size);
            if (!*p) return 0;
        } else if (ops[i].kind == 'f' || !ops[i].size) {
            if (libc) free(*p); else mm_free(*p);
            *p = NULL;
        } else {
            void *moved = libc ? realloc(*p, ops[i].size) : mm_realloc(*p, ops[i].size);
            if (!moved) return 0;
            *p = moved;
        }
    }
    return 1;
}

double cap_throughput(const cap_op *ops, size_t n, size_t ids, double seconds, int libc)
{
    void **at = calloc(ids ? ids : 1, sizeof *at);
    double spent = 0;
    size_t done = 0;
    int ok = at != NULL;
    while (ok && (spent < seconds || !done)) {
        memset(at, 0, (ids ? ids : 1) * sizeof *at);
        if (!libc && (!heap_reset() || mm_init() < 0)) ok = 0;
        double begin = now();
        ok = ok && time_round(ops, n, at, libc);
        spent += now() - begin;
        done += n;
        for (size_t id = 0; libc && id < ids; id++) free(at[id]);
    }
    free(at);
    return ok && spent > 0 ? (double)done / spent : -1.0;
}
