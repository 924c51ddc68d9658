/* The TLS benchmark's load client: plain OpenSSL on blocking sockets, one thread per
 * connection slot, the same for every server (bench/tls/README.md).
 *
 * Usage: tls_load MODE PORT N THREADS SERVER_PID
 *   full    N connections, each a full TLS 1.3 handshake, one byte echoed, close_notify, close
 *   resume  the same, each resuming the session the thread's previous connection got (its
 *           newest ticket); a connection that did not resume is an error
 *   echo    THREADS connections made once, then N messages of 64 KiB in all, each written and
 *           read back whole, checked byte for byte
 * Each thread sets up first (the connection, or the first session), then all start together.
 * Prints "MODE N SECONDS CPU": the wall time of the N operations, and the CPU time (user +
 * system) the server process SERVER_PID spent meanwhile, from /proc; exits 0, or names the
 * failure and exits 1. The server's certificate is not verified: that is the client's cost, not the
 * server's, and the benchmark measures servers. */
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG (64 * 1024)

static const char *mode;
static int port;
static long total;
static atomic_long next_op;
static SSL_CTX *ctx;
static pthread_barrier_t ready; /* every thread set up, and the clock started */

static void die(const char *what)
{
    fprintf(stderr, "tls_load: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int dial(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        die("connect");
    return fd;
}

static SSL *tls_open(int fd, SSL_SESSION *sess)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd))
        die("SSL_new");
    if (sess)
        SSL_set_session(ssl, sess);
    if (SSL_connect(ssl) != 1)
        die("handshake");
    return ssl;
}

static void exact_write(SSL *ssl, const void *buf, size_t n)
{
    size_t done;
    if (!SSL_write_ex(ssl, buf, n, &done) || done != n)
        die("write");
}

static void exact_read(SSL *ssl, unsigned char *buf, size_t n)
{
    for (size_t got = 0, k; got < n; got += k)
        if (!SSL_read_ex(ssl, buf + got, n - got, &k))
            die("read");
}

/* One connection: a handshake (resuming *sess if given), a byte echoed, a clean close. The
 * newest session goes back in *sess: TLS 1.3 tickets come after the handshake, and the byte's
 * read takes them in. */
static void one_connection(SSL_SESSION **sess)
{
    int fd = dial();
    SSL *ssl = tls_open(fd, sess ? *sess : NULL);
    unsigned char b = 'x';
    exact_write(ssl, &b, 1);
    exact_read(ssl, &b, 1);
    if (sess) {
        if (*sess && !SSL_session_reused(ssl))
            die("a connection did not resume");
        SSL_SESSION_free(*sess);
        *sess = SSL_get1_session(ssl);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
}

static void *handshakes(void *arg)
{
    int resume = arg != NULL;
    SSL_SESSION *sess = NULL;
    if (resume)
        one_connection(&sess); /* not counted: it makes the first session */
    pthread_barrier_wait(&ready);
    while (atomic_fetch_add(&next_op, 1) < total)
        one_connection(resume ? &sess : NULL);
    SSL_SESSION_free(sess);
    return NULL;
}

static void *echoes(void *arg)
{
    (void)arg;
    unsigned char *out = malloc(MSG), *in = malloc(MSG);
    int fd = dial();
    SSL *ssl = tls_open(fd, NULL);
    pthread_barrier_wait(&ready);
    for (long op; (op = atomic_fetch_add(&next_op, 1)) < total;) {
        for (size_t i = 0; i < MSG; i++)
            out[i] = (unsigned char)(op * 131 + (long)i);
        exact_write(ssl, out, MSG);
        exact_read(ssl, in, MSG);
        if (memcmp(in, out, MSG) != 0)
            die("the echo differs");
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
    free(out);
    free(in);
    return NULL;
}

/* The CPU seconds process pid has used, user and system. */
static double cpu_of(const char *pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof buf, f))
        die("cannot read the server's /proc/PID/stat");
    fclose(f);
    /* Fields 14 and 15 (utime, stime) count after the command's closing parenthesis. */
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        die("cannot parse /proc/PID/stat");
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: tls_load full|resume|echo PORT N THREADS SERVER_PID\n");
        return 2;
    }
    mode = argv[1];
    port = atoi(argv[2]);
    total = atol(argv[3]);
    int threads = atoi(argv[4]);
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    /* One suite for every server: left to choose, Go picks AES-128 and Python AES-256. */
    if (!SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256"))
        die("ciphersuites");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF); /* sessions are kept by hand */
    void *(*fn)(void *) = strcmp(mode, "echo") == 0 ? echoes : handshakes;
    void *arg = strcmp(mode, "resume") == 0 ? (void *)1 : NULL;
    if (fn == handshakes && !arg && strcmp(mode, "full") != 0)
        die("unknown mode");
    pthread_t *t = calloc((size_t)threads, sizeof *t);
    pthread_barrier_init(&ready, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, fn, arg);
    pthread_barrier_wait(&ready);
    double t0 = now(), c0 = cpu_of(argv[5]);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    printf("%s %ld %.6f %.3f\n", mode, total, now() - t0, cpu_of(argv[5]) - c0);
    free(t);
    SSL_CTX_free(ctx);
    return 0;
}
