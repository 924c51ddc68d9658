// The TLS benchmark's Go echo server: crypto/tls, a goroutine per connection, the way Go
// servers are written. Run with GOMAXPROCS=1, as the other servers use one thread.
//
// Usage: tls_go CERTFILE KEYFILE PORT
//
// Listens on 127.0.0.1:PORT (TLS 1.3 only, session tickets as crypto/tls sends them by
// default), prints "ready", and echoes what each connection sends until it closes.
package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

const bufSize = 65536

func echo(c net.Conn) {
	defer c.Close() // sends close_notify once the handshake is done
	buf := make([]byte, bufSize)
	for {
		n, err := c.Read(buf) // the first Read runs the handshake
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// listen opens the TCP listener by hand because net.Listen takes its backlog from
// net.core.somaxconn; the benchmark's servers all use 1024.
func listen(port int) (net.Listener, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "listener")
	defer f.Close() // FileListener holds its own duplicate
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return nil, err
	}
	sa := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(fd, sa); err != nil {
		return nil, err
	}
	if err := syscall.Listen(fd, 1024); err != nil {
		return nil, err
	}
	return net.FileListener(f)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tls_go:", err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: tls_go CERTFILE KEYFILE PORT")
		os.Exit(2)
	}
	cert, err := tls.LoadX509KeyPair(os.Args[1], os.Args[2])
	if err != nil {
		fail(err)
	}
	port, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fail(err)
	}
	config := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		MaxVersion:   tls.VersionTLS13,
	}
	inner, err := listen(port)
	if err != nil {
		fail(err)
	}
	ln := tls.NewListener(inner, config)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		os.Exit(0)
	}()

	fmt.Println("ready") // os.Stdout is unbuffered
	for {
		c, err := ln.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Temporary() {
				continue // EMFILE and the like: clients retry
			}
			fail(err)
		}
		go echo(c)
	}
}
