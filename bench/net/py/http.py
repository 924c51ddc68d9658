"""The network benchmark's HTTP hello server on asyncio (or uvloop with --uvloop): see common.py.

Does what bench/net/epoll_http.c does: a fixed "Hello, World!" response to every complete
request read (a request ends at an empty line; GET without a body, as wrk sends), keep-alive,
pipelining-safe (the start of an incomplete request is kept for the next read).

    /usr/bin/python3 bench/net/py/http.py [--uvloop] [port]
"""
import asyncio

from common import nodelay, serve

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
            b"Hello, World!")
BUF_SIZE = 16384  # a request larger than this closes the connection, as in the C servers


class Hello(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.pending = b""
        nodelay(transport)

    def data_received(self, data):
        buf = self.pending + data if self.pending else data
        reqs = buf.count(b"\r\n\r\n")
        if reqs == 0:
            if len(buf) >= BUF_SIZE:
                self.transport.close()
            self.pending = buf
            return
        self.pending = buf[buf.rfind(b"\r\n\r\n") + 4:]
        self.transport.write(RESPONSE if reqs == 1 else RESPONSE * reqs)


if __name__ == "__main__":
    serve(Hello, __doc__)
