/* HTTP/1.1 requests over a corio stream: heads, bodies (by length or chunked), error replies. */
#include "serve.h"

#include <stdio.h>
#include <string.h>

int http_read_head(corio_reader *r, http_request *req) {
    for (;;) {
        const char *head;
        size_t len;
        ssize_t n = corio_reader_readuntil(r, "\r\n\r\n", 4, &head, &len);
        if (n == CORIO_ELIMIT)
            return 431;
        if (n == CORIO_EINCOMPLETE)
            return len ? 400 : HTTP_END; /* a head cut short, or a clean end */
        if (n < 0)
            return (int)n;
        int status = http_parse_head(head, (size_t)n, req);
        if (status != HTTP_EMPTY)
            return status;
    }
}

/* Drops n bytes of body. */
static int skip(corio_reader *r, uint64_t n) {
    char buf[4096];
    while (n) {
        ssize_t k = corio_reader_read(r, buf, n < sizeof buf ? (size_t)n : sizeof buf);
        if (k <= 0)
            return k == 0 ? 400 : (int)k; /* EOF inside the body */
        n -= (uint64_t)k;
    }
    return 0;
}

/* One CRLF-terminated line of a chunked body: a status for a line over the limit or cut short. */
static int chunk_line(corio_reader *r, const char **line, size_t *len) {
    ssize_t n = corio_reader_readuntil(r, "\r\n", 2, line, len);
    if (n == CORIO_ELIMIT || n == CORIO_EINCOMPLETE)
        return 400;
    return n < 0 ? (int)n : 0;
}

static int chunked(corio_reader *r) {
    const char *line;
    size_t len;
    uint64_t size;
    for (;;) {
        int rc = chunk_line(r, &line, &len);
        if (rc == 0)
            rc = http_parse_chunk_line(line, len, &size);
        if (rc == 0 && size)
            rc = skip(r, size);
        if (rc)
            return rc;
        if (!size)
            break;
        char crlf[2];
        ssize_t n = corio_reader_readexactly(r, crlf, 2, NULL);
        if (n == CORIO_EINCOMPLETE || (n == 2 && memcmp(crlf, "\r\n", 2) != 0))
            return 400;
        if (n < 0)
            return (int)n;
    }
    for (int lines = 0;; lines++) { /* the trailer section, up to its blank line */
        int rc = chunk_line(r, &line, &len);
        if (rc)
            return rc;
        if (len == 2)
            return 0;
        if (lines == HTTP_MAX_HEADERS)
            return 431;
        if (http_parse_trailer_line(line, len))
            return 400;
    }
}

int http_discard_body(corio_reader *r, corio_writer *w, const http_request *req) {
    if (req->body == HTTP_BODY_NONE ||
        (req->body == HTTP_BODY_LENGTH && req->content_length == 0))
        return 0;
    if (req->expect_continue) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        int rc = corio_writer_write(w, cont, sizeof cont - 1);
        if (rc < 0)
            return rc;
    }
    return req->body == HTTP_BODY_CHUNKED ? chunked(r) : skip(r, req->content_length);
}

void http_send_error(corio_writer *w, int status) {
    char buf[128];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status,
                     http_reason(status));
    corio_writer_write(w, buf, (size_t)n);
}
