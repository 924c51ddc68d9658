"""corio core benchmarks, the Python side: asyncio, or uvloop with --uvloop.

Does the same work as bench/core_a.c, core_b.c and core_c.c (see bench/README.md):
  a: create N tasks that return at once (each returns its index), gather them, check the sum.
  b: create N tasks that each sleep 1 s and return their index, gather them, check the sum.
  c: two tasks hand a value back and forth N times through futures (loop.create_future()).
Prints one line: RESULT bench=.. impl=asyncio|uvloop n=N ...   (peak_rss_kb: ru_maxrss; cpu_*:
process CPU time over the timed region, which unlike the wall clock leaves out time spent waiting
for the CPU while another process had it)

Run it with Debian's /usr/bin/python3, which has python3-uvloop:
    /usr/bin/python3 bench/py/core.py --bench a [--uvloop] [N]
"""
import argparse
import asyncio
import resource
import sys
import time


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


async def ret_index(i):
    return i


async def sleeper(i):
    await asyncio.sleep(1.0)
    return i


async def create_and_gather(n, coro_fn):
    """Returns the wall time and the process CPU time of creating and gathering n tasks."""
    t0, c0 = time.perf_counter(), time.process_time()
    tasks = [asyncio.create_task(coro_fn(i)) for i in range(n)]
    values = await asyncio.gather(*tasks)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    if sum(values) != n * (n - 1) // 2:
        raise SystemExit("wrong sum of results")
    return wall, cpu


async def bench_a(n):
    wall, cpu = await create_and_gather(n, ret_index)
    return (f"ns_per_op={wall * 1e9 / n:.1f} cpu_ns_per_op={cpu * 1e9 / n:.1f} "
            f"wall_s={wall:.4f} peak_rss_kb={peak_rss_kb()}")


async def bench_b(n):
    base = peak_rss_kb()
    wall, cpu = await create_and_gather(n, sleeper)
    peak = peak_rss_kb()
    return (f"wall_s={wall:.4f} cpu_s={cpu:.4f} peak_rss_kb={peak} base_rss_kb={base} "
            f"rss_per_task_b={(peak - base) * 1024 / n:.1f}")


class PingPong:
    def __init__(self, n):
        self.slot = None  # the future the waiting task awaits
        self.n = n
        self.t0 = self.t1 = 0.0  # first hand-off, last one received (wall clock)
        self.c0 = self.c1 = 0.0  # the same in process CPU time


async def player(p):
    loop = asyncio.get_running_loop()
    v = 0
    while True:
        other = p.slot
        if other is not None and v == 0:
            p.t0, p.c0 = time.perf_counter(), time.process_time()  # the first hand-off
        if other is not None and v + 1 >= p.n:  # the last hand-off: nobody waits for a reply
            p.slot = None
            other.set_result(v + 1)
            return
        mine = loop.create_future()
        p.slot = mine
        if other is not None:
            other.set_result(v + 1)
        v = await mine
        if v >= p.n:
            p.t1, p.c1 = time.perf_counter(), time.process_time()
            return


async def bench_c(n):
    p = PingPong(n)
    a = asyncio.create_task(player(p))
    b = asyncio.create_task(player(p))
    await asyncio.gather(a, b)
    wall, cpu = p.t1 - p.t0, p.c1 - p.c0
    return (f"ns_per_op={wall * 1e9 / n:.1f} cpu_ns_per_op={cpu * 1e9 / n:.1f} "
            f"wall_s={wall:.4f} peak_rss_kb={peak_rss_kb()}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", choices="abc", required=True)
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.n <= 0:
        ap.error("N must be > 0")
    fn = {"a": bench_a, "b": bench_b, "c": bench_c}[args.bench]
    if args.uvloop:
        import uvloop
        impl = "uvloop"
        loop_factory = uvloop.new_event_loop
    else:
        impl = "asyncio"
        loop_factory = asyncio.new_event_loop
    loop = loop_factory()
    try:
        out = loop.run_until_complete(fn(args.n))
    finally:
        loop.close()
    print(f"RESULT bench={args.bench} impl={impl} n={args.n} {out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
