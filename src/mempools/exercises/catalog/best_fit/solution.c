ex_fblock *ex_best_fit(const ex_heap *h, size_t size)
{
    ex_fblock *best = NULL;
    /* ### BEGIN SOLUTION */
    size_t best_size = 0;
    for (ex_fblock *b = h->free_head; b != NULL; b = b->next) {
        size_t have = b->header & ~(size_t)EX_FLAGS;
        if (have >= size && (best == NULL || have < best_size)) {
            best = b;
            best_size = have;
            if (have == size)
                break; /* nothing fits better than exactly */
        }
    }
    /* ### END SOLUTION */
    return best;
}
