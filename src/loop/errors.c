/* corio_strerror and corio_err_name. */
#include "corio.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>

static const struct {
    int code;
    const char *name, *text;
} own[] = {
    {CORIO_EINVALSTATE, "CORIO_EINVALSTATE", "invalid state for this operation"},
    {CORIO_ENOTASK, "CORIO_ENOTASK", "awaiting outside a task"},
    {CORIO_ECLOSED, "CORIO_ECLOSED", "event loop is closed"},
    {CORIO_ERUNNING, "CORIO_ERUNNING", "an event loop is already running"},
    {CORIO_ESTOPPED, "CORIO_ESTOPPED", "event loop stopped before the future completed"},
    {CORIO_ENOLOOP, "CORIO_ENOLOOP", "no event loop in this thread"},
    {CORIO_EBROKEN, "CORIO_EBROKEN", "barrier is broken"},
    {CORIO_ESHUTDOWN, "CORIO_ESHUTDOWN", "queue is shut down"},
};

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
    {ENOTSOCK, "ENOTSOCK"},   {EPROTO, "EPROTO"},       {EOVERFLOW, "EOVERFLOW"},
};

const char *corio_strerror(int err) {
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i].code == err)
            return own[i].text;
    if (err == 0)
        return "success";
    if (err < CORIO_EAI_BASE && err > CORIO_EAI_BASE - 1000) /* CORIO_EAI(): glibc's are < 0 */
        return gai_strerror(err - CORIO_EAI_BASE);
    /* glibc words these for sockets ("Connection timed out"); here they mean asyncio's
     * TimeoutError and CancelledError. */
    if (err == -ETIMEDOUT)
        return "timed out";
    if (err == -ECANCELED)
        return "cancelled";
    if (err < 0 && err > -4096)
        return strerror(-err); /* glibc's table is static and fine for valid codes */
    return "unknown error";
}

static const struct {
    int code;
    const char *name;
} eais[] = {
    {EAI_AGAIN, "CORIO_EAI(EAI_AGAIN)"},     {EAI_BADFLAGS, "CORIO_EAI(EAI_BADFLAGS)"},
    {EAI_FAIL, "CORIO_EAI(EAI_FAIL)"},       {EAI_FAMILY, "CORIO_EAI(EAI_FAMILY)"},
    {EAI_NONAME, "CORIO_EAI(EAI_NONAME)"},   {EAI_SERVICE, "CORIO_EAI(EAI_SERVICE)"},
    {EAI_SOCKTYPE, "CORIO_EAI(EAI_SOCKTYPE)"},
};

const char *corio_err_name(int err) {
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (own[i].code == err)
            return own[i].name;
    for (size_t i = 0; i < sizeof eais / sizeof eais[0]; i++)
        if (CORIO_EAI(eais[i].code) == err)
            return eais[i].name;
    for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++)
        if (-errnos[i].code == err)
            return errnos[i].name;
    return "UNKNOWN";
}
