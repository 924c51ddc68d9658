/* libFuzzer target: the stream reader (read, readexactly, readuntil, readline) against a
 * reference model, over fuzzer-chosen limits, operations and chunkings.
 *
 * Input layout (missing bytes read as 0):
 *   limit: 2 bytes (1 + value % 320, so that lines overrun it often)
 *   nops: 1 byte (1 + value % 24), then each operation:
 *     kind: 1 byte (% 4): 0 read n, 1 readexactly n (n: 2 bytes each), 2 readline,
 *           3 readuntil (seplen: 1 byte, 1 + value % 4, then seplen separator bytes)
 *   nchunks: 1 byte (% 32), then nchunks chunk sizes of 1 byte each (1 + value)
 *   the rest: the byte stream, split into those chunks (the remainder is one last chunk).
 *
 * A feeder task writes the chunks into one end of a socketpair, one at a time: it waits until
 * the reader has taken each from the socket before writing the next, so a chunk boundary can
 * fall anywhere, inside a separator too. The reader task wraps the other end with
 * corio_stream_new and runs the operations; the model knows the whole stream and checks
 * each result. Where asyncio's own result depends on how much had arrived (the `consumed` of a
 * limit overrun, what a short read returns), the model checks the bounds and the bytes, and
 * follows the reader's position, observed as bytes received minus bytes still buffered. */
#include "fuzz_pair.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_OPS 24
#define MAX_CHUNKS 32
#define FEED_SPINS 100000 /* loop turns a chunk may stay unread before the target gives up */

enum { OP_READ, OP_EXACTLY, OP_LINE, OP_UNTIL };

typedef struct op {
    int kind;
    size_t n;
    unsigned char sep[4];
    size_t seplen;
} op;

typedef struct input {
    size_t limit;
    op ops[MAX_OPS];
    size_t nops;
    size_t chunks[MAX_CHUNKS + 1];
    size_t nchunks;
    const unsigned char *s; /* the stream */
    size_t len;
} input;

typedef struct run {
    const input *in;
    int rfd, wfd;
    size_t written;  /* bytes the feeder has written */
    int reader_done; /* the reader has released its stream (rfd is closed) */
} run;

#define CHECK(cond) FUZZ_CHECK("fuzz_stream_reader: model mismatch", cond)

/* ---- input decoding ---- */

typedef struct cursor {
    const uint8_t *p;
    size_t left;
} cursor;

static unsigned byte(cursor *c) {
    if (!c->left)
        return 0;
    c->left--;
    return *c->p++;
}

static unsigned u16(cursor *c) {
    unsigned lo = byte(c);
    return lo | byte(c) << 8;
}

static void decode(const uint8_t *data, size_t size, input *in) {
    cursor c = {data, size};
    in->limit = 1 + u16(&c) % 320;
    in->nops = 1 + byte(&c) % MAX_OPS;
    for (size_t i = 0; i < in->nops; i++) {
        op *o = &in->ops[i];
        o->kind = (int)(byte(&c) % 4);
        if (o->kind == OP_READ || o->kind == OP_EXACTLY) {
            o->n = u16(&c);
        } else if (o->kind == OP_UNTIL) {
            o->seplen = 1 + byte(&c) % 4;
            for (size_t k = 0; k < o->seplen; k++)
                o->sep[k] = (unsigned char)byte(&c);
        }
    }
    size_t nsizes = byte(&c) % MAX_CHUNKS;
    size_t sizes[MAX_CHUNKS];
    for (size_t i = 0; i < nsizes; i++)
        sizes[i] = 1 + byte(&c);
    in->s = c.p;
    in->len = c.left;
    size_t at = 0;
    in->nchunks = 0;
    for (size_t i = 0; i < nsizes && at < in->len; i++) {
        size_t n = sizes[i] < in->len - at ? sizes[i] : in->len - at;
        in->chunks[in->nchunks++] = n;
        at += n;
    }
    if (at < in->len)
        in->chunks[in->nchunks++] = in->len - at;
}

/* ---- the feeder ---- */

static int unread_in_socket(const run *rn) {
    int n = 0;
    if (rn->reader_done || ioctl(rn->rfd, FIONREAD, &n) < 0)
        return 0;
    return n;
}

static void *feeder(void *arg) {
    run *rn = arg;
    const input *in = rn->in;
    size_t at = 0;
    for (size_t i = 0; i < in->nchunks && !rn->reader_done; i++) {
        /* Small inputs fit the socket buffer: the send never waits. */
        ssize_t n = send(rn->wfd, in->s + at, in->chunks[i], MSG_NOSIGNAL | MSG_DONTWAIT);
        CHECK(n == (ssize_t)in->chunks[i]);
        at += in->chunks[i];
        rn->written = at;
        long spins = 0;
        while (unread_in_socket(rn) > 0) {
            CHECK(++spins < FEED_SPINS);
            CHECK(corio_sleep(0) == 0);
        }
    }
    close(rn->wfd); /* EOF */
    return NULL;
}

/* ---- the reader and the model ---- */

/* Where the reader stands in the stream: bytes it received minus bytes still buffered. */
static size_t observed_pos(const run *rn, corio_reader *r) {
    return rn->written - (size_t)unread_in_socket(rn) - corio_reader_buffered(r);
}

