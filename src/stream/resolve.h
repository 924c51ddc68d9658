/* Internal: name lookup for the streams, off the loop thread.
 *
 * corio__stream_resolve is corio_getaddrinfo (the executor's) with a shortcut for numeric
 * hosts. */
#ifndef CORIO_STREAM_RESOLVE_H
#define CORIO_STREAM_RESOLVE_H

#include <netdb.h>

/* Awaits getaddrinfo(host, service, hints). A numeric host (or none) is looked up on the loop's
 * thread, since that cannot block; any other goes to the loop's default executor. On 0 *res is
 * the list (freeaddrinfo). Returns 0, CORIO_EAI_* (see corio__eai_error), -errno, -ECANCELED
 * (the job then finishes on its thread and its result is freed; nothing leaks), CORIO_ENOTASK,
 * -EINVAL. */
int corio__stream_resolve(const char *host, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res);

/* Lookups still running after their caller went away: always 0 now that the executor owns them
 * (kept for the tests that wait for it). */
int corio__stream_resolve_pending(void);

#endif
