size_t ex_compact(unsigned char *memory, ex_block *blocks, size_t n)
{
    size_t moved = 0;
    /* ### BEGIN SOLUTION */
    size_t cursor = 0;
    for (size_t i = 0; i < n; i++) {
        if (!blocks[i].locked && blocks[i].offset > cursor) {
            memmove(memory + cursor, memory + blocks[i].offset, blocks[i].size);
            blocks[i].offset = cursor;
            moved += blocks[i].size;
        }
        cursor = blocks[i].offset + blocks[i].size;
    }
    /* ### END SOLUTION */
    return moved;
}
