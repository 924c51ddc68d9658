/* Slowloris against a server (issue 18): more attackers than the server takes connections, some
 * trickling a request's head a byte at a time, some connecting and sending nothing. With the
 * defaults of 0.2 (none) they held every slot until they left, and a normal client waited for
 * them. With header_timeout each attacker is closed within the limit of its start, and a normal
 * client arriving behind them all is served within a few limits; its keep-alive connection is
 * then closed by idle_timeout. */
#include "defence_helpers.h"

#define LIMIT 0.5      /* header_timeout and idle_timeout */
#define CAP 16         /* max_connections */
#define TRICKLERS 24
#define SILENT 8
#define NATTACKERS (TRICKLERS + SILENT)

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static int port;

/* A keep-alive HTTP-like handler: a request's head is one readuntil, so it is one message. */
static void serve_heads(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *head;
    while (corio_reader_readuntil(r, "\r\n\r\n", 4, &head, NULL) > 0) {
        if (corio_writer_write(w, RESPONSE, sizeof RESPONSE - 1) < 0 || corio_writer_drain(w) < 0)
            return;
    }
}

typedef struct attacker {
    int trickle;
    int ended;     /* the server closed it */
    double lasted; /* seconds from connect to its end */
} attacker;

static void *attack(void *arg)
{
    attacker *a = arg;
    int fd = client_connect(port);
    cr_assert_geq(fd, 0, "connect: %s", corio_strerror(fd));
    double t0 = now_s();
    if (a->trickle)
        corio_sock_sendall(fd, "GET / HTTP/1.1\r\n", 16, 0);
    static const char header[] = "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    for (size_t i = 0; !a->ended && now_s() - t0 < END_LATE; i++) {
        if (a->trickle && corio_sock_send(fd, &header[i % (sizeof header - 1)], 1, 0) < 0)
            a->ended = 1; /* the server's reset */
        else if (await_end(fd, 0.1))
            a->ended = 1;
    }
    a->lasted = now_s() - t0;
    corio_close(fd);
    return NULL;
}

/* A normal client: one request, its response, then nothing (keep-alive). Returns the seconds
 * from connect to the response, the connection's end in *ended. */
static double normal_client(int *ended)
{
    double t0 = now_s();
    int fd = client_connect(port);
    cr_assert_geq(fd, 0, "connect: %s", corio_strerror(fd));
    static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(corio_sock_sendall(fd, req, sizeof req - 1, 0), (ssize_t)sizeof req - 1);
    char buf[sizeof RESPONSE];
    int rc = recv_exactly(fd, buf, sizeof RESPONSE - 1, END_LATE);
    double dt = now_s() - t0;
    cr_expect_eq(rc, 0, "the normal client's response: %s", corio_strerror(rc));
    cr_expect(rc < 0 || memcmp(buf, RESPONSE, sizeof RESPONSE - 1) == 0);
    *ended = await_end(fd, END_LATE);
    corio_close(fd);
    return dt;
}

static void *slowloris(void *arg)
{
    (void)arg;
    corio_stream_opts o = {.header_timeout = LIMIT, .idle_timeout = LIMIT, .max_connections = CAP,
                           .backlog = 128};
    corio_server *srv;
    cr_assert_eq(corio_start_server(&srv, "127.0.0.1", 0, serve_heads, NULL, &o), 0);
    port = corio_server_get_port(srv);
    static attacker as[NATTACKERS];
    corio_task *ts[NATTACKERS];
    for (int i = 0; i < NATTACKERS; i++) {
        as[i] = (attacker){.trickle = i < TRICKLERS};
        ts[i] = spawn(attack, &as[i]);
    }
    corio_sleep(0.2); /* every attacker connected: the server full, the rest in its backlog */
    cr_expect_eq(corio_server_active_connections(srv), CAP, "the cap holds");
    int ended;
    double dt = normal_client(&ended);
    /* Behind two rounds of attackers at most: served within a few limits. */
    cr_expect_lt(dt, 6 * LIMIT + 1.0, "a normal client waited %.3f s", dt);
    cr_expect(ended, "the keep-alive connection closed by idle_timeout");
    for (int i = 0; i < NATTACKERS; i++) {
        join(ts[i], NULL);
        cr_expect(as[i].ended, "attacker %d was not closed in %.1f s", i, END_LATE);
        cr_expect_lt(as[i].lasted, 6 * LIMIT + 1.0, "attacker %d lasted %.3f s", i, as[i].lasted);
    }
    double longest = 0;
    for (int i = 0; i < NATTACKERS; i++)
        longest = as[i].lasted > longest ? as[i].lasted : longest;
    corio_server_stats st = server_stats(srv);
    fprintf(stderr, "slowloris: normal client served in %.3f s; longest attacker %.3f s; "
            "%llu header, %llu idle timeouts, %llu accept pauses\n", dt, longest,
            (unsigned long long)st.header_timeouts, (unsigned long long)st.idle_timeouts,
            (unsigned long long)st.accept_pauses);
    cr_expect_eq(st.accepted, NATTACKERS + 1);
    cr_expect_eq(st.header_timeouts, NATTACKERS, "each attacker closed by header_timeout");
    cr_expect_eq(st.idle_timeouts, 1, "the normal client's idle connection");
    cr_expect_geq(st.accept_pauses, 1);
    cr_expect_eq(st.max_connections, CAP);
    cr_expect_eq(st.active, 0);
    cr_expect_eq(st.buffered, 0);
    corio_server_close(srv);
    cr_expect_eq(corio_server_wait_closed(srv), 0);
    corio_server_free(srv);
    return NULL;
}
Test(stream_slowloris, attackers_are_closed_and_a_client_is_served, .timeout = 60)
{
    RUN_CHECKED(slowloris, NULL);
}
