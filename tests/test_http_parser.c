/* The strict HTTP/1.1 request parser of examples/http (issue 18): what RFC 9112 and 9110 say a
 * request head, a chunk-size line and a trailer line must be, request by request. Each hostile
 * shape that examples/http_hello used to read wrongly (a second Content-Length, chunked bodies
 * taken for requests, Content-Length -1 or 10^23, a NUL before the first CR) is here with the
 * status it must get. */
#include "http/request.h"

#include <criterion/criterion.h>
#include <string.h>

typedef struct head_case {
    const char *why;
    const char *head;
    int status;
} head_case;

static int parse(const char *head, http_request *req)
{
    return http_parse_head(head, strlen(head), req);
}

static void expect_statuses(const head_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        http_request req;
        int got = parse(cases[i].head, &req);
        cr_expect_eq(got, cases[i].status, "%s: got %d, want %d", cases[i].why, got,
                     cases[i].status);
    }
}

#define H11 "GET / HTTP/1.1\r\nHost: x\r\n"

Test(http_parser, a_plain_request, .timeout = 10)
{
    http_request req;
    const char *head = "GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nX-Empty:\r\n"
                       "Accept:  text/plain \t\r\n\r\n";
    cr_assert_eq(parse(head, &req), 0);
    cr_expect_eq(req.method.n, 3);
    cr_expect(memcmp(req.method.p, "GET", 3) == 0);
    cr_expect_eq(req.target.n, 6);
    cr_expect(memcmp(req.target.p, "/a?b=c", 6) == 0);
    cr_expect_eq(req.minor, 1);
    cr_expect_eq(req.nheaders, 3);
    cr_expect_eq(req.body, HTTP_BODY_NONE);
    cr_expect_eq(req.keep_alive, 1);
    const http_span *v = http_find_header(&req, "ACCEPT");
    cr_assert_not_null(v);
    cr_expect_eq(v->n, 10, "trimmed on both sides");
    cr_expect(memcmp(v->p, "text/plain", 10) == 0);
    v = http_find_header(&req, "x-empty");
    cr_assert_not_null(v);
    cr_expect_eq(v->n, 0);
    cr_expect_null(http_find_header(&req, "missing"));
}

Test(http_parser, framing_by_content_length_and_chunked, .timeout = 10)
{
    http_request req;
    cr_assert_eq(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n\r\n", &req), 0);
    cr_expect_eq(req.body, HTTP_BODY_LENGTH);
    cr_expect_eq(req.content_length, 42);
    cr_assert_eq(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999999\r\n\r\n",
                       &req), 0);
    cr_expect_eq(req.content_length, 999999999999999999ull, "18 digits");
    cr_assert_eq(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n", &req),
                 0);
    cr_expect_eq(req.body, HTTP_BODY_CHUNKED);
    cr_assert_eq(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked,\r\n\r\n", &req),
                 0, "empty list elements are allowed");
    cr_expect_eq(req.body, HTTP_BODY_CHUNKED);
}

Test(http_parser, the_connection_persists_or_not, .timeout = 10)
{
    http_request req;
    cr_assert_eq(parse(H11 "Connection: Close\r\n\r\n", &req), 0);
    cr_expect_eq(req.keep_alive, 0);
    cr_assert_eq(parse(H11 "Connection: upgrade, close\r\n\r\n", &req), 0);
    cr_expect_eq(req.keep_alive, 0);
    cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n", &req), 0, "HTTP/1.0 needs no Host");
    cr_expect_eq(req.minor, 0);
    cr_expect_eq(req.keep_alive, 0, "HTTP/1.0 closes by default");
    cr_assert_eq(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &req), 0);
    cr_expect_eq(req.keep_alive, 1);
    cr_assert_eq(parse("GET / HTTP/1.7\r\nHost: x\r\n\r\n", &req), 0, "a later 1.x is read as 1.1");
    cr_expect_eq(req.minor, 1);
    cr_assert_eq(parse(H11 "Expect: 100-Continue\r\n\r\n", &req), 0);
    cr_expect_eq(req.expect_continue, 1);
}

