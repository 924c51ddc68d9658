/* The strict HTTP/1.1 request parser: the grammar of RFC 9112 sections 2-7 and RFC 9110 5.6,
 * with every leniency those allow ("MAY accept") declined. */
#include "request.h"

#include <string.h>

/* ---- characters (RFC 9110 5.6.2, 5.5) ---- */

static int is_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

/* A byte of a field value: VCHAR, obs-text, SP or HTAB; never a control byte or DEL. */
static int is_field_byte(unsigned char c) { return (c >= 0x20 && c != 0x7f) || c == '\t'; }

static int lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int span_is(http_span s, const char *lit) {
    size_t n = strlen(lit);
    if (s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)lit[i]))
            return 0;
    return 1;
}

static http_span trim(http_span s) {
    while (s.n && is_ows((unsigned char)s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_ows((unsigned char)s.p[s.n - 1]))
        s.n--;
    return s;
}

/* ---- lines ---- */

/* The next line of [*p, end) without its CRLF, moving *p past it. -1 if the line does not end
 * in CRLF, or holds a CR or LF of its own (a bare one: RFC 9112 2.2 lets a recipient refuse). */
static int next_line(const char **p, const char *end, http_span *line) {
    const char *s = *p;
    for (const char *q = s; q < end; q++) {
        if (*q == '\n')
            return -1;
        if (*q == '\r') {
            if (q + 1 >= end || q[1] != '\n')
                return -1;
            *line = (http_span){s, (size_t)(q - s)};
            *p = q + 2;
            return 0;
        }
    }
    return -1;
}

/* ---- the request line (RFC 9112 3) ---- */

/* A run of bytes that `ok` accepts, then the byte `stop`; the run must not be empty. */
static int take_until(http_span *line, int (*ok)(unsigned char), char stop, http_span *out) {
    size_t i = 0;
    while (i < line->n && ok((unsigned char)line->p[i]))
        i++;
    if (i == 0 || i >= line->n || line->p[i] != stop)
        return -1;
    *out = (http_span){line->p, i};
    line->p += i + 1;
    line->n -= i + 1;
    return 0;
}

static int is_target_byte(unsigned char c) { return c > 0x20 && c < 0x7f; }

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static int request_line(http_span line, http_request *req) {
    if (take_until(&line, is_tchar, ' ', &req->method) < 0 ||
        take_until(&line, is_target_byte, ' ', &req->target) < 0)
        return 400;
    const char *v = line.p;
    if (line.n != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit((unsigned char)v[5]) ||
        v[6] != '.' || !is_digit((unsigned char)v[7]))
        return 400;
    if (v[5] != '1')
        return 505;
    req->minor = v[7] == '0' ? 0 : 1;
    return 0;
}

/* ---- header lines (RFC 9112 5) ---- */

/* name ":" OWS value OWS, with no whitespace before the colon (RFC 9112 5.1: MUST reject). */
static int field_line(http_span line, http_header *h) {
    if (take_until(&line, is_tchar, ':', &h->name) < 0)
        return -1;
    for (size_t i = 0; i < line.n; i++)
        if (!is_field_byte((unsigned char)line.p[i]))
            return -1;
    h->value = trim(line);
    return 0;
}

/* What the framing headers said, gathered over every line before it is judged. */
typedef struct framing {
    int lengths, hosts, te, te_chunked, te_other, te_last_chunked, close, keep_alive;
    uint64_t length;
} framing;

/* Content-Length = 1*DIGIT (RFC 9110 8.6), and at most 18 of them: no overflow, no sign, no
 * list, no second field line (each of which some parser reads differently). */
static int content_length(http_span v, framing *f) {
    if (++f->lengths > 1 || v.n == 0 || v.n > 18)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (!is_digit((unsigned char)v.p[i]))
            return -1;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    f->length = n;
    return 0;
}

/* Calls fn on each element of a comma-separated list (RFC 9110 5.6.1), empty ones skipped. */
static void each_element(http_span v, framing *f, void (*fn)(http_span, framing *)) {
    while (v.n) {
        const char *comma = memchr(v.p, ',', v.n);
        size_t n = comma ? (size_t)(comma - v.p) : v.n;
        http_span e = trim((http_span){v.p, n});
        if (e.n)
            fn(e, f);
        v.p += comma ? n + 1 : n;
        v.n -= comma ? n + 1 : n;
    }
}

static void coding(http_span e, framing *f) {
    int chunked = span_is(e, "chunked");
    f->te_chunked += chunked;
    f->te_other += !chunked;
    f->te_last_chunked = chunked;
}

static void connection_option(http_span e, framing *f) {
    f->close |= span_is(e, "close");
    f->keep_alive |= span_is(e, "keep-alive");
}

/* Host = uri-host [ ":" port ] (RFC 9110 7.2): a reg-name, an IP literal in brackets or an IPv4
 * address, so only RFC 3986's unreserved, sub-delims, '%', ':', '[' and ']'. */
static int host_value(http_span v) {
    for (size_t i = 0; i < v.n; i++) {
        unsigned char c = (unsigned char)v.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
              (c && strchr("-._~!$&'()*+,;=%:[]", c))))
            return 0;
    }
    return 1;
}

