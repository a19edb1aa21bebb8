/* bug_hunt.c - five classic flaws, each marked BUG with its fix in the comment. DO NOT COPY. */
#include "bug_hunt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "naive_pools.h"

size_t naive_array_bytes(size_t n, size_t size)
{
    if (n == 0) return 0;
    if (SIZE_MAX / n > size) return 0; /* BUG: backwards. Fix: if (size > SIZE_MAX / n) fail */
    return n * size;
}

int naive_lazy_init(naive_lazy *p, size_t stride, size_t count)
{
    p->blocks = malloc(stride * count); /* the overflow is bug 1's; keep this one about bug 2 */
    p->stride = stride;
    p->count = count;
    p->high_water = 0;
    return p->blocks ? 0 : -1;
}

void *naive_lazy_alloc(naive_lazy *p)
{
    /* BUG: a count of blocks compared with a size in bytes. Fix: high_water < p->count */
    if (p->high_water < p->count * p->stride) return p->blocks + p->stride * p->high_water++;
    return NULL;
}

void naive_lazy_destroy(naive_lazy *p)
{
    free(p->blocks);
    p->blocks = NULL;
}

size_t naive_lazy_used_bytes(const naive_lazy *p)
{
    size_t used = p->high_water * p->stride; /* BUG: p is read before the check below */
    if (p == NULL) return 0;                 /* Fix: test p first, then read through it */
    return used;
}

int naive_embedded_realloc_wrong(void *naive_embedded_pool, int slot, size_t size)
{
    naive_embedded *p = naive_embedded_pool;
    (void)slot;        /* BUG: the slot asked for is ignored... */
    int target = p->last; /* ...and the block allocated last is resized. Fix: target = slot */
    if (target < 0 || size < p->length[target]) return -1;
    for (int i = 0; i < NAIVE_EMB_SLOTS; i++)
        if (p->length[i] && p->offset[i] > p->offset[target]) {
            /* BUG: shifts by the new size, not by the growth (size - old length) */
            if (p->offset[i] + size + p->length[i] > p->size) return -1;
            memmove(p->memory + p->offset[i] + size, p->memory + p->offset[i], p->length[i]);
            p->offset[i] += size;
        }
    p->length[target] = size;
    return 0;
}

static int naive_irq_on = 1; /* BUG: one flag for any depth of nesting */

void naive_irq_disable(void)
{
    naive_irq_on = 0;
}

void naive_irq_enable(void)
{
    naive_irq_on = 1; /* BUG: an inner section's exit turns interrupts on inside the outer one */
}

int naive_irq_enabled(void)
{
    return naive_irq_on;
}

static unsigned irq_depth; /* the fix: how many sections are open; on only at depth 0 */

void fixed_irq_disable(void)
{
    irq_depth++;
}

void fixed_irq_enable(void)
{
    if (irq_depth > 0) irq_depth--;
}

int fixed_irq_enabled(void)
{
    return irq_depth == 0;
}