Test(http_parser, blank_lines_before_a_request_are_skipped, .timeout = 10)
{
    http_request req;
    cr_expect_eq(parse("\r\n\r\n", &req), HTTP_EMPTY);
    cr_expect_eq(parse("\r\n" H11 "\r\n", &req), 0);
    cr_expect_eq(parse("", &req), HTTP_EMPTY);
}

/* The shapes issue 18 found examples/http_hello reading wrongly. */
Test(http_parser, the_hostile_shapes_of_issue_18, .timeout = 10)
{
    static const head_case cases[] = {
        {"duplicate Content-Length", H11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400},
        {"duplicate equal Content-Length", H11 "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 400},
        {"Content-Length list", H11 "Content-Length: 5, 5\r\n\r\n", 400},
        {"CL.TE", H11 "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"TE.CL", H11 "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n", 400},
        {"Content-Length -1", H11 "Content-Length: -1\r\n\r\n", 400},
        {"Content-Length 10^23", H11 "Content-Length: 100000000000000000000000\r\n\r\n", 400},
        {"Content-Length 19 digits", H11 "Content-Length: 1000000000000000000\r\n\r\n", 400},
        {"Content-Length +5", H11 "Content-Length: +5\r\n\r\n", 400},
        {"Content-Length 0x10", H11 "Content-Length: 0x10\r\n\r\n", 400},
        {"Content-Length empty", H11 "Content-Length:\r\n\r\n", 400},
        {"Content-Length with inner space", H11 "Content-Length: 1 2\r\n\r\n", 400},
        {"NUL before the first CR", "GET /\0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
         400},
    };
    expect_statuses(cases, sizeof cases / sizeof *cases);
    /* The NUL case again with its real length (strlen stops at the NUL). */
    static const char nul[] = "GET / HTTP/1.1\r\nHost: x\0\r\nConnection: close\r\n\r\n";
    http_request req;
    cr_expect_eq(http_parse_head(nul, sizeof nul - 1, &req), 400, "NUL in a value");
    static const char nul2[] = "GET /\0x HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_expect_eq(http_parse_head(nul2, sizeof nul2 - 1, &req), 400, "NUL in the target");
}

Test(http_parser, transfer_codings, .timeout = 10)
{
    static const head_case cases[] = {
        {"gzip then chunked: not implemented", H11 "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"gzip then chunked on two lines", H11 "Transfer-Encoding: gzip\r\n"
                                               "Transfer-Encoding: chunked\r\n\r\n", 501},
        {"chunked not last", H11 "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
        {"gzip alone", H11 "Transfer-Encoding: gzip\r\n\r\n", 400},
        {"chunked twice", H11 "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
        {"chunked twice on two lines", H11 "Transfer-Encoding: chunked\r\n"
                                           "Transfer-Encoding: chunked\r\n\r\n", 400},
        {"empty", H11 "Transfer-Encoding:\r\n\r\n", 400},
        {"chunked-false (TE.TE)", H11 "Transfer-Encoding: chunked-false\r\n\r\n", 400},
        {"xchunked (TE.TE)", H11 "Transfer-Encoding: xchunked\r\n\r\n", 400},
        {"in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
    };
    expect_statuses(cases, sizeof cases / sizeof *cases);
}

Test(http_parser, malformed_heads, .timeout = 10)
{
    static const head_case cases[] = {
        {"bare LF ending a line", "GET / HTTP/1.1\nHost: x\r\n\r\n", 400},
        {"bare LF ending the head", H11 "\n\r\n", 400},
        {"bare CR in a value", H11 "X: a\rb\r\n\r\n", 400},
        {"bare CR in the request line", "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"space before the colon", H11 "Content-Length : 5\r\n\r\n", 400},
        {"tab before the colon", H11 "X\t: 5\r\n\r\n", 400},
        {"obs-fold", H11 "X: a\r\n b\r\n\r\n", 400},
        {"no colon", H11 "X-no-colon\r\n\r\n", 400},
        {"empty name", H11 ": v\r\n\r\n", 400},
        {"DEL in a value", H11 "X: a\x7f\r\n\r\n", 400},
        {"control byte in a value", H11 "X: a\x01\r\n\r\n", 400},
        {"two spaces after the method", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"no target", "GET HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"HTTP/0.9 style", "GET /\r\n\r\n", 400},
        {"lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400},
        {"version with junk", "GET / HTTP/1.1x\r\nHost: x\r\n\r\n", 400},
        {"version 1.10", "GET / HTTP/1.10\r\nHost: x\r\n\r\n", 400},
        {"trailing space after the version", "GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400},
        {"method with a slash", "G/ET / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        {"no blank line", "GET / HTTP/1.1\r\nHost: x\r\n", 400},
        {"bytes after the blank line", H11 "\r\nX", 400},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
        {"HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505},
        {"no Host in HTTP/1.1", "GET / HTTP/1.1\r\n\r\n", 400},
        {"two Hosts", H11 "Host: y\r\n\r\n", 400},
        {"a Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"a Host with a slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        {"Expect other than 100-continue", H11 "Expect: 200-ok\r\n\r\n", 417},
    };
    expect_statuses(cases, sizeof cases / sizeof *cases);
}

Test(http_parser, too_many_header_lines, .timeout = 10)
{
    char head[4096] = H11;
    for (int i = 0; i < HTTP_MAX_HEADERS - 1; i++)
        strcat(head, "X: y\r\n");
    strcat(head, "\r\n");
    http_request req;
    cr_expect_eq(parse(head, &req), 0, "HTTP_MAX_HEADERS lines fit");
    head[strlen(head) - 2] = 0;
    strcat(head, "X: y\r\n\r\n");
    cr_expect_eq(parse(head, &req), 431, "one more does not");
}

static int chunk(const char *line, uint64_t *size)
{
    return http_parse_chunk_line(line, strlen(line), size);
}

Test(http_parser, chunk_size_lines, .timeout = 10)
{
    uint64_t n = 1;
    cr_expect_eq(chunk("0\r\n", &n), 0);
    cr_expect_eq(n, 0);
    cr_expect_eq(chunk("1aF\r\n", &n), 0);
    cr_expect_eq(n, 0x1af);
    cr_expect_eq(chunk("00000000000000000000010\r\n", &n), 0, "leading zeros");
    cr_expect_eq(n, 16);
    cr_expect_eq(chunk("ffffffffffffffff\r\n", &n), 0);
    cr_expect_eq(n, UINT64_MAX);
    cr_expect_eq(chunk("5;name\r\n", &n), 0);
    cr_expect_eq(chunk("5 ; name = value ; other=\"q \\\" s\"\r\n", &n), 0);
    cr_expect_eq(n, 5);
    static const char *bad[] = {
        "\r\n", "g\r\n", "-1\r\n", "0x5\r\n", "10000000000000000\r\n", "5\n", "5\r", "5\r\r\n",
        "5;\r\n", "5;=v\r\n", "5;a=\r\n", "5;a=\"open\r\n", "5 x\r\n", "5;a b\r\n", "5\r\nX",
        "5;a=\"\x01\"\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect_eq(chunk(bad[i], &n), 400, "bad chunk line %zu", i);
    static const char nul[] = "5\0\r\n";
    cr_expect_eq(http_parse_chunk_line(nul, sizeof nul - 1, &n), 400, "NUL");
}

Test(http_parser, trailer_lines, .timeout = 10)
{
    cr_expect_eq(http_parse_trailer_line("X-Sum: 12\r\n", 11), 0);
    cr_expect_eq(http_parse_trailer_line("X-Sum : 12\r\n", 12), 400);
    cr_expect_eq(http_parse_trailer_line(" folded\r\n", 9), 400);
    cr_expect_eq(http_parse_trailer_line("X: a\nb\r\n", 8), 400);
    cr_expect_eq(http_parse_trailer_line("X: a", 4), 400);
}

Test(http_parser, reasons, .timeout = 10)
{
    cr_expect_str_eq(http_reason(400), "Bad Request");
    cr_expect_str_eq(http_reason(501), "Not Implemented");
    cr_expect_str_eq(http_reason(431), "Request Header Fields Too Large");
}
