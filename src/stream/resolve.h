/* Internal: name lookup for the streams, off the loop thread.
 *
 * corio__stream_resolve has the signature and the error codes of the executor's
 * corio_getaddrinfo (branch `threads`), so that it becomes a call to it when that lands; until
 * then it runs getaddrinfo on a thread of its own per lookup. */
#ifndef CORIO_STREAM_RESOLVE_H
#define CORIO_STREAM_RESOLVE_H

#include <netdb.h>

/* getaddrinfo's EAI_* codes as corio errors, as the executor's header defines them. */
#ifndef CORIO_EAI_BASE
#define CORIO_EAI_BASE (-21000)
#define CORIO_EAI(eai) (CORIO_EAI_BASE - (eai) * ((eai) < 0 ? -1 : 1))
#endif

/* Awaits getaddrinfo(host, service, hints). A numeric host (or none) is looked up on the loop's
 * thread, since that cannot block; any other runs on a worker thread, and the task awaits an
 * eventfd the worker signals. On 0 *res is the list (freeaddrinfo). Returns 0, CORIO_EAI(code),
 * -errno, -ECANCELED (the worker then finishes alone and frees its result; nothing leaks),
 * CORIO_ENOTASK, -EINVAL. */
int corio__stream_resolve(const char *host, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res);

/* Lookup threads that have not finished yet (tests wait for 0 after cancelling a lookup). */
int corio__stream_resolve_pending(void);

#endif
