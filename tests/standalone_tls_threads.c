/* One TLS server context and one client context shared by loops on two threads (contexts are
 * ANY THREAD): each thread serves TLS and connects to its own server and to the other thread's,
 * and the client's session cache, shared, lets a connection resume a session that the other
 * thread's connection saved. A plain program, so that it runs under ThreadSanitizer too. */
#include "standalone.h"

#include <corio.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ROUNDS 10

static corio_tls_context *server_ctx, *client_ctx;
static atomic_int ports[2], finished, resumed;

static void echo(corio_reader *r, corio_writer *w, void *arg)
{
    (void)arg;
    const char *line;
    ssize_t n;
    while ((n = corio_reader_readline(r, &line)) > 0) {
        corio_writer_write(w, line, (size_t)n);
        if (corio_writer_drain(w) < 0)
            break;
    }
}

static void talk(int port)
{
    corio_reader *r;
    corio_writer *w;
    corio_stream_opts o = {.tls = client_ctx, .server_hostname = "localhost"};
    int rc = corio_open_connection(&r, &w, "127.0.0.1", port, &o);
    CHECK(rc == 0);
    if (rc < 0) {
        fprintf(stderr, "connect: %s (%s)\n", corio_strerror(rc), corio_tls_get_error());
        return;
    }
    const char *line;
    CHECK(corio_writer_write(w, "ping\n", 5) == 0);
    CHECK(corio_reader_readline(r, &line) == 5);
    corio_tls_info info;
    CHECK(corio_writer_get_tls_info(w, &info) == 0);
    resumed += info.session_reused;
    corio_stream_free(r, w);
}

static void *thread_main(void *arg)
{
    int me = (int)VI(arg);
    corio_server *srv = NULL;
    corio_stream_opts so = {.tls = server_ctx};
    CHECK(corio_start_server(&srv, "127.0.0.1", 0, echo, NULL, &so) == 0);
    if (!srv)
        return NULL;
    ports[me] = corio_server_get_port(srv);
    while (!ports[!me])
        corio_sleep(0.001);
    for (int i = 0; i < ROUNDS; i++)
        talk(ports[i % 2 ? !me : me]);
    finished++;
    while (finished < 2) /* the other thread may still connect here */
        corio_sleep(0.001);
    corio_server_close(srv);
    corio_server_wait_closed(srv);
    corio_server_free(srv);
    return NULL;
}

static void *thread_run(void *arg)
{
    int rc = corio_run(thread_main, arg, NULL, NULL);
    CHECK(rc == 0);
    return NULL;
}

int main(void)
{
    char dir[] = "/tmp/corio-tls-threads-XXXXXX", cmd[512], cert[64], key[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s "
             "-out %s -subj /CN=localhost -addext subjectAltName=DNS:localhost -days 1 "
             ">/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        printf("skipped: the openssl command could not make a certificate\n");
        rmdir(dir);
        return 0;
    }
    corio_tls_context_opts so = {.certfile = cert, .keyfile = key};
    corio_tls_context_opts co = {.cafile = cert};
    CHECK(corio_tls_context_new(&server_ctx, CORIO_TLS_SERVER, &so) == 0);
    CHECK(corio_tls_context_new(&client_ctx, CORIO_TLS_CLIENT, &co) == 0);
    unlink(cert);
    unlink(key);
    rmdir(dir);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, thread_run, IV(i));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    /* 20 connections to two servers: all but the first to each could resume; two threads'
     * first connections to one server may both come before either saved a session, and TSan's
     * pace changes the order: at least half. */
    CHECK(resumed >= ROUNDS);
    corio_tls_context_free(server_ctx);
    corio_tls_context_free(client_ctx);
    printf("tls threads: %d of %d connections resumed\n", (int)resumed, 2 * ROUNDS);
    return failures != 0;
}
