/* libFuzzer target: corio's TLS glue (src/tls/, the TLS paths of src/stream/) as a server, fed
 * by a fuzzer-driven peer in fuzzer-chosen chunks.
 *
 * Input layout (missing bytes read as 0):
 *   mode: 1 byte (% 3)
 *     0  the bytes are a client's first flight: they go raw into a server handshake
 *     1  a real client (corio's) completes the handshake, then the bytes go raw onto the
 *        socket, into the established session (forged and broken records)
 *     2  a real client completes the handshake, then writes the bytes as plaintext through TLS;
 *        the server echoes every byte and the client checks the echo byte for byte
 *   nchunks: 1 byte (% 32), then nchunks chunk sizes of 1 byte each (1 + value)
 *   the rest: the bytes, split into those chunks (the remainder is one last chunk).
 *
 * The server wraps one end of a socketpair with corio_stream_new and corio_writer_start_tls,
 * then reads and echoes until EOF or an error: whatever the bytes, every call must return a
 * corio code (a TLS class, a socket error, EOF), never crash, leak or hang. The feeder writes a
 * chunk, then waits until the server has taken it from the socket before the next, so a chunk
 * boundary can fall anywhere in a record. Certificates are made once, at start-up, in a fresh
 * directory (an EC P-256 key and a self-signed certificate). */
#include "fuzz_pair.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CHUNKS 32
#define FEED_SPINS 100000

#define CHECK(cond) FUZZ_CHECK("fuzz_tls_session", cond)

static corio_tls_context *server_ctx, *client_ctx;

/* ---- start-up: a key and a self-signed certificate ---- */

