// The network benchmark's Go servers (bench/net/run.sh): echo, or HTTP hello with -http.
//
// A goroutine per connection on net.Conn, the way Go servers are written: Read into a 16 KiB
// buffer, Write the answer. The HTTP server is not net/http: it is the same minimal loop as
// bench/net/epoll_http.c (a fixed "Hello, World!" response to every complete request read,
// requests end at an empty line, keep-alive, pipelining-safe), so that every server of the
// benchmark does the same work; net/http would parse headers and allocate per request.
//
// Same contract as the C servers (bench/net/net_util.h): 127.0.0.1, port from the first argument
// (default 0: any), prints "port <n>" once listening, TCP_NODELAY (Go's default). Run with
// GOMAXPROCS=1, as the core benchmarks are: the other servers use one core.
//
// Usage: corio-net-go [-http] [port]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
)

const bufSize = 16384

const response = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"

// responses holds as many copies of response as one read can hold requests.
var responses = bytes.Repeat([]byte(response), bufSize/4)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func hello(c net.Conn) {
	defer c.Close()
	in := make([]byte, bufSize)
	inlen := 0
	for {
		n, err := c.Read(in[inlen:])
		if err != nil {
			return
		}
		inlen += n
		reqs, at := 0, 0
		for {
			i := bytes.Index(in[at:inlen], []byte("\r\n\r\n"))
			if i < 0 {
				break
			}
			at += i + 4
			reqs++
		}
		if reqs == 0 && inlen == bufSize {
			return // a request larger than the buffer
		}
		inlen = copy(in, in[at:inlen])
		if reqs > 0 {
			if _, err := c.Write(responses[:reqs*len(response)]); err != nil {
				return
			}
		}
	}
}

func main() {
	httpMode := flag.Bool("http", false, "serve HTTP hello instead of echo")
	flag.Parse()
	port := flag.Arg(0)
	if port == "" {
		port = "0"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	serve := echo
	if *httpMode {
		serve = hello
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go serve(c)
	}
}
