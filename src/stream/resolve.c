/* Name lookup for the streams: numeric hosts on the loop's thread (that cannot block), any other
 * on the executor through corio_getaddrinfo. */
#include "stream/resolve.h"
#include "base/errors.h"
#include "task/task.h"

#include "corio.h"

#include <arpa/inet.h>
#include <errno.h>

int corio__stream_resolve_pending(void) { return 0; }

static int is_numeric(const char *host) {
    unsigned char buf[sizeof(struct in6_addr)];
    return !host || inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int corio__stream_resolve(const char *host, const char *service, const struct addrinfo *hints,
                          struct addrinfo **res) {
    if (res)
        *res = NULL;
    if (!res || (!host && !service))
        return -EINVAL;
    if (!corio__current_task())
        return CORIO_ENOTASK;
    if (!is_numeric(host))
        return corio_getaddrinfo(host, service, hints, res);
    struct addrinfo h = {0};
    if (hints) {
        h.ai_flags = hints->ai_flags;
        h.ai_family = hints->ai_family;
        h.ai_socktype = hints->ai_socktype;
        h.ai_protocol = hints->ai_protocol;
    }
    if (host)
        h.ai_flags |= AI_NUMERICHOST;
    errno = 0;
    int rc = getaddrinfo(host, service, &h, res);
    if (rc != 0)
        *res = NULL;
    return corio__eai_error(rc, errno);
}
