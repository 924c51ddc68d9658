"""The TLS benchmark's echo server on asyncio streams (or uvloop with --uvloop).

    /usr/bin/python3 bench/tls/tls_asyncio.py [--uvloop] CERTFILE KEYFILE PORT [--uvloop]

Listens on 127.0.0.1:PORT (TLS 1.3 only, session tickets as OpenSSL sends them by default),
prints "ready", and echoes what each connection sends until it closes. Both loops set
TCP_NODELAY and SO_REUSEADDR on their own.
"""
import asyncio
import os
import signal
import ssl
import sys


async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except OSError:  # ssl.SSLError and resets included: the client is gone either way
        pass
    finally:
        writer.close()


async def main(cert, key, port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Leaves at once: asyncio.run's cleanup would cancel every connection and may log.
        loop.add_signal_handler(sig, os._exit, 0)
    await asyncio.start_server(echo, "127.0.0.1", port, ssl=ctx, backlog=1024,
                               reuse_address=True)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--uvloop"]  # --uvloop may come anywhere
    if len(args) < len(sys.argv) - 1:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    if len(args) != 3:
        sys.exit(__doc__)
    asyncio.run(main(args[0], args[1], int(args[2])))
