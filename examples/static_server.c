/* An HTTP/1.1 static file server: GET and HEAD of the files under ROOT, keep-alive, bodies by
 * sendfile (corio_writer_sendfile), Content-Length, Last-Modified and 304 for If-Modified-Since,
 * index.html for a directory, 404, 405 for other methods. Requests are parsed strictly
 * (examples/http/request.h). A path is percent-decoded, then refused (400) if it holds a NUL or
 * a "." or ".." segment, so no request names a file above ROOT, in any encoding; symbolic links
 * under ROOT are followed, as nginx does by default.
 *
 * Usage: static_server ROOT [port [host]]   (default port 8080, host 127.0.0.1; port 0 picks a
 * free one). Prints "Serving ROOT on http://HOST:PORT/" once it listens.
 * Try: curl -v http://127.0.0.1:8080/ */
#define _GNU_SOURCE /* timegm */
#include "http/serve.h"

#include <corio.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PATH_MAX_LEN 1024

typedef struct site {
    int root; /* the ROOT directory, opened once */
} site;

/* ---- paths ---- */

static int hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The request target's path, percent-decoded, without its leading '/', its query and fragment,
 * into out ("" for the root). Returns 0, or 400 for a target that is not a path, a bad escape, a
 * NUL, a "." or ".." segment (however encoded), or a path too long. */
static int target_path(const http_span *t, char *out) {
    if (t->n == 0 || t->p[0] != '/')
        return 400;
    size_t n = 0;
    for (size_t i = 1; i < t->n && t->p[i] != '?' && t->p[i] != '#'; i++) {
        char c = t->p[i];
        if (c == '%') {
            int hi = i + 2 < t->n ? hex(t->p[i + 1]) : -1, lo = hi >= 0 ? hex(t->p[i + 2]) : -1;
            if (lo < 0)
                return 400;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == 0 || n + 1 >= PATH_MAX_LEN)
            return 400;
        out[n++] = c;
    }
    out[n] = 0;
    /* Segments are checked after decoding: "%2e%2e" and "..%2f" are the same as "../". */
    for (char *seg = out; *seg;) {
        size_t len = strcspn(seg, "/");
        if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
            return 400;
        seg += len + (seg[len] == '/');
    }
    return 0;
}

/* Opens the file `path` names under the root (for a directory, its index.html) into *fd, its
 * stat in *st; `path` (PATH_MAX_LEN) then names the file opened. Returns 0, or the status to
 * answer: 404, or 403 for a directory without an index (as nginx without autoindex). */
static int open_file(const site *s, char *path, struct stat *st, int *fd) {
    *fd = corio_openat(s->root, *path ? path : ".", O_RDONLY, 0);
    if (*fd < 0)
        return 404;
    if (corio_fstat(*fd, st) == 0 && S_ISDIR(st->st_mode)) {
        int dir = *fd;
        size_t len = strlen(path);
        snprintf(path + len, PATH_MAX_LEN - len, "%sindex.html", len ? "/" : ""); /* its type */
        *fd = corio_openat(dir, "index.html", O_RDONLY, 0);
        corio_close(dir);
        if (*fd < 0)
            return *fd == -ENOENT ? 403 : 404;
        if (corio_fstat(*fd, st) != 0)
            st->st_mode = 0;
    }
    if (!S_ISREG(st->st_mode)) {
        corio_close(*fd);
        *fd = -1;
        return 404;
    }
    return 0;
}

/* ---- the response's head ---- */

