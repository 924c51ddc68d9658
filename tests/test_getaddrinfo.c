/* corio_getaddrinfo: the lookup runs on the executor while the loop goes on; numeric and
 * localhost lookups, the resolver's errors as the fixed CORIO_EAI_* codes with their names and
 * words, bad input, a cancelled lookup (its list is freed: LeakSanitizer and Valgrind check). */
#include "core_helpers.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

static void *numeric_main(void *arg)
{
    (void)arg;
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = IV(1);
    cr_expect_eq(corio_getaddrinfo("127.0.0.1", "8080", &hints, &res), 0);
    cr_expect_not_null(res);
    if (res) {
        struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
        cr_expect_eq(res->ai_family, AF_INET);
        cr_expect_eq(ntohs(sin->sin_port), 8080);
        cr_expect_eq(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
        freeaddrinfo(res);
    }
    res = IV(1);
    int rc = corio_getaddrinfo("not a number", NULL, &hints, &res);
    cr_expect_eq(rc, CORIO_EAI_NONAME, "got %d (%s)", rc, corio_err_name(rc));
    cr_expect_eq(rc, -21006, "a fixed value, whatever the C library's EAI_NONAME is");
    cr_expect_null(res);
    cr_expect_str_eq(corio_strerror(rc), "name or service not known");
    cr_expect_str_eq(corio_err_name(rc), "CORIO_EAI_NONAME");
    return NULL;
}

Test(getaddrinfo, numeric_host_and_its_errors, .timeout = 20)
{
    cr_assert_eq(corio_run(numeric_main, NULL, NULL, NULL), 0);
}

/* Other EAI_* codes of the resolver come back as their CORIO_EAI_* (glibc refuses these hints
 * before any lookup, so the outcome does not depend on the machine's resolver). */
static void *eai_codes_main(void *arg)
{
    (void)arg;
    struct addrinfo canon = {.ai_flags = AI_CANONNAME}; /* a canonical name of no host */
    struct addrinfo *res = IV(1);
    int rc = corio_getaddrinfo(NULL, "80", &canon, &res);
    cr_expect_eq(rc, CORIO_EAI_BADFLAGS, "got %d (%s)", rc, corio_err_name(rc));
    cr_expect_str_eq(corio_err_name(rc), "CORIO_EAI_BADFLAGS");
    cr_expect_null(res);
    struct addrinfo family = {.ai_family = AF_UNIX};
    res = IV(1);
    rc = corio_getaddrinfo("127.0.0.1", "80", &family, &res);
    cr_expect_eq(rc, CORIO_EAI_FAMILY, "got %d (%s)", rc, corio_err_name(rc));
    cr_expect_str_eq(corio_err_name(rc), "CORIO_EAI_FAMILY");
    cr_expect_str_eq(corio_strerror(rc), "address family not supported");
    cr_expect_null(res);
    return NULL;
}

Test(getaddrinfo, resolver_errors_map_to_corio_eai_codes, .timeout = 20)
{
#ifndef __GLIBC__
    cr_skip_test("the hints refused up front are glibc's");
#endif
    cr_assert_eq(corio_run(eai_codes_main, NULL, NULL, NULL), 0);
}

static void *localhost_main(void *arg)
{
    (void)arg;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int rc = corio_getaddrinfo("localhost", "http", &hints, &res);
    cr_expect_eq(rc, 0, "localhost: %s", corio_strerror(rc));
    int n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n++;
    cr_expect_gt(n, 0);
    freeaddrinfo(res);
    /* no hints, service only */
    cr_expect_eq(corio_getaddrinfo(NULL, "80", NULL, &res), 0);
    freeaddrinfo(res);
    return NULL;
}

Test(getaddrinfo, localhost_from_a_task, .timeout = 20)
{
    cr_assert_eq(corio_run(localhost_main, NULL, NULL, NULL), 0);
}

static void *lookup_task(void *arg)
{
    (void)arg;
    struct addrinfo *res = IV(1);
    int rc = corio_getaddrinfo("localhost", NULL, NULL, &res);
    cr_expect_null(res);
    return IV(rc);
}

static void *cancel_main(void *arg)
{
    (void)arg;
    corio_task *t;
    cr_expect_eq(corio_create_task(&t, NULL, lookup_task, NULL, NULL), 0);
    corio_sleep(0); /* t submits */
    corio_task_cancel(t, NULL);
    void *v;
    cr_expect_eq(corio_await(corio_task_future(t), &v), -ECANCELED);
    corio_task_unref(t);
    return NULL;
}

Test(getaddrinfo, cancelled_lookup_frees_its_result, .timeout = 20)
{
    for (int i = 0; i < 20; i++) /* cancelled while pending, queued or running */
        cr_assert_eq(corio_run(cancel_main, NULL, NULL, NULL), 0);
}

Test(getaddrinfo, bad_input, .timeout = 10)
{
    struct addrinfo *res = IV(1);
    cr_assert_eq(corio_getaddrinfo("localhost", NULL, NULL, &res), CORIO_ENOTASK);
    cr_assert_null(res);
    cr_assert_eq(corio_getaddrinfo(NULL, NULL, NULL, &res), -EINVAL);
    cr_assert_eq(corio_getaddrinfo("localhost", NULL, NULL, NULL), -EINVAL);
}
