/* corio_strerror and corio_err_name, made from CORIO_ERROR_MAP; getaddrinfo's codes as corio's. */
#define _GNU_SOURCE /* EAI_NODATA, EAI_ADDRFAMILY */
#include "base/errors.h"

#include "corio/errors.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>

/* corio's own codes: the one list of <corio/errors.h>, nothing kept by hand here. */
static const struct {
    int code;
    const char *name, *text;
} own[] = {
#define CORIO__ERROR_ENTRY(name, value, text) {CORIO_##name, "CORIO_" #name, text},
    CORIO_ERROR_MAP(CORIO__ERROR_ENTRY)
#undef CORIO__ERROR_ENTRY
};

/* The errno values corio passes on, by name (their descriptions are the C library's). */
static const struct {
    int code;
    const char *name;
} errnos[] = {
    {EPERM, "EPERM"},         {ENOENT, "ENOENT"},       {EINTR, "EINTR"},
    {EIO, "EIO"},             {EBADF, "EBADF"},         {EAGAIN, "EAGAIN"},
    {ENOMEM, "ENOMEM"},       {EACCES, "EACCES"},       {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},         {EEXIST, "EEXIST"},       {EINVAL, "EINVAL"},
    {EMFILE, "EMFILE"},       {ENFILE, "ENFILE"},       {ENOSPC, "ENOSPC"},
    {EPIPE, "EPIPE"},         {ERANGE, "ERANGE"},       {EDEADLK, "EDEADLK"},
    {ENOSYS, "ENOSYS"},       {ENOTSUP, "ENOTSUP"},     {EADDRINUSE, "EADDRINUSE"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, {ENETUNREACH, "ENETUNREACH"},
    {ECONNABORTED, "ECONNABORTED"}, {ECONNRESET, "ECONNRESET"}, {ENOBUFS, "ENOBUFS"},
    {EISCONN, "EISCONN"},     {ENOTCONN, "ENOTCONN"},   {ETIMEDOUT, "ETIMEDOUT"},
    {ECONNREFUSED, "ECONNREFUSED"}, {EHOSTUNREACH, "EHOSTUNREACH"}, {EALREADY, "EALREADY"},
    {EINPROGRESS, "EINPROGRESS"}, {ECANCELED, "ECANCELED"}, {EMSGSIZE, "EMSGSIZE"},
    {ENOTSOCK, "ENOTSOCK"},   {ENAMETOOLONG, "ENAMETOOLONG"}, {EPROTO, "EPROTO"},
    {EOVERFLOW, "EOVERFLOW"},
};

static int own_index(int err) {
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i].code == err)
            return (int)i;
    return -1;
}

const char *corio_strerror(int err) {
    if (err >= 0)
        return "success";
    int i = own_index(err);
    if (i >= 0)
        return own[i].text;
    /* glibc words these for sockets ("Connection timed out"); here they mean asyncio's
     * TimeoutError and CancelledError. */
    if (err == -ETIMEDOUT)
        return "timed out";
    if (err == -ECANCELED)
        return "cancelled";
    if (err > -4096)
        return strerror(-err); /* glibc's table is static and fine for valid codes */
    return "unknown error";
}

const char *corio_err_name(int err) {
    if (err == 0)
        return "OK";
    int i = own_index(err);
    if (i >= 0)
        return own[i].name;
    for (size_t j = 0; j < sizeof errnos / sizeof errnos[0]; j++)
        if (-errnos[j].code == err)
            return errnos[j].name;
    return "UNKNOWN";
}

int corio__eai_error(int rc, int err) {
    switch (rc) {
    case 0:
        return 0;
    case EAI_SYSTEM:
        return err > 0 ? -err : -EIO;
    case EAI_MEMORY:
        return -ENOMEM;
    case EAI_AGAIN:
        return CORIO_EAI_AGAIN;
    case EAI_BADFLAGS:
        return CORIO_EAI_BADFLAGS;
    case EAI_FAIL:
        return CORIO_EAI_FAIL;
    case EAI_FAMILY:
        return CORIO_EAI_FAMILY;
    case EAI_NONAME:
        return CORIO_EAI_NONAME;
    case EAI_SERVICE:
        return CORIO_EAI_SERVICE;
    case EAI_SOCKTYPE:
        return CORIO_EAI_SOCKTYPE;
#ifdef EAI_NODATA
    case EAI_NODATA:
        return CORIO_EAI_NODATA;
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
        return CORIO_EAI_ADDRFAMILY;
#endif
#ifdef EAI_OVERFLOW
    case EAI_OVERFLOW:
        return CORIO_EAI_OVERFLOW;
#endif
    default:
        return CORIO_EAI_FAIL; /* a code this C library has and corio does not name */
    }
}
