void *ex_bump_alloc(ex_bump *b, size_t size, size_t align)
{
    void *piece = NULL;
    /* ### BEGIN SOLUTION */
    if (size == 0 || align == 0 || (align & (align - 1)) != 0)
        return NULL;
    uintptr_t top = (uintptr_t)b->base + b->offset;
    uintptr_t aligned = (top + (align - 1)) & ~(uintptr_t)(align - 1);
    if (aligned < top)
        return NULL;
    size_t pad = (size_t)(aligned - top), room = b->capacity - b->offset;
    if (pad > room || size > room - pad)
        return NULL;
    b->offset += pad + size;
    piece = (void *)aligned;
    /* ### END SOLUTION */
    return piece;
}
