/* bug_hunt.h - five classic flaws from real pool code, DELIBERATELY BROKEN, each beside the one
 * line that fixes it. Lessons 03 and 04 hunt them; tests/test_bug_hunt.py catches each one. */
#ifndef BUG_HUNT_H
#define BUG_HUNT_H

#include <stddef.h>

/* 1. Overflow check written backwards: refuses sane requests, accepts wrapping ones.
 * Returns the byte count it would malloc, or 0 when it refuses. */
size_t naive_array_bytes(size_t n, size_t size);

/* 2. A lazy fixed pool whose high-water mark (a count of blocks) is compared against the pool's
 * size in bytes: it hands out blocks past the end. */
typedef struct naive_lazy {
    unsigned char *blocks; /* count * stride bytes */
    size_t stride;         /* bytes per block */
    size_t count;          /* blocks */
    size_t high_water;     /* blocks handed out at least once (a COUNT) */
} naive_lazy;
int naive_lazy_init(naive_lazy *p, size_t stride, size_t count);  /* 0 ok, -1 no memory */
void *naive_lazy_alloc(naive_lazy *p);                             /* BUG: bytes vs count */
void naive_lazy_destroy(naive_lazy *p);

/* 3. A pointer dereferenced before its NULL check: the compiler may delete the check, and
 * UBSan reports the member access. Returns 0 for a NULL pool, as it claims. */
size_t naive_lazy_used_bytes(const naive_lazy *p);

/* 4. A realloc in a handle table that resizes the block allocated LAST instead of the one
 * asked for, and shifts the blocks after it by the new size instead of the growth. */
int naive_embedded_realloc_wrong(void *naive_embedded_pool, int slot, size_t size);

/* 5. Nested critical sections with a flag instead of a count: the inner exit re-enables
 * interrupts while the outer section is still running. */
void naive_irq_disable(void);
void naive_irq_enable(void);
int naive_irq_enabled(void);         /* 1 when "interrupts" are on */
void fixed_irq_disable(void);        /* the fix: a nesting count */
void fixed_irq_enable(void);
int fixed_irq_enabled(void);

#endif
