/* heap_probe.c - looks at glibc's chunk headers; portable fallbacks elsewhere. */
#include "heap_probe.h"
#include "pool_common.h"

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
