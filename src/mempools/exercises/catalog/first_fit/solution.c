long ex_first_fit(const ex_block *blocks, size_t n, size_t capacity, size_t size)
{
    long found = -1;
    /* ### BEGIN SOLUTION */
    size_t cursor = 0;
    for (size_t i = 0; i < n; i++) {
        if (blocks[i].offset - cursor >= size)
            return (long)cursor;
        cursor = blocks[i].offset + blocks[i].size;
    }
    if (capacity - cursor >= size)
        found = (long)cursor;
    /* ### END SOLUTION */
    return found;
}
