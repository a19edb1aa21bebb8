/* check.h - a tiny test harness: CHECK prints FAIL with file:line, each test prints PASS. */
#ifndef CHECK_H
#define CHECK_H
#include <stdio.h>

static int check_failures;

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            printf("FAIL %s %s:%d: %s\n", __func__, __FILE__, __LINE__, #cond);     \
            check_failures++;                                                       \
            return;                                                                 \
        }                                                                           \
    } while (0)

#define RUN(test)                                   \
    do {                                            \
        int before = check_failures;                \
        test();                                     \
        if (check_failures == before) printf("PASS %s\n", #test); \
    } while (0)

#endif
