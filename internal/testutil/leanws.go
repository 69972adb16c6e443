package testutil

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// DialLean opens a Socket.IO session over a raw WebSocket and joins the
// main namespace, for benchmarks: a client that parses frames in place
// and allocates nothing per frame (LeanFrame, DrainLean); the reader
// returned reads the server's frames.
func DialLean(addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fail := func(err error) (net.Conn, *bufio.Reader, error) { _ = c.Close(); return nil, nil, err }
	_, err = io.WriteString(c, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if err != nil {
		return fail(err)
	}
	r := bufio.NewReaderSize(c, 4096)
	status, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 101") {
		return fail(fmt.Errorf("upgrade: %q %v", status, err))
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fail(err)
		}
		if line == "\r\n" {
			break
		}
	}
	if p, err := LeanFrame(r); err != nil || !bytes.HasPrefix(p, []byte("0{")) {
		return fail(fmt.Errorf("open packet: %q %v", p, err))
	}
	// "40", masked with a zero key.
	if _, err := c.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'}); err != nil {
		return fail(err)
	}
	if p, err := LeanFrame(r); err != nil || !bytes.HasPrefix(p, []byte("40")) {
		return fail(fmt.Errorf("connect packet: %q %v", p, err))
	}
	_ = c.SetDeadline(time.Time{})
	return c, r, nil
}

// LeanFrame reads one unmasked server frame and returns its payload, valid
// until the next read.
func LeanFrame(r *bufio.Reader) ([]byte, error) {
	h, err := r.Peek(2)
	if err != nil {
		return nil, err
	}
	hl, n := 2, int(h[1]&0x7f)
	switch n {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	h, err = r.Peek(hl)
	if err != nil {
		return nil, err
	}
	switch hl {
	case 4:
		n = int(binary.BigEndian.Uint16(h[2:]))
	case 10:
		n = int(binary.BigEndian.Uint64(h[2:]))
	}
	if _, err := r.Discard(hl); err != nil {
		return nil, err
	}
	if n <= r.Size() {
		p, err := r.Peek(n)
		if err != nil {
			return nil, err
		}
		_, _ = r.Discard(n)
		return p, nil
	}
	p := make([]byte, n)
	_, err = io.ReadFull(r, p)
	return p, err
}

// DrainLean reads frames until the connection closes and counts the
// events.
func DrainLean(r *bufio.Reader, count func()) {
	for {
		p, err := LeanFrame(r)
		if err != nil {
			return
		}
		if bytes.HasPrefix(p, []byte("42")) {
			count()
		}
	}
}
