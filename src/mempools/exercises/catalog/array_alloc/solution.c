void *ex_array_alloc(size_t n, size_t size)
{
    void *block = NULL;
    /* ### BEGIN SOLUTION */
    if (n == 0 || size == 0 || n > SIZE_MAX / size)
        return NULL;
    block = malloc(n * size);
    /* ### END SOLUTION */
    return block;
}