/* Index of the first sep in s[from, len) relative to from, or -1. */
static long find(const input *in, size_t from, const unsigned char *sep, size_t seplen) {
    if (in->len - from < seplen)
        return -1;
    for (size_t i = from; i + seplen <= in->len; i++)
        if (!memcmp(in->s + i, sep, seplen))
            return (long)(i - from);
    return -1;
}

static void check_read(const input *in, corio_reader *r, const op *o, size_t *pos) {
    static unsigned char buf[65536];
    ssize_t got = corio_reader_read(r, buf, o->n);
    size_t left = in->len - *pos;
    if (!o->n || !left) {
        CHECK(got == 0);
        return;
    }
    CHECK(got >= 1 && (size_t)got <= o->n && (size_t)got <= left);
    CHECK(!memcmp(buf, in->s + *pos, (size_t)got));
    *pos += (size_t)got;
}

static void check_exactly(const input *in, corio_reader *r, const op *o, size_t *pos) {
    unsigned char *buf = malloc(o->n ? o->n : 1);
    CHECK(buf);
    size_t partial = (size_t)-1;
    ssize_t got = corio_reader_readexactly(r, buf, o->n, &partial);
    size_t left = in->len - *pos;
    if (left >= o->n) {
        CHECK(got == (ssize_t)o->n && partial == o->n);
    } else {
        CHECK(got == CORIO_EINCOMPLETE && partial == left);
    }
    CHECK(!memcmp(buf, in->s + *pos, partial));
    *pos += partial;
    free(buf);
}

/* readuntil and readline: the same search, different handling of a limit overrun. */
static void check_until(const run *rn, corio_reader *r, const op *o, size_t *pos) {
    const input *in = rn->in;
    int line = o->kind == OP_LINE;
    const unsigned char *sep = line ? (const unsigned char *)"\n" : o->sep;
    size_t seplen = line ? 1 : o->seplen;
    const char *chunk = NULL;
    size_t len = (size_t)-1;
    ssize_t got;
    if (line) {
        got = corio_reader_readline(r, &chunk);
    } else {
        got = corio_reader_readuntil(r, sep, seplen, &chunk, &len);
    }
    size_t left = in->len - *pos;
    long isep = find(in, *pos, sep, seplen);
    /* With no separator, the last scan sees all that is left: offset = left + 1 - seplen. */
    size_t last_offset = left + 1 > seplen ? left + 1 - seplen : 0;
    int overrun = isep >= 0 ? (size_t)isep > in->limit : last_offset > in->limit;
    if (!overrun && isep >= 0) {
        size_t want = (size_t)isep + seplen;
        CHECK(got == (ssize_t)want && (line || len == want));
        CHECK(!memcmp(chunk, in->s + *pos, want));
        *pos += want;
    } else if (!overrun) {
        if (line) {
            CHECK(got == (ssize_t)left);
        } else {
            CHECK(got == CORIO_EINCOMPLETE && len == left);
        }
        CHECK(!left || !memcmp(chunk, in->s + *pos, left));
        *pos = in->len;
    } else if (!line) {
        /* asyncio's `consumed`: where the search stopped, past the limit, not past the
         * separator (or the last place one could start); nothing is consumed. */
        size_t most = isep >= 0 ? (size_t)isep : last_offset;
        CHECK(got == CORIO_ELIMIT && len > in->limit && len <= most);
        CHECK(corio_reader_buffered(r) >= len);
        CHECK(!memcmp(chunk, in->s + *pos, len));
    } else {
        /* readline drops the line through its newline if it had come, else all it buffered. */
        CHECK(got == CORIO_ELIMIT && chunk == NULL);
        size_t now = observed_pos(rn, r);
        if (isep >= 0 && now == *pos + (size_t)isep + 1) {
            *pos = now;
            return;
        }
        size_t most = isep >= 0 ? (size_t)isep : left;
        CHECK(corio_reader_buffered(r) == 0);
        CHECK(now > *pos + in->limit && now <= *pos + most);
        *pos = now;
    }
}

static void *reader(void *arg) {
    run *rn = arg;
    const input *in = rn->in;
    corio_stream_opts opts = {.limit = in->limit};
    corio_reader *r;
    corio_writer *w;
    CHECK(corio_stream_new(&r, &w, NULL, rn->rfd, &opts) == 0);
    CHECK(corio_reader_get_limit(r) == in->limit);
    size_t pos = 0;
    for (size_t i = 0; i < in->nops; i++) {
        const op *o = &in->ops[i];
        switch (o->kind) {
        case OP_READ:
            check_read(in, r, o, &pos);
            break;
        case OP_EXACTLY:
            check_exactly(in, r, o, &pos);
            break;
        default:
            check_until(rn, r, o, &pos);
            break;
        }
        CHECK(observed_pos(rn, r) == pos);
        CHECK(!corio_reader_at_eof(r) || pos == in->len);
    }
    rn->reader_done = 1;
    CHECK(corio_stream_free(r, w) == 0);
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    input in;
    decode(data, size, &in);
    run rn = {.in = &in};
    fuzz_pair_run(&rn.rfd, &rn.wfd, reader, feeder, &rn);
    return 0;
}
