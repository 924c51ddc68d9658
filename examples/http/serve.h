/* Reading HTTP/1.1 requests from a corio stream with the strict parser of request.h: the pieces
 * an HTTP example's connection handler is made of. Each call returns 0, a status to answer
 * before closing the connection (400, 417, 431, 501, 505: send it with http_send_error), or a
 * negative corio error (the connection is gone: just return). */
#ifndef CORIO_EXAMPLES_HTTP_SERVE_H
#define CORIO_EXAMPLES_HTTP_SERVE_H

#include "request.h"

#include <corio.h>

#define HTTP_END 1 /* http_read_head: the peer closed the connection between requests */

/* Awaits the next request's head, read as one message (so the server's header_timeout bounds
 * all of it) and bounded by the reader's limit (over it: 431). The spans in *req point into the
 * reader's buffer: valid until the next call on r. Returns 0, HTTP_END, a status, or an error. */
int http_read_head(corio_reader *r, http_request *req);

/* Awaits the request's body and drops it: by Content-Length, or chunk by chunk (sizes, data,
 * trailers all checked), in pieces of at most 4 KiB, so a body of any size costs no memory.
 * Sends "100 Continue" first when the request expects it. Returns 0, a status, or an error. */
int http_discard_body(corio_reader *r, corio_writer *w, const http_request *req);

/* Writes a response with `status`, no body and Connection: close (the caller then returns,
 * which closes the connection once the response is sent). */
void http_send_error(corio_writer *w, int status);

#endif
