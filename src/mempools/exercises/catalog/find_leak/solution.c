/* Counts the words of `text`; returns -1 when it meets the word STOP. */
int ex_word_count(const char *text)
{
    size_t n = strlen(text);
    char *copy = tracked_malloc(n + 1);   /* strtok writes into its string: work on a copy */
    if (!copy)
        return -1;
    memcpy(copy, text, n + 1);
    int words = 0;
    for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) {
        if (strcmp(w, "STOP") == 0) {
            /* ### BEGIN SOLUTION */
            tracked_free(copy);
            /* ### END SOLUTION */
            return -1;
        }
        words++;
    }
    tracked_free(copy);
    return words;
}
