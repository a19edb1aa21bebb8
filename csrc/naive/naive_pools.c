/* naive_pools.c - the bugs the lessons demonstrate. DO NOT COPY: see the real pools. */
#include "naive_pools.h"

#include <stdlib.h>
#include <string.h>

void naive_bump_init(naive_bump *b, void *memory, size_t size)
{
    b->start = memory;
    b->end = b->start + size - 1; /* BUG: off by one, the "last byte" instead of one past it */
    b->top = b->start;
}

void *naive_bump_alloc(naive_bump *b, size_t size)
{
    if (size > (size_t)(b->end - b->top)) return NULL; /* uses end as one-past-the-end */
    void *p = b->top;
    b->top += size;
    return p;
}

/* The header leaked by naive_fixed_create; kept only so the lesson can count and release it. */
static void *naive_leaked_header;
static size_t naive_leaked_bytes;

naive_fixed *naive_fixed_create(size_t block_size, size_t count, int fail_second)
{
    naive_fixed *p = malloc(sizeof *p);
    if (!p) return NULL;
    p->stride = block_size;
    p->count = count;
    p->bytes = block_size * count; /* BUG: may wrap around to a tiny number */
    p->blocks = fail_second ? NULL : malloc(p->bytes);
    if (!p->blocks) {
        naive_leaked_header = p; /* BUG: returns without free(p) - the header leaks */
        naive_leaked_bytes += sizeof *p;
        return NULL;
    }
    p->free_head = NULL;
    for (size_t i = count; i-- > 0;) { /* eager init: a pointer stored in every block */
        unsigned char *b = p->blocks + i * p->stride;
        memcpy(b, &p->free_head, sizeof p->free_head);
        p->free_head = b;
    }
    return p;
}

void *naive_fixed_alloc(naive_fixed *p)
{
    unsigned char *b = p->free_head;
    if (!b) return NULL;
    /* BUG: reads a pointer at a possibly misaligned address (UB; UBSan reports it) */
    p->free_head = *(void **)b;
    return b;
}

void naive_fixed_free(naive_fixed *p, void *block)
{
    *(void **)block = p->free_head; /* BUG: no double-free check, misaligned store */
    p->free_head = block;
}

void naive_fixed_destroy(naive_fixed *p)
{
    if (!p) return;
    free(p->blocks);
    free(p);
}

size_t naive_fixed_leaked(void)
{
    return naive_leaked_bytes;
}

void naive_fixed_forget_leaks(void)
{
    free(naive_leaked_header);
    naive_leaked_header = NULL;
    naive_leaked_bytes = 0;
}

void naive_embedded_init(naive_embedded *p, void *memory, size_t size)
{
    p->memory = memory;
    p->size = size;
    for (int i = 0; i < NAIVE_EMB_SLOTS; i++) p->offset[i] = p->length[i] = 0;
    p->last = -1;
}

int naive_embedded_alloc(naive_embedded *p, size_t size)
{
    int slot = -1;
    for (int i = 0; i < NAIVE_EMB_SLOTS && slot < 0; i++)
        if (p->length[i] == 0) slot = i;
    if (slot < 0) return -1;
    /* BUG: the new block goes right after the previous slot's block, whatever lies there */
    size_t at = slot > 0 ? p->offset[slot - 1] + p->length[slot - 1] : 0;
    if (at + size > p->size) return -1;
    p->offset[slot] = at;
    p->length[slot] = size;
    p->last = slot;
    return slot;
}

void naive_embedded_free(naive_embedded *p, int slot)
{
    p->length[slot] = 0;
}

int naive_embedded_realloc(naive_embedded *p, int slot, size_t size)
{
    size_t end = 0, grow = size > p->length[slot] ? size - p->length[slot] : 0;
    for (int i = 0; i < NAIVE_EMB_SLOTS; i++)
        if (p->length[i] && p->offset[i] + p->length[i] > end) end = p->offset[i] + p->length[i];
    /* BUG: it can only shift the blocks after this one toward the end; free space before the
     * block is never used, so growing the last block fails when the tail is short */
    if (end + grow > p->size) return -1;
    for (int i = 0; i < NAIVE_EMB_SLOTS; i++)
        if (p->length[i] && p->offset[i] > p->offset[slot]) {
            memmove(p->memory + p->offset[i] + grow, p->memory + p->offset[i], p->length[i]);
            p->offset[i] += grow;
        }
    p->length[slot] = size;
    return 0;
}
