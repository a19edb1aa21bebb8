/* exercise_support.c - the tracked allocator and the reference pools for exercise cells.
 * Each check process loads one build of one cell, so these process-wide tables are per run. */
#define _POSIX_C_SOURCE 200809L /* open(), write() */
#include "exercise_support.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The live blocks: pointer and requested size of each, unordered; `live` entries are used.
 * Every block ex_malloc handed out and nobody freed is in here exactly once. */
typedef struct tracked_block {
    void *block;  /* what malloc returned */
    size_t size;  /* what the cell asked for */
} tracked_block;
static tracked_block *table;
static size_t live, room;
static size_t live_bytes; /* sum of the live blocks' sizes: at most EX_MEMORY_BUDGET */
static long foreign_frees;
static size_t requested_total;
static int report_failures; /* set by ex_checker_start */

/* One line on the ledger: 'A block size' (handed out), 'F block' (freed), 'X block' (a free of
 * a pointer never handed out). A ledger that cannot be written ends the process: a check must
 * never count from a ledger that misses a block. */
static void ledger(char what, const void *block, size_t size)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%c %jx %zu\n", what, (uintmax_t)(uintptr_t)block, size);
    int fd = open(EX_LEDGER, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || n <= 0 || (size_t)n >= sizeof line || write(fd, line, (size_t)n) != n) abort();
    close(fd);
}

static long table_find(const void *block)
{
    for (size_t i = live; i-- > 0;)
        if (table[i].block == block) return (long)i;
    return -1;
}

static int table_add(void *block, size_t size)
{
    if (live == room) {
        size_t bigger = room ? room * 2 : 64;
        tracked_block *grown = realloc(table, bigger * sizeof *table);
        if (!grown) return 0;
        table = grown;
        room = bigger;
    }
    table[live].block = block;
    table[live].size = size;
    live++;
    return 1;
}

static void report_failure(size_t size)
{
    char line[160];
    int n = snprintf(line, sizeof line, EX_MALLOC_FAILED " for %zu bytes after %zu bytes\n",
                     size, requested_total);
    if (report_failures && n > 0 && (size_t)n < sizeof line && write(2, line, (size_t)n) < 0)
        report_failures = 0;
}

static int over_budget(size_t size)
{
    return size > EX_MEMORY_BUDGET - live_bytes;
}

static void *tracked(void *block, size_t size)
{
    if (!block) {
        if (size) report_failure(size);
        return NULL;
    }
    if (!table_add(block, size)) {
        free(block);
        report_failure(size);
        return NULL;
    }
    requested_total += size;
    live_bytes += size;
    ledger('A', block, size);
    return block;
}

void *ex_malloc(size_t size)
{
    if (over_budget(size)) return tracked(NULL, size);
    return tracked(malloc(size ? size : 1), size);
}

void *ex_calloc(size_t n, size_t size)
{
    if (n && size > SIZE_MAX / n) return NULL;
    size_t bytes = n * size;
    if (over_budget(bytes)) return tracked(NULL, bytes);
    return tracked(bytes ? calloc(n, size) : calloc(1, 1), bytes);
}

void *ex_realloc(void *block, size_t size)
{
    if (!block) return ex_malloc(size);
    long i = table_find(block);
    if (i < 0) {
        foreign_frees++;
        ledger('X', block, 0);
        return NULL;
    }
    void *moved = size > table[i].size && over_budget(size - table[i].size)
                  ? NULL : realloc(block, size ? size : 1);
    if (!moved) {
        report_failure(size);
        return NULL;
    }
    live_bytes = live_bytes - table[i].size + size;
    ledger('F', block, 0);
    ledger('A', moved, size);
    table[i].block = moved;
    table[i].size = size;
    return moved;
}

void ex_free(void *block)
{
    if (!block) return;
    long i = table_find(block);
    if (i < 0) {
        foreign_frees++;
        ledger('X', block, 0);
        return;
    }
    ledger('F', block, 0);
    live_bytes -= table[i].size;
    table[i] = table[--live];
    free(block);
}

size_t ex_block_size(const void *block)
{
    long i = table_find(block);
    return i < 0 ? 0 : table[i].size;
}

long ex_foreign_frees(void)
{
    return foreign_frees;
}

void *tracked_malloc(size_t size)
{
    return ex_malloc(size);
}

void tracked_free(void *block)
{
    ex_free(block);
}

long tracked_live(void)
{
    return (long)live;
}

void ex_checker_start(void)
{
    report_failures = 1;
    setvbuf(stdout, NULL, _IONBF, 0); /* a crash must not lose what the cell printed */
}

void mp_not_implemented(void)
{
}

void *ex_ref_bump_alloc(ex_bump *b, size_t size)
{
    size_t start = (b->offset + 7) & ~(size_t)7;
    if (start > b->capacity || size > b->capacity - start) return NULL;
    b->offset = start + size;
    return b->base + start;
}

void *ex_ref_fixed_alloc(ex_fixed *p)
{
    unsigned char *block;
    if (p->free_head) {
        block = (unsigned char *)p->free_head;
        p->free_head = p->free_head->next;
    } else if (p->high_water < p->count) {
        block = p->blocks + p->high_water++ * p->stride;
    } else {
        return NULL;
    }
    p->in_use[(size_t)(block - p->blocks) / p->stride] = 1;
    return block;
}

void ex_list_push(ex_heap *h, ex_fblock *b)
{
    b->prev = NULL;
    b->next = h->free_head;
    if (h->free_head) h->free_head->prev = b;
    h->free_head = b;
}
