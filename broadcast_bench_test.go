package socketio_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/parser"
)

// BenchmarkBroadcast1k measures io.Emit to 1,000 sockets of the main
// namespace, connected through the real server over loopback WebSockets. One
// op is one broadcast, counted until every client has read it (at most 16
// broadcasts in flight), so ns/op is the cost of delivering one event to 1k
// clients and B/op and allocs/op include the server's write path. The clients
// are lean: a goroutine per connection that parses frames in place and
// allocates nothing.
func BenchmarkBroadcast1k(b *testing.B) {
	const clients, window = 1000, 16
	srv, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	var got, want atomic.Int64
	wake := make(chan struct{}, 1)
	var readers sync.WaitGroup
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
		readers.Wait()
		_ = srv.Close()
		ts.Close()
	}()
	count := func() {
		if got.Add(1) == want.Load() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
	addr := ts.Listener.Addr().String()
	var mu sync.Mutex
	var dialErr error
	var dialers sync.WaitGroup
	var next atomic.Int64
	for range 16 {
		dialers.Go(func() {
			for next.Add(1) <= clients {
				c, r, err := benchDial(addr)
				mu.Lock()
				if err != nil {
					dialErr = err
					mu.Unlock()
					return
				}
				conns = append(conns, c)
				mu.Unlock()
				readers.Go(func() { benchDrain(r, count) })
			}
		})
	}
	dialers.Wait()
	if dialErr != nil {
		b.Fatal(dialErr)
	}
	// wait blocks until the clients have read n events in all.
	wait := func(n int64) {
		want.Store(n)
		deadline := time.After(10 * time.Second)
		for got.Load() < n {
			select {
			case <-wake:
			case <-deadline:
				b.Fatalf("clients read %d events, want %d", got.Load(), n)
			}
		}
	}
	// The last run has an observer counting packets and bytes per event
	// name, as a metrics exporter would: the cost of observing a broadcast.
	var observed atomic.Int64
	observer := socketio.Observer{PacketOut: func(_ *engineio.Conn, p *parser.Packet, size int) {
		if p.Type == parser.Event {
			if name, err := parser.EventName(p); err == nil && name != "" {
				observed.Add(int64(size))
			}
		}
	}}
	for _, run := range []struct {
		size    int
		observe bool
	}{{100, false}, {1024, false}, {100, true}} {
		size := run.size
		name := fmt.Sprintf("%dB", size)
		if run.observe {
			srv.Observe(observer)
			name += "-observed"
		}
		b.Run(name, func(b *testing.B) {
			payload := strings.Repeat("x", size)
			base := got.Load()
			sent := int64(0)
			b.ReportAllocs()
			for range b.N {
				if err := srv.Emit("b", payload); err != nil {
					b.Fatal(err)
				}
				sent++
				if sent > window {
					wait(base + (sent-window)*clients)
				}
			}
			wait(base + sent*clients)
			b.ReportMetric(float64(sent*clients)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}

// benchDial opens a Socket.IO session over a raw WebSocket and joins the
// main namespace.
func benchDial(addr string) (net.Conn, *bufio.Reader, error) {
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
	if p, err := benchFrame(r); err != nil || !bytes.HasPrefix(p, []byte("0{")) {
		return fail(fmt.Errorf("open packet: %q %v", p, err))
	}
	// "40", masked with a zero key.
	if _, err := c.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'}); err != nil {
		return fail(err)
	}
	if p, err := benchFrame(r); err != nil || !bytes.HasPrefix(p, []byte("40")) {
		return fail(fmt.Errorf("connect packet: %q %v", p, err))
	}
	_ = c.SetDeadline(time.Time{})
	return c, r, nil
}

// benchFrame reads one unmasked server frame and returns its payload, valid
// until the next read.
func benchFrame(r *bufio.Reader) ([]byte, error) {
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

// benchDrain reads frames until the connection closes and counts the
// events.
func benchDrain(r *bufio.Reader, count func()) {
	for {
		p, err := benchFrame(r)
		if err != nil {
			return
		}
		if bytes.HasPrefix(p, []byte("42")) {
			count()
		}
	}
}
