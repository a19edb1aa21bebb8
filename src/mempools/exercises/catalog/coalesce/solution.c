void ex_unlink(ex_heap *h, ex_fblock *b)
{
    /* ### BEGIN SOLUTION */
    if (b->prev)
        b->prev->next = b->next;
    else
        h->free_head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    /* ### END SOLUTION */
}

ex_fblock *ex_coalesce(ex_heap *h, ex_fblock *b)
{
    /* ### BEGIN SOLUTION */
    size_t size = b->header & ~(size_t)EX_FLAGS;
    ex_fblock *right = (ex_fblock *)((unsigned char *)b + size);
    if (!(right->header & EX_ALLOC)) {
        ex_unlink(h, right);
        size += right->header & ~(size_t)EX_FLAGS;
    }
    if (!(b->header & EX_PREV_ALLOC)) {
        size_t left_footer = ((size_t *)b)[-1];
        ex_fblock *left = (ex_fblock *)((unsigned char *)b - (left_footer & ~(size_t)EX_FLAGS));
        ex_unlink(h, left);
        size += left_footer & ~(size_t)EX_FLAGS;
        b = left;
    }
    b->header = size | (b->header & EX_PREV_ALLOC);
    *(size_t *)((unsigned char *)b + size - sizeof(size_t)) = b->header;
    ex_list_push(h, b);
    /* ### END SOLUTION */
    return b;
}
