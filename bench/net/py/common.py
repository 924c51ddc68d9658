"""What the network benchmark's Python servers share (bench/net/py/echo.py and http.py).

The servers are written with asyncio Protocols (loop.create_server), asyncio's fastest path: the
loop calls data_received with the bytes it read, with no StreamReader, no task per connection
and no await per message. With --uvloop the same code runs on uvloop (uvloop.install()).

Same contract as the C servers (bench/net/net_util.h): 127.0.0.1, port from the first argument
(default 0: any), a backlog of 4096, prints "port <n>" once listening, TCP_NODELAY on every
connection (asyncio's default; set again for uvloop's sake).
"""
import argparse
import asyncio
import socket


def nodelay(transport):
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def serve(protocol, description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop")
    ap.add_argument("port", nargs="?", type=int, default=0)
    args = ap.parse_args()
    if args.uvloop:
        import uvloop
        uvloop.install()

    async def main():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(protocol, "127.0.0.1", args.port, backlog=4096)
        print("port", server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())
