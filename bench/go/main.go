// corio core benchmarks, the Go side (reference implementation; see bench/README.md).
//
// Does the same work as bench/core_a.c, core_b.c and core_c.c:
//
//	a: spawn N goroutines that at once store their index into a result slice; wait for all
//	   (sync.WaitGroup); check the sum.
//	b: spawn N goroutines that each sleep 1 s, then store their index; wait for all; check the sum.
//	c: two goroutines hand a value back and forth N times through an unbuffered channel.
//
// bench/run.sh runs it with GOMAXPROCS=1 (corio is one loop on one core) and pins it to one CPU.
// Prints one line: RESULT bench=.. impl=go n=N ... gomaxprocs=..   (peak_rss_kb: ru_maxrss; cpu_*:
// process CPU time of all threads over the timed region, the garbage collector's included)
//
// Usage: corio-bench-go -bench a|b|c [N]
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

func peakRSSKB() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss // KiB on Linux
}

// cpuNow is the CPU time of the whole process (all threads, GC included), in seconds.
func cpuNow() float64 {
	var ts syscall.Timespec
	const clockProcessCPUTimeID = 2 // CLOCK_PROCESS_CPUTIME_ID
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

func checkSum(res []int, n int) {
	sum := 0
	for _, v := range res {
		sum += v
	}
	if sum != n*(n-1)/2 {
		fmt.Fprintln(os.Stderr, "wrong sum of results")
		os.Exit(1)
	}
}

// createAndGather returns the wall time and the process CPU time (s) of the whole run.
func createAndGather(n int, sleep time.Duration) (time.Duration, float64) {
	t0, c0 := time.Now(), cpuNow()
	res := make([]int, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			if sleep > 0 {
				time.Sleep(sleep)
			}
			res[i] = i
			wg.Done()
		}(i)
	}
	wg.Wait()
	wall, cpu := time.Since(t0), cpuNow()-c0
	checkSum(res, n)
	return wall, cpu
}

func benchA(n int) string {
	wall, cpu := createAndGather(n, 0)
	return fmt.Sprintf("ns_per_op=%.1f cpu_ns_per_op=%.1f wall_s=%.4f peak_rss_kb=%d",
		float64(wall.Nanoseconds())/float64(n), cpu*1e9/float64(n), wall.Seconds(), peakRSSKB())
}

func benchB(n int) string {
	base := peakRSSKB()
	wall, cpu := createAndGather(n, time.Second)
	peak := peakRSSKB()
	return fmt.Sprintf("wall_s=%.4f cpu_s=%.4f peak_rss_kb=%d base_rss_kb=%d rss_per_task_b=%.1f",
		wall.Seconds(), cpu, peak, base, float64(peak-base)*1024/float64(n))
}

func benchC(n int) string {
	ch := make(chan int) // unbuffered: every send is a hand-off to the other goroutine
	var t0, t1 time.Time
	var c0, c1 float64
	var wg sync.WaitGroup
	player := func(starts bool) {
		defer wg.Done()
		v := 0
		if !starts {
			v = <-ch
		} else {
			t0, c0 = time.Now(), cpuNow()
		}
		for {
			if v >= n { // received the last hand-off
				t1, c1 = time.Now(), cpuNow()
				return
			}
			ch <- v + 1
			if v+1 >= n { // made the last hand-off: nobody replies
				return
			}
			v = <-ch
		}
	}
	wg.Add(2)
	go player(false)
	go player(true)
	wg.Wait()
	wall := t1.Sub(t0)
	return fmt.Sprintf("ns_per_op=%.1f cpu_ns_per_op=%.1f wall_s=%.4f peak_rss_kb=%d",
		float64(wall.Nanoseconds())/float64(n), (c1-c0)*1e9/float64(n), wall.Seconds(), peakRSSKB())
}

func main() {
	bench := flag.String("bench", "", "a, b or c")
	flag.Parse()
	n := 1000000
	if flag.NArg() > 0 {
		v, err := strconv.Atoi(flag.Arg(0))
		if err != nil || v <= 0 {
			fmt.Fprintln(os.Stderr, "usage: corio-bench-go -bench a|b|c [N > 0]")
			os.Exit(2)
		}
		n = v
	}
	var out string
	switch *bench {
	case "a":
		out = benchA(n)
	case "b":
		out = benchB(n)
	case "c":
		out = benchC(n)
	default:
		fmt.Fprintln(os.Stderr, "usage: corio-bench-go -bench a|b|c [N > 0]")
		os.Exit(2)
	}
	fmt.Printf("RESULT bench=%s impl=go n=%d %s gomaxprocs=%d\n", *bench, n, out, runtime.GOMAXPROCS(0))
}
