// The subprocess benchmark's Go program (bench/proc/run.sh): see bench/proc/README.md.
//
// MODE true: run /bin/true, N times, INFLIGHT at a time. MODE cat: run cat with 64 KiB on its
// stdin and its stdout collected (exec.Cmd with Stdin a bytes.Reader and Stdout a
// bytes.Buffer: os/exec writes the input and reads the output in goroutines of its own, then
// reaps the child), N times, INFLIGHT at a time; every echo is checked byte for byte. Written the
// way Go code does this: a goroutine per child and a buffered channel as the semaphore.
//
// Prints one line "go <mode> <n> <seconds>" (the whole run on Go's monotonic clock, from the
// first spawn to the last child reaped). Exits 1 on any failure: a spawn error, a child exiting
// non-zero or killed, an echo that differs from its input.
//
// bench/proc/run.sh runs it with GOMAXPROCS=1, as bench/run.sh and bench/net/run.sh do: corio
// runs one loop on one thread, so Go gets one P too. Goroutines blocked in a system call
// (cmd.Wait waits for its child in one) still hold an OS thread each, outside that limit: that
// is how Go waits for children, so it is left so.
//
// Usage: corio-proc-go true|cat N INFLIGHT
package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

const size = 64 * 1024 // bytes through each cat

// Child i of the cat mode gets the 64 KiB window of one 128 KiB random pattern starting at
// (i * stride) mod 64 KiB: every child echoes different bytes, with no random numbers drawn inside
// the timed run. Same scheme in spawn_asyncio.py and spawn_uv.c.
const stride = 4099

func usage() {
	fmt.Fprintln(os.Stderr, "usage: corio-proc-go true|cat N INFLIGHT")
	os.Exit(2)
}

func main() {
	if len(os.Args) != 4 || (os.Args[1] != "true" && os.Args[1] != "cat") {
		usage()
	}
	mode := os.Args[1]
	n, err1 := strconv.Atoi(os.Args[2])
	inflight, err2 := strconv.Atoi(os.Args[3])
	if err1 != nil || err2 != nil || n < 1 || inflight < 1 {
		usage()
	}

	prog := "/bin/true"
	if mode == "cat" {
		// Resolved once: exec.Command looks a name without a slash up in PATH on every call,
		// and no other program of the benchmark searches PATH per child either.
		p, err := exec.LookPath("cat")
		if err != nil {
			fmt.Fprintln(os.Stderr, "corio-proc-go:", err)
			os.Exit(1)
		}
		prog = p
	}
	pattern := make([]byte, 2*size)
	if _, err := rand.Read(pattern); err != nil {
		fmt.Fprintln(os.Stderr, "corio-proc-go:", err)
		os.Exit(1)
	}

	var mu sync.Mutex
	var firstErr error
	nfailed := 0
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		nfailed++
		mu.Unlock()
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}

	sem := make(chan struct{}, inflight)
	var wg sync.WaitGroup
	start := time.Now() // carries a monotonic reading: time.Since uses it
	for i := 0; i < n && !failed(); i++ {
		sem <- struct{}{} // INFLIGHT children at most; one more as soon as one is done
		wg.Add(1)
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			if err := one(mode, prog, pattern, i); err != nil {
				fail(fmt.Errorf("child %d: %w", i, err))
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "corio-proc-go (%s): %d failed; first: %v\n", mode, nfailed, firstErr)
		os.Exit(1)
	}
	fmt.Printf("go %s %d %.6f\n", mode, n, elapsed.Seconds())
}

func one(mode, prog string, pattern []byte, i int) error {
	cmd := exec.Command(prog)
	if mode == "true" {
		// Inherited, no pipes, as in the other programs (a nil Stdin or Stdout would make
		// os/exec open /dev/null for each child instead).
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		return cmd.Run() // a non-zero exit is an *exec.ExitError
	}
	off := (i * stride) % size
	in := pattern[off : off+size]
	var out bytes.Buffer
	out.Grow(size)
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	if !bytes.Equal(out.Bytes(), in) {
		return fmt.Errorf("echo mismatch: %d bytes back of %d", out.Len(), size)
	}
	return nil
}
