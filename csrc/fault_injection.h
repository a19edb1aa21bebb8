/* fault_injection.h - an allocator that fails its nth call and counts the blocks still out, so
 * tests and lessons can show that an allocator's error paths leak nothing. */
#ifndef FAULT_INJECTION_H
#define FAULT_INJECTION_H

#include "fixed_pool.h"

typedef struct fault_allocator {
    int calls;                /* allocation calls so far */
    int fail_at;              /* the call that returns NULL (1 = the first; 0 = never) */
    int outstanding;          /* blocks handed out and not yet released */
    pool_allocator allocator; /* pass &f->allocator to a *_create_with function */
} fault_allocator;

void fault_allocator_init(fault_allocator *f, int fail_at);

#endif
