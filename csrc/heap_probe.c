/* heap_probe.c - looks at glibc's chunk headers; portable fallbacks elsewhere. */
#include "heap_probe.h"
#include "pool_common.h"

#include <stdlib.h>
#include <string.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

size_t heap_guaranteed_alignment(void)
{
    return _Alignof(max_align_t);
}

int heap_is_glibc(void)
{
#if defined(__GLIBC__)
    return 1;
#else
    return 0;
#endif
}

size_t heap_usable_size(void *block)
{
#if defined(__GLIBC__)
    return block ? malloc_usable_size(block) : 0;
#else
    (void)block;
    return 0;
#endif
}

size_t heap_chunk_size_field(const void *block)
{
#if defined(__GLIBC__)
    /* glibc: the word right before the payload is the chunk's size with 3 flag bits in its
     * low bits; memcpy because that word is not an object of ours to dereference. */
    size_t word = 0;
    if (block) memcpy(&word, (const unsigned char *)block - sizeof word, sizeof word);
    return word;
#else
    (void)block;
    return 0;
#endif
}

size_t heap_product_unchecked(size_t n, size_t size)
{
    return n * size;
}

int heap_product_checked(size_t n, size_t size, size_t *out)
{
    return size_mul(n, size, out);
}

void heap_ints_fill(int *block, size_t n)
{
    for (size_t i = 0; i < n; i++) block[i] = (int)(i * i);
}

long long heap_ints_sum(const int *block, size_t n)
{
    long long sum = 0;
    for (size_t i = 0; i < n; i++) sum += block[i];
    return sum;
}

/* Why the warm-up block. glibc serves a small request from the thread's tcache when the bin
 * for that size holds a block; otherwise from a small bin or the unsorted bin, and then it
 * also moves further free blocks of that size into the tcache ("stashing"), up to its limit of
 * 7. A free goes into the tcache only while it has room. So when the tcache of the size was
 * empty and a small bin held 8 or more free blocks of it (as in a process that has freed many,
 * like a test runner), `first` came from the small bin, the stash filled the tcache, free(first)
 * found no room and went to the unsorted bin, and the next malloc returned a stashed block:
 * not the same one. Freeing one block of the size beforehand leaves the tcache non-empty (if
 * it was full, it stays full), so `first` comes from the tcache, which then has room for it. */
static int tcache_warm(size_t size)
{
    unsigned char *warm = malloc(size);
    if (!warm) return POOL_ENOMEM;
    *(volatile unsigned char *)warm = 0; /* a store the optimiser must keep, with its malloc */
    free(warm);
    return POOL_OK;
}

int heap_reuse_experiment(size_t size, unsigned char *after, int *same)
{
    if (size == 0 || !after || !same) return POOL_EINVAL;
    if (tcache_warm(size) != POOL_OK) return POOL_ENOMEM;
    unsigned char *first = malloc(size);
    if (!first) return POOL_ENOMEM;
    /* volatile: a memset right before free is a dead store the optimiser may delete */
    for (size_t i = 0; i < size; i++) ((volatile unsigned char *)first)[i] = 0xAB;
    uintptr_t first_address = (uintptr_t)first;
    free(first);
    unsigned char *second = malloc(size);
    if (!second) return POOL_ENOMEM;
    memcpy(after, second, size); /* reading it is the lesson: never do this in a program */
    *same = (uintptr_t)second == first_address;
    free(second);
    return POOL_OK;
}

/* Two blocks are back to back when the second starts one small stride after the first. */
static int block_follows(const void *prev, const void *next, size_t size)
{
    uintptr_t a = (uintptr_t)prev, b = (uintptr_t)next;
    return b > a && b - a <= size + 4 * sizeof(size_t) + POOL_MAX_ALIGN;
}

int heap_checkerboard(size_t n, size_t size, void **blocks)
{
    if (n == 0 || size == 0 || !blocks || n > HEAP_CHECKERBOARD_TRIES) return POOL_EINVAL;
    void **tried = malloc(HEAP_CHECKERBOARD_TRIES * sizeof *tried);
    if (!tried) return POOL_ENOMEM;
    /* keep allocating until the last n lie back to back: the first ones fill whatever holes
     * the process already had */
    size_t count = 0, run = 0;
    while (run < n && count < HEAP_CHECKERBOARD_TRIES) {
        void *b = malloc(size);
        if (!b) break;
        run = count && block_follows(tried[count - 1], b, size) ? run + 1 : 1;
        tried[count++] = b;
    }
    int err = run == n ? POOL_OK : POOL_ENOMEM;
    size_t first = err == POOL_OK ? count - n : count;
    for (size_t i = 0; i < first; i++) free(tried[i]);
    for (size_t i = 0; i < n && err == POOL_OK; i++) {
        blocks[i] = tried[first + i];
        if (i % 2) free(blocks[i]);
        else memset(blocks[i], 'A' + (int)(i / 2 % 26), size); /* the data a program keeps */
    }
    free(tried);
    return err;
}
