"""corio sync benchmarks, the Python side: asyncio, or uvloop with --uvloop.

Does the same work as bench/sync_queue.c and bench/sync_lock.c (see bench/README.md):
  queue: 4 producers put N/4 items each (1..N) into one asyncio.Queue(maxsize=128); 4 consumers
         get N/4 items each and add them up; the total is checked.
  lock:  1,000 tasks share an asyncio.Lock and a counter; each runs N/1,000 rounds of: acquire,
         await asyncio.sleep(0), increment, release. The counter is checked.
Timed from before the tasks are created to after they are gathered.
Prints one line: RESULT bench=queue|lock impl=asyncio|uvloop n=N items_per_s=... ns_per_op=...

    /usr/bin/python3 bench/py/sync.py --bench queue [--uvloop] [N]
"""
import argparse
import asyncio
import resource
import sys
import time

PRODUCERS, CONSUMERS, MAXSIZE, LOCK_TASKS = 4, 4, 128, 1000


async def producer(q, first, count):
    for i in range(first, first + count):
        await q.put(i)


async def consumer(q, count, sums):
    s = 0
    for _ in range(count):
        s += await q.get()
    sums.append(s)


async def bench_queue(n):
    q = asyncio.Queue(maxsize=MAXSIZE)
    per = n // PRODUCERS
    sums = []
    tasks = [asyncio.create_task(producer(q, 1 + i * per, per)) for i in range(PRODUCERS)]
    tasks += [asyncio.create_task(consumer(q, per, sums)) for _ in range(CONSUMERS)]
    await asyncio.gather(*tasks)
    if sum(sums) != n * (n + 1) // 2:
        raise SystemExit("wrong sum of items")


class Shared:
    counter = 0


async def worker(lock, rounds, shared):
    for _ in range(rounds):
        async with lock:
            await asyncio.sleep(0)
            shared.counter += 1


async def bench_lock(n):
    lock = asyncio.Lock()
    shared = Shared()
    tasks = [asyncio.create_task(worker(lock, n // LOCK_TASKS, shared)) for _ in range(LOCK_TASKS)]
    await asyncio.gather(*tasks)
    if shared.counter != n:
        raise SystemExit("wrong count")


async def timed(fn, n):
    t0, c0 = time.perf_counter(), time.process_time()
    await fn(n)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return (f"items_per_s={n / wall:.0f} ns_per_op={wall * 1e9 / n:.1f} "
            f"cpu_ns_per_op={cpu * 1e9 / n:.1f} wall_s={wall:.4f} peak_rss_kb={rss}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", choices=("queue", "lock"), required=True)
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    ap.add_argument("n", nargs="?", type=int, default=1_000_000)
    args = ap.parse_args()
    unit = PRODUCERS if args.bench == "queue" else LOCK_TASKS
    if args.n <= 0 or args.n % unit:
        ap.error(f"N must be a positive multiple of {unit}")
    fn = bench_queue if args.bench == "queue" else bench_lock
    if args.uvloop:
        import uvloop
        impl, loop = "uvloop", uvloop.new_event_loop()
    else:
        impl, loop = "asyncio", asyncio.new_event_loop()
    try:
        out = loop.run_until_complete(timed(fn, args.n))
    finally:
        loop.close()
    print(f"RESULT bench={args.bench} impl={impl} n={args.n} {out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
