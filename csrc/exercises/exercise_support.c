/* exercise_support.c - the counting malloc and the not-implemented flag for exercise cells.
 * Each exercise runs in its own child process, so these process-wide counters are per run. */
#include "exercise_support.h"

#include <stdio.h>
#include <stdlib.h>

static long tracked_count;
static size_t requested_total;
static int not_implemented;

void *tracked_malloc(size_t size)
{
    void *block = malloc(size);
    if (block) tracked_count++;
    return block;
}

void tracked_free(void *block)
{
    if (block) tracked_count--;
    free(block);
}

long tracked_live(void)
{
    return tracked_count;
}

void tracked_reset(void)
{
    tracked_count = 0;
}

void *ex_malloc_counted(size_t size)
{
    void *block = malloc(size);
    if (block || size == 0) {
        requested_total += size;
        return block;
    }
    printf("{\"event\": \"malloc-failed\", \"size\": %zu, \"total\": %zu}\n", size,
           requested_total);
    fflush(stdout);
    return NULL;
}

void mp_not_implemented(void)
{
    not_implemented = 1;
}

int mp_was_not_implemented(void)
{
    return not_implemented;
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
