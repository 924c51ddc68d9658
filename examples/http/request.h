/* A strict HTTP/1.1 request parser (RFC 9112), shared by the HTTP examples, their tests and the
 * fuzz target fuzz/fuzz_http_request.c. Pure C: no I/O, no allocation; examples/http/serve.h
 * drives it over a corio stream.
 *
 * Strict means that every message whose framing a lenient parser might read one way and a proxy
 * another is refused: duplicate or malformed Content-Length, Transfer-Encoding with
 * Content-Length, a transfer coding list that does not end in chunked, bare CR or LF, NUL or any
 * other control byte in the head, whitespace before a field's colon, obs-fold. Each is answered
 * 400 (or 501 for a transfer coding this server does not implement) and the connection closed:
 * the shapes of request smuggling (CL.TE, TE.CL, TE.TE) have nowhere to go. */
#ifndef CORIO_EXAMPLES_HTTP_REQUEST_H
#define CORIO_EXAMPLES_HTTP_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS 64 /* header (or trailer) lines per request; more: 431 */
#define HTTP_EMPTY 1        /* http_parse_head: the head was only blank lines */

typedef struct http_span {
    const char *p;
    size_t n;
} http_span;

typedef struct http_header {
    http_span name, value; /* value without its leading and trailing whitespace */
} http_header;

enum { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED };

typedef struct http_request {
    http_span method, target;
    int minor; /* HTTP/1.<minor>, 0 or 1 (a higher minor is read as 1, as RFC 9110 says) */
    http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
    int body;                /* HTTP_BODY_* */
    uint64_t content_length; /* HTTP_BODY_LENGTH */
    int keep_alive;          /* another request may follow on the connection */
    int expect_continue;     /* Expect: 100-continue */
} http_request;

/* Parses a request head: buf[0..len) is the request line and the header lines, each ending in
 * CRLF, then the blank line that ends the head (what readuntil("\r\n\r\n") returns). Blank
 * lines before the request line are skipped (RFC 9112 2.2). The spans in *req point into buf.
 * Returns 0; HTTP_EMPTY when there were only blank lines; or the status to answer before closing
 * the connection: 400 (malformed, or framing that is ambiguous), 417 (an Expect other than
 * 100-continue), 431 (more than HTTP_MAX_HEADERS lines), 501 (a transfer coding other than
 * chunked), 505 (an HTTP major version other than 1). */
int http_parse_head(const char *buf, size_t len, http_request *req);

/* A chunk's size line, CRLF included ("1a;name=value\r\n"). Returns 0 with *size set, or 400. */
int http_parse_chunk_line(const char *line, size_t len, uint64_t *size);

/* A trailer field line, CRLF included, checked as a header line is. Returns 0 or 400. */
int http_parse_trailer_line(const char *line, size_t len);

/* The value of the first header named `name` (case-insensitive), or NULL. */
const http_span *http_find_header(const http_request *req, const char *name);

/* The reason phrase of a status this parser returns, and of 200. */
const char *http_reason(int status);

#endif
