"""The file-I/O benchmark on aiofiles (asyncio's default loop): the contract of every bench/fs program.

    /usr/bin/python3 bench/fs/fs_aiofiles.py files|seq|rand N INFLIGHT PATH

MODE files: PATH is a directory of 4096-byte files f00000, f00001, ... INFLIGHT workers take the
            next file number from a shared counter and read that file whole
            (async with aiofiles.open(..., 'rb') as f: await f.read()), until files 0..N-1 are
            done; each must give exactly 4096 bytes. Open, read and close are all timed.
MODE seq:   PATH is one file of N MiB, read with await f.read(1 << 20) until b'', one read at a
            time; the total must be N * 1048576 bytes. INFLIGHT is parsed but not used.
MODE rand:  PATH is one file of S bytes (a multiple of 4096). N positional reads of 4096 bytes at
            offsets from xorshift64 (state 42; see next_offset), INFLIGHT at a time, each worker
            starting its next read as soon as its last is back; each must return 4096 bytes.

In seq and rand the file is opened (aiofiles.open) and sized before the clock starts and closed
after it stops, so that only the reads are timed, as in the other programs.

aiofiles has no positional read, so rand uses aiofiles.os.wrap(os.pread) on the file's
descriptor: wrap is what aiofiles itself builds aiofiles.os.stat and the rest from (23.1.0,
Debian's python3-aiofiles), i.e. loop.run_in_executor(None, ...) on the default executor, where
aiofiles runs its file methods too. That is what an aiofiles user would write.

Every call goes through asyncio's default ThreadPoolExecutor (min(32, cpus + 4) threads), which
is what aiofiles uses out of the box, so it is left as it is.

Prints one line "aiofiles <mode> <n> <seconds>" (time.perf_counter, from just before the first
operation to the end of the last; the interpreter and the loop already up). Exits 1 on any
failure (an OSError, a short or long read, a wrong total), 2 on bad arguments.

Debian's /usr/bin/python3 (3.11) runs it, as python3-aiofiles is installed for that interpreter.
"""
import asyncio
import os
import sys
import time

import aiofiles
import aiofiles.os

BLOCK = 4096  # the size of every file of the files mode, and of every rand read
CHUNK = 1 << 20  # one seq read
MASK = 0xFFFFFFFFFFFFFFFF

pread = aiofiles.os.wrap(os.pread)


class Failure(Exception):
    pass


def usage():
    print("usage: fs_aiofiles.py files|seq|rand N INFLIGHT PATH", file=sys.stderr)
    sys.exit(2)


def parse(argv):
    if len(argv) != 4 or argv[0] not in ("files", "seq", "rand"):
        usage()
    try:
        n, inflight = int(argv[1]), int(argv[2])
    except ValueError:
        usage()
    if n < 1 or inflight < 1:
        usage()
    return argv[0], n, inflight, argv[3]


async def run_files(n, inflight, path):
    next_index = 0  # shared by the workers; the loop is one thread, so no lock is needed

    async def worker():
        nonlocal next_index
        while next_index < n:
            i = next_index
            next_index += 1
            async with aiofiles.open(os.path.join(path, f"f{i:05d}"), "rb") as f:
                data = await f.read()
            if len(data) != BLOCK:
                raise Failure(f"file {i}: read {len(data)} bytes, not {BLOCK}")

    t0 = time.perf_counter()
    # The first failure propagates; asyncio.run cancels the other workers on the way out.
    await asyncio.gather(*(worker() for _ in range(min(inflight, n))))
    return time.perf_counter() - t0


async def run_seq(n, path):
    async with aiofiles.open(path, "rb") as f:
        total = 0
        t0 = time.perf_counter()
        while True:
            data = await f.read(CHUNK)
            if not data:
                break
            total += len(data)
        elapsed = time.perf_counter() - t0
    if total != n * CHUNK:
        raise Failure(f"{path}: read {total} bytes, not {n * CHUNK}")
    return elapsed


async def run_rand(n, inflight, path):
    async with aiofiles.open(path, "rb") as f:
        fd = f.fileno()
        size = os.fstat(fd).st_size
        if size < BLOCK or size % BLOCK:
            raise Failure(f"{path}: size {size} is not a positive multiple of {BLOCK}")
        blocks = size // BLOCK
        state = 42
        started = 0

        # xorshift64 (13, 7, 17): the same sequence of offsets in every program.
        def next_offset():
            nonlocal state
            x = state
            x ^= (x << 13) & MASK
            x ^= x >> 7
            x ^= (x << 17) & MASK
            state = x
            return (x % blocks) * BLOCK

        async def worker():
            nonlocal started
            while started < n:
                i = started
                started += 1
                off = next_offset()  # drawn as the read starts, in order
                data = await pread(fd, BLOCK, off)
                if len(data) != BLOCK:
                    raise Failure(f"read {i} at {off}: {len(data)} bytes, not {BLOCK}")

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(min(inflight, n))))
        return time.perf_counter() - t0


async def run(mode, n, inflight, path):
    if mode == "files":
        return await run_files(n, inflight, path)
    if mode == "seq":
        return await run_seq(n, path)
    return await run_rand(n, inflight, path)


def main():
    mode, n, inflight, path = parse(sys.argv[1:])
    try:
        elapsed = asyncio.run(run(mode, n, inflight, path))
    except (Failure, OSError) as e:
        print(f"fs_aiofiles {mode}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"aiofiles {mode} {n} {elapsed:.6f}", flush=True)


if __name__ == "__main__":
    main()
