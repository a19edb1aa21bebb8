int ex_pick_pool(const ex_workload *w)
{
    int pick = 0;
    /* ### BEGIN SOLUTION */
    if (w->freed_all_at_once)
        return EX_BUMP;        /* objects die together: a bump pool (over a static buffer without malloc) */
    if (w->sizes_all_equal)
        return EX_FIXED;       /* one size, freed one by one: a fixed pool (over a static buffer without malloc) */
    if (!w->malloc_available)
        return EX_EMBEDDED;    /* no malloc, sizes vary, runs for months: the embedded pool */
    pick = EX_MALLOC;          /* mixed sizes and lifetimes on a desktop */
    /* ### END SOLUTION */
    return pick;
}
