/* ### BEGIN SOLUTION */
/* An explicit free list with boundary tags: every block has an 8-byte header and footer
 * (size | allocated); a free block's payload holds the next and previous free blocks. Best
 * fit, split when the rest can be a block, coalesce on free, realloc in place when it can. */
#define WORD 8
#define ALIGN 16
#define MIN_BLOCK 32 /* header, two links, footer */

static unsigned char *first;     /* payload of the first real block (the prologue's end) */
static unsigned char *free_head; /* a free block's payload, NULL when none is free */

static size_t get(const unsigned char *p) { size_t w; memcpy(&w, p, WORD); return w; }
static void put(unsigned char *p, size_t w) { memcpy(p, &w, WORD); }
static size_t size_of(const unsigned char *bp) { return get(bp - WORD) & ~(size_t)15; }
static int used(const unsigned char *bp) { return (int)(get(bp - WORD) & 1); }
static unsigned char *next_of(unsigned char *bp) { return bp + size_of(bp); }
static unsigned char *prev_of(unsigned char *bp) { return bp - (get(bp - 2 * WORD) & ~(size_t)15); }

static void mark(unsigned char *bp, size_t size, int alloc)
{
    put(bp - WORD, size | (size_t)alloc);
    put(bp + size - 2 * WORD, size | (size_t)alloc);
}

static unsigned char *link_get(unsigned char *bp, int which)
{
    unsigned char *p;
    memcpy(&p, bp + which * WORD, sizeof p);
    return p;
}

static void link_set(unsigned char *bp, int which, unsigned char *to)
{
    memcpy(bp + which * WORD, &to, sizeof to);
}

static void list_push(unsigned char *bp)
{
    link_set(bp, 0, free_head);
    link_set(bp, 1, NULL);
    if (free_head) link_set(free_head, 1, bp);
    free_head = bp;
}

static void list_remove(unsigned char *bp)
{
    unsigned char *next = link_get(bp, 0), *prev = link_get(bp, 1);
    if (prev) link_set(prev, 0, next); else free_head = next;
    if (next) link_set(next, 1, prev);
}

static unsigned char *coalesce(unsigned char *bp)
{
    size_t size = size_of(bp);
    if (!used(next_of(bp))) {
        list_remove(next_of(bp));
        size += size_of(next_of(bp));
    }
    if (!used(prev_of(bp))) {
        bp = prev_of(bp);
        list_remove(bp);
        size += size_of(bp);
    }
    mark(bp, size, 0);
    return bp;
}

/* Grow the heap by `size` bytes into a free block (merged with a free last block). */
static unsigned char *extend(size_t size)
{
    unsigned char *bp = mem_sbrk((intptr_t)size);
    if (bp == (void *)-1) return NULL;
    mark(bp, size, 0);
    put(bp + size - WORD, 1); /* the new epilogue */
    bp = coalesce(bp);
    list_push(bp);
    return bp;
}

static size_t adjusted(size_t size)
{
    if (size > SIZE_MAX - 2 * ALIGN) return 0;
    size_t asize = (size + 2 * WORD + ALIGN - 1) / ALIGN * ALIGN;
    return asize < MIN_BLOCK ? MIN_BLOCK : asize;
}

static void place(unsigned char *bp, size_t asize)
{
    size_t size = size_of(bp);
    list_remove(bp);
    if (size - asize >= MIN_BLOCK) {
        mark(bp, asize, 1);
        mark(bp + asize, size - asize, 0);
        list_push(bp + asize);
    } else {
        mark(bp, size, 1);
    }
}

int mm_init(void)
{
    unsigned char *p = mem_sbrk(4 * WORD);
    if (p == (void *)-1) return -1;
    put(p, 0);                  /* padding: payloads land on 16 */
    put(p + WORD, 16 | 1);      /* prologue header */
    put(p + 2 * WORD, 16 | 1);  /* prologue footer */
    put(p + 3 * WORD, 0 | 1);   /* epilogue header */
    first = p + 4 * WORD;
    free_head = NULL;
    return 0;
}

void *mm_malloc(size_t size)
{
    size_t asize = adjusted(size);
    if (size == 0 || asize == 0) return NULL;
    unsigned char *best = NULL;
    for (unsigned char *bp = free_head; bp; bp = link_get(bp, 0))
        if (size_of(bp) >= asize && (!best || size_of(bp) < size_of(best))) best = bp;
    if (!best) {
        unsigned char *last = prev_of(first + mem_heapsize() - 4 * WORD);
        size_t have = used(last) ? 0 : size_of(last); /* grow only by what is missing */
        best = extend(asize - have);
        if (!best) return NULL;
    }
    place(best, asize);
    return best;
}

void mm_free(void *ptr)
{
    if (!ptr) return;
    unsigned char *bp = ptr;
    mark(bp, size_of(bp), 0);
    list_push(coalesce(bp));
}

void *mm_realloc(void *ptr, size_t size)
{
    if (!ptr) return mm_malloc(size);
    if (size == 0) {
        mm_free(ptr);
        return NULL;
    }
    unsigned char *bp = ptr;
    size_t asize = adjusted(size), have = size_of(bp);
    if (asize == 0) return NULL;
    unsigned char *next = next_of(bp);
    if (have < asize && !used(next) && have + size_of(next) >= asize) {
        list_remove(next);
        have += size_of(next);
        mark(bp, have, 1);
    } else if (have < asize && size_of(next) == 0) { /* the last block: grow the heap */
        if (mem_sbrk((intptr_t)(asize - have)) == (void *)-1) return NULL;
        have = asize;
        mark(bp, have, 1);
        put(bp + have - WORD, 1);
    }
    if (have >= asize) {
        if (have - asize >= MIN_BLOCK) {
            mark(bp, asize, 1);
            mark(bp + asize, have - asize, 0);
            list_push(coalesce(bp + asize));
        }
        return bp;
    }
    unsigned char *moved = mm_malloc(size);
    if (!moved) return NULL;
    memcpy(moved, bp, have - 2 * WORD);
    mm_free(bp);
    return moved;
}

int mm_check(void)
{
    for (unsigned char *bp = first; size_of(bp); bp = next_of(bp))
        if (get(bp - WORD) != get(bp + size_of(bp) - 2 * WORD) || (uintptr_t)bp % ALIGN)
            return 0;
    for (unsigned char *bp = free_head; bp; bp = link_get(bp, 0))
        if (used(bp)) return 0;
    return 1;
}

void mm_walk(mm_walker fn, void *user)
{
    unsigned char *lo = mem_heap_lo();
    for (unsigned char *bp = first; size_of(bp); bp = next_of(bp))
        fn((size_t)(bp - WORD - lo), size_of(bp), used(bp), user);
}
/* ### END SOLUTION */