static const char *content_type(const char *path) {
    static const char *const types[][2] = {
        {".html", "text/html"},       {".htm", "text/html"},         {".txt", "text/plain"},
        {".css", "text/css"},         {".js", "text/javascript"},    {".json", "application/json"},
        {".png", "image/png"},        {".jpg", "image/jpeg"},        {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcasecmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

/* An IMF-fixdate (RFC 9110 5.6.7), the form of Date, Last-Modified and If-Modified-Since. */
static void http_date(time_t t, char out[32]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* The request's If-Modified-Since as a time, or -1: absent, or a date that does not parse,
 * which RFC 9110 13.1.3 says to ignore. */
static time_t if_modified_since(const http_request *req) {
    const http_span *ims = http_find_header(req, "If-Modified-Since");
    char buf[64];
    if (!ims || ims->n >= sizeof buf)
        return -1;
    memcpy(buf, ims->p, ims->n);
    buf[ims->n] = 0;
    struct tm tm = {0};
    const char *end = strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return end && *end == 0 ? timegm(&tm) : -1;
}

/* Date: formatted once a second, not once a response. */
static const char *date_now(void) {
    static time_t last;
    static char now[32];
    time_t t = time(NULL);
    if (t != last) {
        http_date(t, now);
        last = t;
    }
    return now;
}

static void send_head(corio_writer *w, int status, const char *type, const struct stat *st,
                      int keep) {
    char head[512], mod[32];
    const char *now = date_now();
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nServer: corio-static\r\nDate: %s\r\n",
                     status, status == 304 ? "Not Modified" : http_reason(status), now);
    if (st) {
        http_date(st->st_mtime, mod);
        n += snprintf(head + n, sizeof head - (size_t)n, "Last-Modified: %s\r\n", mod);
    }
    if (st && status == 200)
        n += snprintf(head + n, sizeof head - (size_t)n,
                      "Content-Type: %s\r\nContent-Length: %lld\r\n", type,
                      (long long)st->st_size);
    if (status >= 400)
        n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: 0\r\n%s",
                      status == 405 ? "Allow: GET, HEAD\r\n" : "");
    n += snprintf(head + n, sizeof head - (size_t)n, "%s\r\n", keep ? "" : "Connection: close\r\n");
    corio_writer_write(w, head, (size_t)n);
}

/* ---- a request ---- */

static void cork(corio_writer *w, int on) {
    int fd = corio_writer_get_fd(w);
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
}

/* What a response needs of its request, taken from the reader's buffer before the body is read
 * (reading it may move the buffer that the request's spans point into). */
typedef struct wanted {
    int get, head, keep;
    int status; /* 0, or the answer already known: 400, 405 */
    char path[PATH_MAX_LEN];
    time_t ims; /* If-Modified-Since, -1 for none */
} wanted;

static void take(const http_request *req, wanted *q) {
    q->get = req->method.n == 3 && memcmp(req->method.p, "GET", 3) == 0;
    q->head = req->method.n == 4 && memcmp(req->method.p, "HEAD", 4) == 0;
    q->keep = req->keep_alive;
    q->status = !q->get && !q->head ? 405 : target_path(&req->target, q->path);
    q->ims = if_modified_since(req);
}

/* Answers one request (its body already read). Returns 0 to go on with the connection, or < 0
 * when it broke. */
static int answer(const site *s, corio_writer *w, wanted *q) {
    struct stat st;
    int fd = -1;
    int status = q->status ? q->status : open_file(s, q->path, &st, &fd);
    if (status) {
        send_head(w, status, NULL, NULL, q->keep);
        return 0;
    }
    ssize_t rc = 0;
    if (q->ims >= 0 && st.st_mtime <= q->ims) { /* seconds: the header's resolution */
        send_head(w, 304, NULL, &st, q->keep);
    } else if (!q->get) {
        send_head(w, 200, content_type(q->path), &st, q->keep);
    } else {
        /* Corked, the head and a small file leave in one segment instead of two (nginx's
         * tcp_nopush): the peer wakes once per response. */
        cork(w, 1);
        send_head(w, 200, content_type(q->path), &st, q->keep);
        rc = corio_writer_sendfile(w, fd, 0, (size_t)st.st_size, 0, NULL);
        cork(w, 0);
        if (rc >= 0 && rc < st.st_size)
            rc = -EIO; /* the file shrank: the length sent is a lie, so close */
    }
    corio_close(fd);
    return rc < 0 ? (int)rc : 0;
}

static void handle_http(corio_reader *r, corio_writer *w, void *arg) {
    for (;;) {
        http_request req;
        wanted q;
        int rc = http_read_head(r, &req);
        if (rc == 0) {
            take(&req, &q);
            rc = http_discard_body(r, w, &req);
        }
        if (rc != 0) {
            if (rc >= 400)
                http_send_error(w, rc);
            break;
        }
        if (answer(arg, w, &q) < 0 || !q.keep || corio_writer_drain(w) < 0)
            break;
    }
}

typedef struct args {
    const char *root, *host;
    int port;
} args;

static void *main_task(void *arg) {
    args *a = arg;
    site s = {.root = corio_open(a->root, O_RDONLY | O_DIRECTORY, 0)};
    if (s.root < 0) {
        fprintf(stderr, "static_server: %s: %s\n", a->root, corio_strerror(s.root));
        return corio_raise(s.root);
    }
    corio_stream_opts opts = {.limit = 8000}; /* request heads up to 8000 bytes */
    corio_server *server;
    int rc = corio_start_server(&server, a->host, a->port, handle_http, &s, &opts);
    if (rc < 0) {
        fprintf(stderr, "static_server: start_server: %s\n", corio_strerror(rc));
        corio_close(s.root);
        return corio_raise(rc);
    }
    printf("Serving %s on http://%s:%d/\n", a->root, a->host, corio_server_get_port(server));
    fflush(stdout);
    corio_server_serve_forever(server);
    corio_server_wait_closed(server);
    corio_server_free(server);
    corio_close(s.root);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: %s ROOT [port [host]]\n", argv[0]);
        return 2;
    }
    args a = {.root = argv[1], .port = argc > 2 ? atoi(argv[2]) : 8080,
              .host = argc > 3 ? argv[3] : "127.0.0.1"};
    return corio_run(main_task, &a, NULL, NULL) < 0;
}
