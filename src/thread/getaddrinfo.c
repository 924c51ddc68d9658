/* corio_getaddrinfo: the resolver's blocking call, run on the loop's default executor. */
#include "thread/executor.h"

#include "base/errors.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

/* The lookup's own copy of its arguments: the job may outlive the awaiting task's frame (a
 * cancelled lookup runs to its end), so it owns everything it reads. */
typedef struct gai_req {
    char *host, *service;
    struct addrinfo hints;
    int has_hints;
} gai_req;

static void *gai_job(void *arg, int *err) {
    gai_req *r = arg;
    struct addrinfo *res = NULL;
    errno = 0;
    int rc = getaddrinfo(r->host, r->service, r->has_hints ? &r->hints : NULL, &res);
    if (rc != 0)
        *err = corio__eai_error(rc, errno);
    return rc == 0 ? res : NULL;
}

static void gai_result_free(void *res) { freeaddrinfo(res); }

static void gai_req_free(void *arg) {
    gai_req *r = arg;
    free(r->host);
    free(r->service);
    free(r);
}

int corio_getaddrinfo(const char *host, const char *service, const struct addrinfo *hints,
                      struct addrinfo **res) {
    if (res)
        *res = NULL;
    if (!res || (!host && !service))
        return -EINVAL;
    gai_req *r = corio__calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->host = host ? strdup(host) : NULL;
    r->service = service ? strdup(service) : NULL;
    if ((host && !r->host) || (service && !r->service)) {
        gai_req_free(r);
        return -ENOMEM;
    }
    if (hints) {
        /* Only the fields getaddrinfo reads from hints; the pointers in it must be NULL. */
        r->hints.ai_flags = hints->ai_flags;
        r->hints.ai_family = hints->ai_family;
        r->hints.ai_socktype = hints->ai_socktype;
        r->hints.ai_protocol = hints->ai_protocol;
        r->has_hints = 1;
    }
    void *out = NULL;
    int rc = corio__to_thread_full(gai_job, r, gai_result_free, gai_req_free, &out);
    *res = out;
    return rc;
}