/* Notes a header that decides framing or the connection. 0, or a status. */
static int known_header(const http_header *h, framing *f, http_request *req) {
    if (span_is(h->name, "content-length"))
        return content_length(h->value, f) < 0 ? 400 : 0;
    if (span_is(h->name, "transfer-encoding")) {
        f->te++;
        each_element(h->value, f, coding);
    } else if (span_is(h->name, "host")) {
        f->hosts++;
        if (!host_value(h->value))
            return 400;
    } else if (span_is(h->name, "connection")) {
        each_element(h->value, f, connection_option);
    } else if (span_is(h->name, "expect")) {
        if (!span_is(h->value, "100-continue"))
            return 417;
        req->expect_continue = 1;
    }
    return 0;
}

/* The body's framing (RFC 9112 6.1-6.3) and whether the connection persists (9.3). */
static int judge(const framing *f, http_request *req) {
    if (req->minor == 1 ? f->hosts != 1 : f->hosts > 1)
        return 400; /* RFC 9112 3.2: none in HTTP/1.1, or several */
    if (f->te) {
        /* With Content-Length, in HTTP/1.0, or not ending in one chunked: the length cannot be
         * known (6.1, 6.3): 400. A coding we do not implement: 501. */
        if (f->lengths || req->minor == 0 || !f->te_last_chunked || f->te_chunked != 1)
            return 400;
        if (f->te_other)
            return 501;
        req->body = HTTP_BODY_CHUNKED;
    } else if (f->lengths) {
        req->body = HTTP_BODY_LENGTH;
        req->content_length = f->length;
    }
    req->keep_alive = !f->close && (req->minor == 1 || f->keep_alive);
    return 0;
}

static int header_lines(const char **p, const char *end, http_request *req) {
    framing f = {0};
    http_span line;
    for (;;) {
        if (next_line(p, end, &line) < 0)
            return 400;
        if (line.n == 0)
            break;
        if (req->nheaders == HTTP_MAX_HEADERS)
            return 431;
        http_header *h = &req->headers[req->nheaders++];
        if (field_line(line, h) < 0)
            return 400; /* also obs-fold: a line starting with whitespace has no name */
        int status = known_header(h, &f, req);
        if (status)
            return status;
    }
    return *p == end ? judge(&f, req) : 400;
}

int http_parse_head(const char *buf, size_t len, http_request *req) {
    memset(req, 0, sizeof *req);
    const char *p = buf, *end = buf + len;
    while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    if (p == end)
        return HTTP_EMPTY;
    http_span line;
    if (next_line(&p, end, &line) < 0)
        return 400;
    int status = request_line(line, req);
    return status ? status : header_lines(&p, end, req);
}

/* ---- chunked bodies (RFC 9112 7.1) ---- */

static int hex(unsigned char c) {
    if (is_digit(c))
        return c - '0';
    c = (unsigned char)lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void skip_ows(http_span *s) {
    while (s->n && is_ows((unsigned char)s->p[0])) {
        s->p++;
        s->n--;
    }
}

/* quoted-string (RFC 9110 5.6.4): DQUOTE *( qdtext / quoted-pair ) DQUOTE. */
static int quoted(http_span *s) {
    size_t i = 1;
    while (i < s->n && s->p[i] != '"') {
        if (s->p[i] == '\\')
            i++;
        if (i >= s->n || !is_field_byte((unsigned char)s->p[i]))
            return -1;
        i++;
    }
    if (i >= s->n)
        return -1;
    s->p += i + 1;
    s->n -= i + 1;
    return 0;
}

static int token(http_span *s) {
    size_t i = 0;
    while (i < s->n && is_tchar((unsigned char)s->p[i]))
        i++;
    if (!i)
        return -1;
    s->p += i;
    s->n -= i;
    return 0;
}

/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) */
static int chunk_exts(http_span s) {
    for (;;) {
        skip_ows(&s);
        if (!s.n)
            return 0;
        if (s.p[0] != ';')
            return -1;
        s.p++;
        s.n--;
        skip_ows(&s);
        if (token(&s) < 0)
            return -1;
        skip_ows(&s);
        if (s.n && s.p[0] == '=') {
            s.p++;
            s.n--;
            skip_ows(&s);
            if (s.n && s.p[0] == '"' ? quoted(&s) < 0 : token(&s) < 0)
                return -1;
        }
    }
}

int http_parse_chunk_line(const char *buf, size_t len, uint64_t *size) {
    const char *p = buf;
    http_span line;
    if (next_line(&p, buf + len, &line) < 0 || p != buf + len)
        return 400;
    uint64_t n = 0;
    size_t i = 0;
    for (; i < line.n && hex((unsigned char)line.p[i]) >= 0; i++) {
        if (n >> 60)
            return 400; /* more than 2^64 - 1 */
        n = n << 4 | (uint64_t)hex((unsigned char)line.p[i]);
    }
    if (i == 0 || chunk_exts((http_span){line.p + i, line.n - i}) < 0)
        return 400;
    *size = n;
    return 0;
}

int http_parse_trailer_line(const char *buf, size_t len) {
    const char *p = buf;
    http_span line;
    http_header h;
    if (next_line(&p, buf + len, &line) < 0 || p != buf + len || field_line(line, &h) < 0)
        return 400;
    return 0;
}

const http_span *http_find_header(const http_request *req, const char *name) {
    for (size_t i = 0; i < req->nheaders; i++)
        if (span_is(req->headers[i].name, name))
            return &req->headers[i].value;
    return NULL;
}

const char *http_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}
