void *ex_fixed_alloc(ex_fixed *p)
{
    void *block = NULL;
    /* ### BEGIN SOLUTION */
    if (p->free_head) {
        block = p->free_head;
        p->free_head = p->free_head->next;
    } else if (p->high_water < p->count) {
        block = p->blocks + p->high_water * p->stride;   /* lazy init: never touched before */
        p->high_water++;
    }
    /* ### END SOLUTION */
    return block;
}

void ex_fixed_free(ex_fixed *p, void *block)
{
    /* ### BEGIN SOLUTION */
    ex_free_block *b = block;
    b->next = p->free_head;
    p->free_head = b;
    /* ### END SOLUTION */
}
