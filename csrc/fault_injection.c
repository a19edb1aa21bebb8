/* fault_injection.c - a malloc wrapper that fails on purpose and keeps count. */
#include "fault_injection.h"

#include <stdlib.h>

static void *fault_alloc(size_t size, void *ctx)
{
    fault_allocator *f = ctx;
    if (++f->calls == f->fail_at) return NULL;
    void *block = malloc(size);
    if (block) f->outstanding++;
    return block;
}

static void fault_release(void *block, void *ctx)
{
    fault_allocator *f = ctx;
    if (block) f->outstanding--;
    free(block);
}

void fault_allocator_init(fault_allocator *f, int fail_at)
{
    f->calls = 0;
    f->fail_at = fail_at;
    f->outstanding = 0;
    f->allocator = (pool_allocator){fault_alloc, fault_release, f};
}
