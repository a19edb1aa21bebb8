/* pool_common.c - names for the shared error codes. */
#include "pool_common.h"

const char *pool_error_name(int code)
{
    switch (code) {
    case POOL_OK: return "ok";
    case POOL_ENOMEM: return "out of memory";
    case POOL_EINVAL: return "invalid argument";
    case POOL_EOVERFLOW: return "size overflow";
    case POOL_EALIGN: return "bad alignment";
    case POOL_EDOUBLEFREE: return "double free";
    case POOL_EFOREIGN: return "foreign pointer";
    case POOL_ESTALE: return "stale handle";
    case POOL_ELOCKED: return "block is locked";
    case POOL_ENOTLOCKED: return "block is not locked";
    default: return "unknown error";
    }
}
