/* libFuzzer target for the strict HTTP/1.1 request parser of examples/http: the input is a
 * request (head, then body) as a peer would send it. Besides the sanitizers' checks, every
 * accepted head must satisfy what the parser promises (spans inside the input, names tokens,
 * values free of control bytes, one framing and the one that the headers state), and must parse
 * the same again once written out in canonical form; the body is then walked as the server does
 * (chunk lines, data, trailers), each chunk size checked against strtoull. A broken promise
 * aborts with the condition. */
#define _GNU_SOURCE /* memmem */
#include "http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_http_request: broken promise: %s\n", #cond);                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *base, *limit;

static int inside(http_span s) { return s.p >= base && s.p + s.n <= limit; }

static int is_ctl(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

static void check_head(const http_request *req) {
    CHECK(inside(req->method) && req->method.n > 0);
    CHECK(inside(req->target) && req->target.n > 0);
    for (size_t i = 0; i < req->target.n; i++)
        CHECK(req->target.p[i] > 0x20 && req->target.p[i] < 0x7f);
    CHECK(req->minor == 0 || req->minor == 1);
    CHECK(req->nheaders <= HTTP_MAX_HEADERS);
    size_t lengths = 0;
    for (size_t i = 0; i < req->nheaders; i++) {
        const http_header *h = &req->headers[i];
        CHECK(inside(h->name) && h->name.n > 0 && inside(h->value));
        for (size_t j = 0; j < h->name.n; j++)
            CHECK(!is_ctl((unsigned char)h->name.p[j]) && h->name.p[j] != ' ' &&
                  h->name.p[j] != ':');
        for (size_t j = 0; j < h->value.n; j++)
            CHECK(!is_ctl((unsigned char)h->value.p[j]));
        CHECK(h->value.n == 0 || (h->value.p[0] != ' ' && h->value.p[h->value.n - 1] != ' '));
        if (h->name.n == 14 && strncasecmp(h->name.p, "content-length", 14) == 0) {
            lengths++;
            char digits[32];
            CHECK(h->value.n < sizeof digits);
            memcpy(digits, h->value.p, h->value.n);
            digits[h->value.n] = 0;
            CHECK(req->body == HTTP_BODY_LENGTH &&
                  strtoull(digits, NULL, 10) == req->content_length);
        }
    }
    CHECK(lengths <= 1);
    CHECK(req->body != HTTP_BODY_CHUNKED || lengths == 0);
    CHECK(req->body != HTTP_BODY_LENGTH || lengths == 1);
}

/* Written out canonically (single spaces, no optional whitespace), the head parses the same. */
static void check_canonical(const http_request *req) {
    size_t cap = 64 + req->method.n + req->target.n;
    for (size_t i = 0; i < req->nheaders; i++)
        cap += req->headers[i].name.n + req->headers[i].value.n + 4;
    char *buf = malloc(cap), *p = buf;
    p += sprintf(p, "%.*s %.*s HTTP/1.%d\r\n", (int)req->method.n, req->method.p,
                 (int)req->target.n, req->target.p, req->minor);
    for (size_t i = 0; i < req->nheaders; i++)
        p += sprintf(p, "%.*s: %.*s\r\n", (int)req->headers[i].name.n, req->headers[i].name.p,
                     (int)req->headers[i].value.n, req->headers[i].value.p);
    p += sprintf(p, "\r\n");
    http_request again;
    const char *b = base, *l = limit;
    base = buf;
    limit = p;
    CHECK(http_parse_head(buf, (size_t)(p - buf), &again) == 0);
    check_head(&again);
    CHECK(again.body == req->body && again.content_length == req->content_length);
    CHECK(again.keep_alive == req->keep_alive && again.nheaders == req->nheaders);
    CHECK(again.expect_continue == req->expect_continue);
    base = b;
    limit = l;
    free(buf);
}

/* The next CRLF-terminated line of [*p, end), moving *p past it; 0 when there is none. */
static size_t line_at(const char **p, const char *end) {
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return 0;
    size_t n = (size_t)(nl + 1 - *p);
    *p = nl + 1;
    return n;
}

static void walk_chunks(const char *p, const char *end) {
    for (;;) {
        const char *line = p;
        size_t n = line_at(&p, end);
        uint64_t size;
        if (!n || http_parse_chunk_line(line, n, &size) != 0)
            return;
        char hexd[20];
        size_t k = 0;
        while (k < n && k < sizeof hexd - 1 && strchr("0123456789abcdefABCDEF", line[k]) &&
               line[k])
            hexd[k] = line[k], k++;
        hexd[k] = 0;
        if (k < sizeof hexd - 1) /* short enough to compare with the C library's reading */
            CHECK(strtoull(hexd, NULL, 16) == size);
        if (size == 0)
            break;
        if (size > (uint64_t)(end - p) || (uint64_t)(end - p) - size < 2)
            return;
        p += size;
        if (p[0] != '\r' || p[1] != '\n')
            return;
        p += 2;
    }
    for (;;) {
        const char *line = p;
        size_t n = line_at(&p, end);
        if (!n || (n == 2 && line[0] == '\r') || http_parse_trailer_line(line, n) != 0)
            return;
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    const char *in = (const char *)data;
    base = in;
    limit = in + size;
    const char *end = size >= 4 ? memmem(in, size, "\r\n\r\n", 4) : NULL;
    size_t head = end ? (size_t)(end + 4 - in) : size;
    http_request req;
    int rc = http_parse_head(in, head, &req);
    CHECK(rc == 0 || rc == HTTP_EMPTY || rc == 400 || rc == 417 || rc == 431 || rc == 501 ||
          rc == 505);
    if (rc != 0)
        return 0;
    CHECK(end != NULL); /* a head is accepted only with its blank line */
    check_head(&req);
    check_canonical(&req);
    if (req.body == HTTP_BODY_CHUNKED)
        walk_chunks(in + head, in + size);
    return 0;
}
