"""corio executor benchmark, the Python side: asyncio's run_in_executor, or uvloop's with --uvloop.

The same work as bench/executor.c: N trivial blocking calls offloaded to the loop's default
executor (a ThreadPoolExecutor; --threads sets its size) in batches of BATCH, each batch gathered
before the next is submitted; each call returns its index and the sum is checked. Timed: from the
first submission to the last result received.

Prints: RESULT bench=executor impl=asyncio|uvloop n=N batch=B threads=T calls_per_s=... ...
Run it with Debian's /usr/bin/python3, which has python3-uvloop:
    /usr/bin/python3 bench/py/executor.py [--uvloop] [--threads T] [N [BATCH]]
"""
import argparse
import asyncio
import concurrent.futures
import os
import sys
import time


def trivial(i):
    return i


async def run(n, batch, threads):
    loop = asyncio.get_running_loop()
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=threads) if threads else None
    if ex:
        loop.set_default_executor(ex)
    total = 0
    t0, c0 = time.perf_counter(), time.process_time()
    done = 0
    while done < n:
        k = min(batch, n - done)
        futs = [loop.run_in_executor(None, trivial, done + i) for i in range(k)]
        total += sum(await asyncio.gather(*futs))
        done += k
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if total != n * (n - 1) // 2:
        sys.exit(f"wrong sum of results: {total}")
    return wall, cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--uvloop", action="store_true")
    p.add_argument("--threads", type=int, default=0, help="0: ThreadPoolExecutor's default")
    p.add_argument("n", nargs="?", type=int, default=100000)
    p.add_argument("batch", nargs="?", type=int, default=1000)
    a = p.parse_args()
    if a.uvloop:
        import uvloop
        uvloop.install()
    threads = a.threads or min(32, (os.cpu_count() or 1) + 4)
    wall, cpu = asyncio.run(run(a.n, a.batch, a.threads))
    impl = "uvloop" if a.uvloop else "asyncio"
    print(f"RESULT bench=executor impl={impl} n={a.n} batch={a.batch} threads={threads} "
          f"calls_per_s={a.n / wall:.0f} ns_per_call={wall * 1e9 / a.n:.1f} "
          f"cpu_ns_per_call={cpu * 1e9 / a.n:.1f} wall_s={wall:.4f}")


if __name__ == "__main__":
    main()