static void make_cert(const char *cert_path, const char *key_path) {
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *c = X509_new();
    CHECK(key && c);
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_set_pubkey(c, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                               (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(c, X509_get_subject_name(c));
    CHECK(X509_sign(c, key, EVP_sha256()));
    FILE *f = fopen(cert_path, "w");
    CHECK(f && PEM_write_X509(f, c));
    fclose(f);
    f = fopen(key_path, "w");
    CHECK(f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
    fclose(f);
    X509_free(c);
    EVP_PKEY_free(key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/corio-fuzz-tls-XXXXXX", cert[64], key[64];
    CHECK(mkdtemp(dir));
    snprintf(cert, sizeof cert, "%s/cert.pem", dir);
    snprintf(key, sizeof key, "%s/key.pem", dir);
    make_cert(cert, key);
    corio_tls_context_opts so = {.certfile = cert, .keyfile = key};
    CHECK(corio_tls_context_new(&server_ctx, CORIO_TLS_SERVER, &so) == 0);
    corio_tls_context_opts co = {.flags = CORIO_TLS_NO_VERIFY | CORIO_TLS_NO_TICKETS};
    CHECK(corio_tls_context_new(&client_ctx, CORIO_TLS_CLIENT, &co) == 0);
    /* The contexts hold what they read: the files can go. */
    unlink(cert);
    unlink(key);
    rmdir(dir);
    return 0;
}

/* ---- input ---- */

typedef struct input {
    int mode;
    size_t chunks[MAX_CHUNKS + 1];
    size_t nchunks;
    const unsigned char *s;
    size_t len;
} input;

static void decode(const uint8_t *data, size_t size, input *in) {
    size_t at = 0;
    in->mode = size ? data[at++] % 3 : 0;
    size_t nsizes = at < size ? data[at++] % MAX_CHUNKS : 0, sizes[MAX_CHUNKS];
    for (size_t i = 0; i < nsizes; i++)
        sizes[i] = 1 + (at < size ? data[at++] : 0);
    in->s = data + at;
    in->len = size - at;
    size_t done = 0;
    in->nchunks = 0;
    for (size_t i = 0; i < nsizes && done < in->len; i++) {
        size_t n = sizes[i] < in->len - done ? sizes[i] : in->len - done;
        in->chunks[in->nchunks++] = n;
        done += n;
    }
    if (done < in->len)
        in->chunks[in->nchunks++] = in->len - done;
}

typedef struct run {
    const input *in;
    int sfd, cfd;     /* the server's end, the client's end */
    int server_done;  /* the server has let its stream go (sfd is closed) */
    size_t echoed;    /* mode 2: bytes echoed and checked */
} run;

/* ---- the server ---- */

static int is_corio_code(ssize_t rc) {
    return rc >= 0 || rc == CORIO_ETLSPROTO || rc == CORIO_ETLSEOF || rc == CORIO_ETLSVERIFY ||
           rc == CORIO_ETLSTIMEOUT || rc == -ECONNRESET || rc == -EPIPE || rc == CORIO_ELIMIT ||
           rc == -ETIMEDOUT;
}

static void *server(void *arg) {
    run *rn = arg;
    corio_reader *r;
    corio_writer *w;
    corio_stream_opts o = {.tls_handshake_timeout = 5};
    CHECK(corio_stream_new(&r, &w, NULL, rn->sfd, &o) == 0);
    int rc = corio_writer_start_tls(w, server_ctx, &o);
    CHECK(is_corio_code(rc));
    if (rc == 0) {
        char buf[4096];
        ssize_t n;
        while ((n = corio_reader_read(r, buf, sizeof buf)) > 0)
            if (corio_writer_write(w, buf, (size_t)n) < 0 || corio_writer_drain(w) < 0)
                break;
        CHECK(is_corio_code(n));
    }
    rn->server_done = 1;
    CHECK(corio_stream_free(r, w) == 0);
    return NULL;
}

/* ---- the peer ---- */

static int unread_in_socket(const run *rn) {
    int n = 0;
    if (rn->server_done || ioctl(rn->sfd, FIONREAD, &n) < 0)
        return 0;
    return n;
}

/* Raw bytes onto the socket, a chunk at a time. */
static void feed_raw(run *rn, int fd) {
    const input *in = rn->in;
    size_t at = 0;
    for (size_t i = 0; i < in->nchunks && !rn->server_done; i++) {
        ssize_t n = send(fd, in->s + at, in->chunks[i], MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0)
            break; /* the server went away (a reset) */
        at += in->chunks[i];
        long spins = 0;
        while (unread_in_socket(rn) > 0) {
            CHECK(++spins < FEED_SPINS);
            CHECK(corio_sleep(0) == 0);
        }
    }
}

/* Plaintext through TLS, each chunk's echo read back and compared. */
static void feed_plaintext(run *rn, corio_reader *r, corio_writer *w) {
    const input *in = rn->in;
    size_t at = 0;
    unsigned char buf[512];
    for (size_t i = 0; i < in->nchunks; i++) {
        CHECK(corio_writer_write(w, in->s + at, in->chunks[i]) == 0);
        size_t got = 0;
        while (got < in->chunks[i]) {
            ssize_t n = corio_reader_read(r, buf, sizeof buf);
            CHECK(n > 0);
            CHECK(memcmp(buf, in->s + at + got, (size_t)n) == 0);
            got += (size_t)n;
        }
        at += got;
    }
    rn->echoed = at;
}

static void *peer(void *arg) {
    run *rn = arg;
    if (rn->in->mode == 0) {
        feed_raw(rn, rn->cfd);
        close(rn->cfd);
        return NULL;
    }
    corio_reader *r;
    corio_writer *w;
    CHECK(corio_stream_new(&r, &w, NULL, rn->cfd, NULL) == 0);
    int rc = corio_writer_start_tls(w, client_ctx, NULL);
    CHECK(rc == 0);
    if (rn->in->mode == 1) {
        feed_raw(rn, corio_writer_get_fd(w));
        corio_writer_abort(w);
    } else {
        feed_plaintext(rn, r, w);
        CHECK(rn->echoed == rn->in->len);
    }
    CHECK(corio_stream_free(r, w) == 0);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    input in;
    decode(data, size, &in);
    run rn = {.in = &in};
    fuzz_pair_run(&rn.sfd, &rn.cfd, server, peer, &rn);
    return 0;
}
