"""The subprocess benchmark on asyncio, or on uvloop with --uvloop: see bench/proc/README.md.

    /usr/bin/python3 bench/proc/spawn_asyncio.py MODE N INFLIGHT [--uvloop | uvloop]

MODE true: spawn /bin/true and wait for it, N times, INFLIGHT children at a time.
MODE cat:  spawn cat, write 64 KiB to its stdin, close it, read its stdout to EOF and wait for it
           (proc.communicate), N times, INFLIGHT at a time; every echo is checked byte for byte.

Prints one line "<system> <mode> <n> <seconds>" (system: asyncio or uvloop; seconds: the whole
run on the monotonic clock, from the first spawn to the last child reaped, the interpreter and
the loop already up). Exits 1 on any failure: a spawn error, a child exiting non-zero or killed,
an echo that differs from its input.

Debian's /usr/bin/python3 (3.11) runs it, as python3-uvloop is installed for that interpreter.
Plain asyncio there reaps children with its default ThreadedChildWatcher (one waitpid thread per
child): that is what asyncio does out of the box, so it is left as it is.
"""
import asyncio
import os
import shutil
import sys
import time

SIZE = 64 * 1024  # bytes through each cat

# Child i of the cat mode gets the 64 KiB window of one 128 KiB random pattern starting at
# (i * STRIDE) mod 64 KiB: every child echoes different bytes, with no random numbers drawn
# inside the timed run. Same scheme in spawn_uv.c and go/main.go.
STRIDE = 4099


class Failure(Exception):
    pass


def usage():
    sys.exit("usage: spawn_asyncio.py true|cat N INFLIGHT [--uvloop]")


def parse(argv):
    use_uvloop = "--uvloop" in argv
    args = [a for a in argv if a != "--uvloop"]
    if len(args) == 4 and args[3] in ("uvloop", "asyncio"):  # the 5th positional form
        use_uvloop = args.pop() == "uvloop"
    if len(args) != 3 or args[0] not in ("true", "cat"):
        usage()
    try:
        n, inflight = int(args[1]), int(args[2])
    except ValueError:
        usage()
    if n < 1 or inflight < 1:
        usage()
    return args[0], n, inflight, use_uvloop


async def run(mode, n, inflight):
    if mode == "true":
        prog = "/bin/true"
    else:
        # Resolved once, so that no child searches PATH (the other programs do the same).
        prog = shutil.which("cat")
        if prog is None:
            raise Failure("cat not found in PATH")
    pattern = os.urandom(2 * SIZE)
    sem = asyncio.Semaphore(inflight)
    failures = []

    async def one(i):
        try:
            if mode == "true":
                # stdin, stdout and stderr inherited: no pipes (the same in every program).
                proc = await asyncio.create_subprocess_exec(prog)
                rc = await proc.wait()
            else:
                off = (i * STRIDE) % SIZE
                data = pattern[off:off + SIZE]
                proc = await asyncio.create_subprocess_exec(
                    prog, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
                out, _ = await proc.communicate(data)
                rc = proc.returncode
                if out != data:
                    raise Failure(f"echo mismatch: {len(out)} bytes back of {SIZE}")
            if rc != 0:
                raise Failure(f"exit status {rc}")
        except Exception as e:  # noqa: BLE001  (any failure fails the run, reported once)
            failures.append(f"child {i}: {e!r}")
        finally:
            sem.release()

    tasks = set()  # strong references: the loop keeps only weak ones
    t0 = time.monotonic()
    for i in range(n):
        await sem.acquire()  # INFLIGHT children at most; one more as soon as one is done
        if failures:
            break
        t = asyncio.create_task(one(i))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    elapsed = time.monotonic() - t0
    if failures:
        raise Failure(f"{len(failures)} failed; first: {failures[0]}")
    return elapsed


def main():
    mode, n, inflight, use_uvloop = parse(sys.argv[1:])
    system = "asyncio"
    if use_uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        system = "uvloop"
    try:
        elapsed = asyncio.run(run(mode, n, inflight))
    except Failure as e:
        print(f"spawn_asyncio ({system} {mode}): {e}", file=sys.stderr)
        sys.exit(1)
    print(f"{system} {mode} {n} {elapsed:.6f}", flush=True)


if __name__ == "__main__":
    main()
