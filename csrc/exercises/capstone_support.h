/* capstone_support.h - what the capstone's allocator (mm_init, mm_malloc, mm_free, mm_realloc,
 * written by the student) may use, and the driver that replays traces on it with the malloc
 * lab's checks after every operation. The heap is one reserved region grown by mem_sbrk: the
 * only memory the student's allocator may hand out. */
#ifndef CAPSTONE_SUPPORT_H
#define CAPSTONE_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* The heap: mem_sbrk grows it by incr bytes and returns its old end, or (void *)-1 when incr is
 * negative or the heap would pass MM_HEAP_MAX. Bytes past the end fault (page granularity). */
#define MM_HEAP_MAX ((size_t)20 << 20)
#define MM_ALIGNMENT 16
void *mem_sbrk(intptr_t incr);
void *mem_heap_lo(void);    /* first byte of the heap */
void *mem_heap_hi(void);    /* last byte of the heap (mem_heap_lo() - 1 while it is empty) */
size_t mem_heapsize(void);  /* bytes the heap has now */
size_t mem_pagesize(void);

/* Optional, written by the student: mm_check returns nonzero while the heap is consistent;
 * mm_walk calls fn once per block, in address order, with the block's offset from
 * mem_heap_lo(), its size (header included) and whether it is allocated. */
typedef void (*mm_walker)(size_t offset, size_t size, int allocated, void *user);
int mm_check(void);
void mm_walk(mm_walker fn, void *user);

/* The driver (called by the harness, not by the student's allocator). */
typedef struct cap_op {
    char kind;   /* 'a' malloc, 'r' realloc, 'f' free */
    long id;     /* the trace's block id (0 .. ids - 1) */
    size_t size; /* bytes for 'a' and 'r' */
} cap_op;

/* What a replay found. problem is 0 when every op passed; else the kind of the first violation
 * (CAP_* below), at op index `op` (ops run before it: op), with a message and the spans. */
enum {
    CAP_OK = 0, CAP_INIT, CAP_NULL, CAP_MISALIGNED, CAP_OUTSIDE, CAP_OVERLAP, CAP_GARBLED,
    CAP_REALLOC_DATA, CAP_MALLOC0, CAP_CHECK, CAP_BAD_TRACE
};
typedef struct cap_verdict {
    int problem;             /* CAP_OK or the first violation */
    size_t op;               /* index of the op it happened in (ops when after the last) */
    long id, other;          /* the block at fault, and the live block it collided with (-1) */
    size_t offset, size;     /* the faulty block's payload (offset from mem_heap_lo) */
    char message[240];       /* what went wrong, in words */
    size_t peak_live;        /* most payload bytes live at once */
    size_t peak_heap;        /* most heap bytes mem_sbrk had handed out */
    int has_check;           /* the student wrote mm_check (it was called after every op) */
} cap_verdict;

/* Replay ops[0 .. n) on the student's allocator from a fresh heap (the heap reset, mm_init):
 * after every op check alignment, bounds, overlap, every live payload's pattern and mm_check;
 * also mm_free(NULL) and mm_malloc(0) at the start and half-way. Every op's id is below ids.
 * With `report`, a fatal signal (a crash, the CPU limit) during an op first writes a line
 * CAP_DURING "op N of M: ..." on stderr, so the report names the op. Returns v->problem. */
#define CAP_DURING "mempools: the allocator died during "
int cap_replay(const cap_op *ops, size_t n, size_t ids, int report, cap_verdict *v);

/* The live payloads after a replay (offset from mem_heap_lo, size, id), in address order, up to
 * max of them; returns how many there are. */
typedef struct cap_span {
    size_t offset, size;
    long id;
} cap_span;
size_t cap_live(cap_span *out, size_t max);

/* What the student's mm_walk reports now, up to max blocks; returns how many it reported, or
 * (size_t)-1 when there is no mm_walk. */
typedef struct cap_block {
    size_t offset, size;
    int allocated;
} cap_block;
size_t cap_walk(cap_block *out, size_t max);

/* Operations per second replaying ops (no checks) again and again for at least `seconds` of
 * wall-clock time, on the student's allocator or, when libc is nonzero, on libc's malloc;
 * negative when an allocator returned NULL. For information: grades never use it. */
double cap_throughput(const cap_op *ops, size_t n, size_t ids, double seconds, int libc);

#endif
