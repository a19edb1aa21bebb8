/* A starter that works: an implicit list (every block has an 8-byte header, size | allocated;
 * the next block is size bytes on), first fit, and no splitting or coalescing, so freed space
 * is reused only by requests that fit a whole old block. It passes every check with a low
 * score: make it yours (an explicit free list, splitting, coalescing, a better fit). */
#define WORD 8
#define ALIGN 16

static unsigned char *first; /* payload of the first block */

static size_t header(const unsigned char *bp) { size_t w; memcpy(&w, bp - WORD, WORD); return w; }
static void set_header(unsigned char *bp, size_t w) { memcpy(bp - WORD, &w, WORD); }
static size_t size_of(const unsigned char *bp) { return header(bp) & ~(size_t)15; }
static int used(const unsigned char *bp) { return (int)(header(bp) & 1); }

int mm_init(void)
{
    unsigned char *p = mem_sbrk(2 * WORD); /* padding, then the end marker (size 0) */
    if (p == (void *)-1) return -1;
    first = p + 2 * WORD;
    set_header(first, 0 | 1);
    return 0;
}

void *mm_malloc(size_t size)
{
    if (size == 0 || size > SIZE_MAX - 2 * ALIGN) return NULL;
    size_t asize = (size + WORD + ALIGN - 1) / ALIGN * ALIGN;
    unsigned char *bp = first;
    for (; size_of(bp); bp = bp + size_of(bp))
        if (!used(bp) && size_of(bp) >= asize) {
            set_header(bp, size_of(bp) | 1);
            return bp;
        }
    if (mem_sbrk((intptr_t)asize) == (void *)-1) return NULL; /* bp is the end marker */
    set_header(bp, asize | 1);
    set_header(bp + asize, 0 | 1);
    return bp;
}

void mm_free(void *ptr)
{
    if (ptr) set_header(ptr, size_of(ptr));
}

void *mm_realloc(void *ptr, size_t size)
{
    if (!ptr) return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    size_t have = size_of(ptr) - WORD;
    if (size <= have) return ptr;
    void *moved = mm_malloc(size);
    if (moved) {
        memcpy(moved, ptr, have);
        mm_free(ptr);
    }
    return moved;
}

int mm_check(void)
{
    for (unsigned char *bp = first; size_of(bp); bp = bp + size_of(bp))
        if ((uintptr_t)bp % ALIGN) return 0;
    return 1;
}

void mm_walk(mm_walker fn, void *user)
{
    unsigned char *lo = mem_heap_lo();
    for (unsigned char *bp = first; size_of(bp); bp = bp + size_of(bp))
        fn((size_t)(bp - WORD - lo), size_of(bp), used(bp), user);
}
