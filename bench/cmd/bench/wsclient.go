package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file is the lean client: Engine.IO/Socket.IO over a raw WebSocket,
// written for many connections. One goroutine and one small read buffer per
// connection, frames parsed in place, no allocation per received message.

// dialer spreads client connections over several loopback source addresses
// (127.0.0.1 ... 127.0.0.n) so that 10k+ connections, and the TIME_WAIT
// states they leave, never exhaust the ephemeral ports of one address.
type dialer struct {
	n    uint32
	next atomic.Uint32
}

func (d *dialer) dial(ctx context.Context, addr string) (net.Conn, error) {
	i := d.next.Add(1) % d.n
	nd := net.Dialer{
		Timeout:   10 * time.Second,
		LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))},
	}
	return nd.DialContext(ctx, "tcp", addr)
}

// dialContext has the signature of http.Transport.DialContext.
func (d *dialer) dialContext(ctx context.Context, _, addr string) (net.Conn, error) {
	return d.dial(ctx, addr)
}

const readBufSize = 8 << 10

// wsConn is one client WebSocket connection.
type wsConn struct {
	nc  net.Conn
	buf []byte // read buffer; buf[r:w] is unread
	r   int
	w   int
	wmu sync.Mutex
	out []byte // frame being written, under wmu
}

var errClosed = errors.New("websocket closed")

// dialWS opens a WebSocket to the Socket.IO path of addr with the given
// query (e.g. "EIO=4&transport=websocket").
func dialWS(ctx context.Context, d *dialer, addr, query string) (*wsConn, error) {
	nc, err := d.dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	_ = nc.SetDeadline(time.Now().Add(15 * time.Second))
	req := "GET /socket.io/?" + query + " HTTP/1.1\r\nHost: " + addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(nc, req); err != nil {
		_ = nc.Close()
		return nil, err
	}
	c := &wsConn{nc: nc, buf: make([]byte, readBufSize)}
	// Read the response head; what follows it already belongs to frames.
	for {
		if c.w == len(c.buf) {
			_ = nc.Close()
			return nil, errors.New("response head too long")
		}
		n, err := nc.Read(c.buf[c.w:])
		if err != nil {
			_ = nc.Close()
			return nil, err
		}
		c.w += n
		if i := bytes.Index(c.buf[:c.w], []byte("\r\n\r\n")); i >= 0 {
			head := string(c.buf[:i])
			if !strings.HasPrefix(head, "HTTP/1.1 101") {
				_ = nc.Close()
				line, _, _ := strings.Cut(head, "\r\n")
				return nil, fmt.Errorf("upgrade refused: %s", line)
			}
			c.r = i + 4
			return c, nil
		}
	}
}

// next returns the payload of the next text or binary message, answering
// WebSocket pings. The payload is valid until the next call.
func (c *wsConn) next() ([]byte, error) {
	for {
		op, p, err := c.frame()
		if err != nil {
			return nil, err
		}
		switch op {
		case 1, 2:
			return p, nil
		case 8:
			return nil, errClosed
		case 9:
			if err := c.write(10, p); err != nil {
				return nil, err
			}
		}
	}
}

// frame reads one frame (server frames are not masked).
func (c *wsConn) frame() (op byte, payload []byte, err error) {
	for {
		if b := c.buf[c.r:c.w]; len(b) >= 2 {
			hl, n := 2, int(b[1]&0x7f)
			switch n {
			case 126:
				hl = 4
				if len(b) >= 4 {
					n = int(binary.BigEndian.Uint16(b[2:]))
				}
			case 127:
				hl = 10
				if len(b) >= 10 {
					n = int(binary.BigEndian.Uint64(b[2:]))
				}
			}
			if b[1]&0x80 != 0 {
				return 0, nil, errors.New("masked server frame")
			}
			if len(b) >= hl && len(b) >= hl+n {
				c.r += hl + n
				return b[0] & 0x0f, b[hl : hl+n], nil
			}
			if len(b) >= hl && hl+n > len(c.buf) {
				// A frame larger than the buffer: grow it.
				nb := make([]byte, hl+n)
				copy(nb, b)
				c.buf, c.r, c.w = nb, 0, len(b)
			}
		}
		if c.r > 0 {
			c.w = copy(c.buf, c.buf[c.r:c.w])
			c.r = 0
		}
		k, err := c.nc.Read(c.buf[c.w:])
		if k == 0 && err != nil {
			return 0, nil, err
		}
		c.w += k
	}
}

// send writes a text message.
func (c *wsConn) send(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.out = appendClientFrame(c.out[:0], 1, s)
	_, err := c.nc.Write(c.out)
	return err
}

func (c *wsConn) write(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.out = appendClientFrame(c.out[:0], op, string(p))
	_, err := c.nc.Write(c.out)
	return err
}

// appendClientFrame appends a masked frame. The mask key is zero, so the
// payload is copied unchanged (valid per RFC 6455; servers only check that a
// mask is present).
func appendClientFrame(b []byte, op byte, p string) []byte {
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, p...)
}

// close closes the connection without a closing handshake.
func (c *wsConn) close() { _ = c.nc.Close() }

// connectSIO opens a Socket.IO session over WebSocket and joins the main
// namespace: open packet, "40", wait for "40{...}".
func connectSIO(ctx context.Context, d *dialer, addr string) (*wsConn, error) {
	c, err := dialWS(ctx, d, addr, "EIO=4&transport=websocket")
	if err != nil {
		return nil, err
	}
	if err := c.handshakeNamespace(); err != nil {
		c.close()
		return nil, err
	}
	_ = c.nc.SetDeadline(time.Time{})
	return c, nil
}

func (c *wsConn) handshakeNamespace() error {
	p, err := c.next()
	if err != nil {
		return err
	}
	if len(p) == 0 || p[0] != '0' {
		return fmt.Errorf("expected an open packet, got %q", p)
	}
	if err := c.send("40"); err != nil {
		return err
	}
	return c.waitPrefix("40")
}

// waitPrefix reads messages until one starts with prefix, answering
// Engine.IO pings.
func (c *wsConn) waitPrefix(prefix string) error {
	for range 1000 {
		p, err := c.next()
		if err != nil {
			return err
		}
		if bytes.HasPrefix(p, []byte(prefix)) {
			return nil
		}
		if string(p) == "2" {
			if err := c.send("3"); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("no %q message", prefix)
}

// loop reads messages until the connection fails, answering Engine.IO pings
// and handing every other message to fn (on this goroutine; p is only valid
// during the call).
func (c *wsConn) loop(fn func(p []byte)) {
	for {
		p, err := c.next()
		if err != nil {
			return
		}
		if len(p) == 1 && p[0] == '2' {
			if c.send("3") != nil {
				return
			}
			continue
		}
		if fn != nil {
			fn(p)
		}
	}
}

// pollingURL returns the polling URL of a session.
func pollingURL(addr, sid string) string {
	u := "http://" + addr + "/socket.io/?EIO=4&transport=polling"
	if sid != "" {
		u += "&sid=" + sid
	}
	return u
}

// readAll reads a response body with a bound.
func readAll(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(bufio.NewReader(r), 16<<20))
}
