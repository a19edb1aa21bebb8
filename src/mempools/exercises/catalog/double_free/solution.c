enum { FREE_OK = 0, FREE_FOREIGN = 1, FREE_DOUBLE = 2 };

int ex_fixed_free_checked(ex_fixed *p, void *block)
{
    int result = FREE_OK;
    /* ### BEGIN SOLUTION */
    uintptr_t a = (uintptr_t)block, base = (uintptr_t)p->blocks;
    if (a < base || a - base >= p->high_water * p->stride || (a - base) % p->stride != 0)
        return FREE_FOREIGN;
    size_t i = (a - base) / p->stride;
    if (!p->in_use[i])
        return FREE_DOUBLE;
    p->in_use[i] = 0;
    ex_free_block *b = block;
    b->next = p->free_head;
    p->free_head = b;
    /* ### END SOLUTION */
    return result;
}
