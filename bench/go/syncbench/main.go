// corio sync benchmarks, the Go side (reference implementation; see bench/README.md).
//
// Does the same work as bench/sync_queue.c and bench/sync_lock.c:
//
//	queue: 4 producer goroutines send N/4 items each (1..N) into one channel of capacity 128;
//	       4 consumer goroutines receive N/4 items each and add them up; the total is checked.
//	lock:  1,000 goroutines share a sync.Mutex and a counter; each runs N/1,000 rounds of: Lock,
//	       runtime.Gosched(), increment, Unlock. The counter is checked.
//
// Timed from before the goroutines are started to after all are done (sync.WaitGroup).
// bench/sync_run.sh runs it pinned to one CPU with GOMAXPROCS=1, and on two CPUs with
// GOMAXPROCS=2. Prints one line:
// RESULT bench=queue|lock impl=go n=N items_per_s=... ns_per_op=... gomaxprocs=..
//
// Usage: corio-sync-bench-go -bench queue|lock [N]
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

const (
	producers = 4
	consumers = 4
	maxsize   = 128
	lockTasks = 1000
)

// cpuNow is the CPU time of the whole process (all threads, GC included), in seconds.
func cpuNow() float64 {
	var ts syscall.Timespec
	const clockProcessCPUTimeID = 2 // CLOCK_PROCESS_CPUTIME_ID
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

func benchQueue(n int) {
	ch := make(chan int, maxsize)
	per := n / producers
	sums := make([]int, consumers)
	var wg sync.WaitGroup
	wg.Add(producers + consumers)
	for p := 0; p < producers; p++ {
		go func(first int) {
			for i := first; i < first+per; i++ {
				ch <- i
			}
			wg.Done()
		}(1 + p*per)
	}
	for c := 0; c < consumers; c++ {
		go func(c int) {
			s := 0
			for i := 0; i < per; i++ {
				s += <-ch
			}
			sums[c] = s
			wg.Done()
		}(c)
	}
	wg.Wait()
	total := 0
	for _, s := range sums {
		total += s
	}
	if total != n*(n+1)/2 {
		fmt.Fprintln(os.Stderr, "wrong sum of items")
		os.Exit(1)
	}
}

func benchLock(n int) {
	var mu sync.Mutex
	counter := 0
	rounds := n / lockTasks
	var wg sync.WaitGroup
	wg.Add(lockTasks)
	for t := 0; t < lockTasks; t++ {
		go func() {
			for i := 0; i < rounds; i++ {
				mu.Lock()
				runtime.Gosched()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	if counter != n {
		fmt.Fprintln(os.Stderr, "wrong count")
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: corio-sync-bench-go -bench queue|lock [N]")
	os.Exit(2)
}

func main() {
	bench := flag.String("bench", "", "queue or lock")
	flag.Parse()
	n := 1000000
	if flag.NArg() > 0 {
		v, err := strconv.Atoi(flag.Arg(0))
		if err != nil || v <= 0 {
			usage()
		}
		n = v
	}
	var fn func(int)
	unit := 1
	switch *bench {
	case "queue":
		fn, unit = benchQueue, producers
	case "lock":
		fn, unit = benchLock, lockTasks
	default:
		usage()
	}
	if n%unit != 0 {
		fmt.Fprintf(os.Stderr, "N must be a multiple of %d\n", unit)
		os.Exit(2)
	}
	t0, c0 := time.Now(), cpuNow()
	fn(n)
	wall, cpu := time.Since(t0).Seconds(), cpuNow()-c0
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("RESULT bench=%s impl=go n=%d items_per_s=%.0f ns_per_op=%.1f cpu_ns_per_op=%.1f "+
		"wall_s=%.4f peak_rss_kb=%d gomaxprocs=%d\n", *bench, n, float64(n)/wall, wall*1e9/float64(n),
		cpu*1e9/float64(n), wall, ru.Maxrss, runtime.GOMAXPROCS(0))
}
