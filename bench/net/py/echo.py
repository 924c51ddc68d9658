"""The network benchmark's echo server on asyncio (or uvloop with --uvloop): see common.py.

    /usr/bin/python3 bench/net/py/echo.py [--uvloop] [port]
"""
import asyncio

from common import nodelay, serve


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        nodelay(transport)

    def data_received(self, data):
        self.transport.write(data)


if __name__ == "__main__":
    serve(Echo, __doc__)
