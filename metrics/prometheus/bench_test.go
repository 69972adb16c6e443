package prometheus_test

import (
	"bufio"
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

	prom "github.com/prometheus/client_golang/prometheus"

	socketio "github.com/gosio/socketio"
	sioprom "github.com/gosio/socketio/metrics/prometheus"
)

// BenchmarkBroadcast1k measures io.Emit of a 100-byte event to 1,000
// sockets connected over loopback WebSockets, counted until every client
// has read it (at most 16 broadcasts in flight): without a collector, with
// one (no labels), and with namespace and event labels. The difference is
// the collector's cost per broadcast (PacketOut and EnginePacketOut run
// once per recipient).
func BenchmarkBroadcast1k(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts *sioprom.Options
	}{
		{"plain", nil},
		{"collector", &sioprom.Options{}},
		{"collector-labels", &sioprom.Options{NamespaceLabel: sioprom.Allow("/"), EventLabel: sioprom.Allow("b")}},
	} {
		b.Run(tc.name, func(b *testing.B) { benchBroadcast(b, tc.opts) })
	}
}

func benchBroadcast(b *testing.B, opts *sioprom.Options) {
	const clients, window = 1000, 16
	srv, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		b.Fatal(err)
	}
	if opts != nil {
		o := *opts
		o.Registerer = prom.NewRegistry()
		if _, err := sioprom.New(srv, o); err != nil {
			b.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	var got atomic.Int64
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
	addr := ts.Listener.Addr().String()
	for range clients {
		c, r, err := benchDial(addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		readers.Go(func() {
			for {
				p, err := benchFrame(r)
				if err != nil {
					return
				}
				if len(p) > 2 && p[0] == '4' && p[1] == '2' {
					got.Add(1)
				}
			}
		})
	}
	wait := func(n int64) {
		deadline := time.Now().Add(10 * time.Second)
		for got.Load() < n {
			if time.Now().After(deadline) {
				b.Fatalf("clients read %d events, want %d", got.Load(), n)
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	payload := strings.Repeat("x", 100)
	b.ReportAllocs()
	b.ResetTimer()
	sent := int64(0)
	for range b.N {
		if err := srv.Emit("b", payload); err != nil {
			b.Fatal(err)
		}
		sent++
		if sent > window {
			wait((sent - window) * clients)
		}
	}
	wait(sent * clients)
	b.ReportMetric(float64(sent*clients)/b.Elapsed().Seconds(), "deliveries/s")
}

// benchDial opens a Socket.IO session over a raw WebSocket and joins the
// main namespace; the reader returned reads the server's frames.
func benchDial(addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (net.Conn, *bufio.Reader, error) { _ = c.Close(); return nil, nil, err }
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if err != nil {
		return fail(err)
	}
	r := bufio.NewReaderSize(c, 4096)
	for first := true; ; first = false {
		line, err := r.ReadString('\n')
		if err != nil {
			return fail(err)
		}
		if first && !strings.HasPrefix(line, "HTTP/1.1 101") {
			return fail(fmt.Errorf("upgrade: %q", line))
		}
		if line == "\r\n" {
			break
		}
	}
	if p, err := benchFrame(r); err != nil || !strings.HasPrefix(string(p), "0{") {
		return fail(fmt.Errorf("open packet: %q %v", p, err))
	}
	if _, err := c.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'}); err != nil { // "40", zero mask
		return fail(err)
	}
	if p, err := benchFrame(r); err != nil || !strings.HasPrefix(string(p), "40") {
		return fail(fmt.Errorf("connect reply: %q %v", p, err))
	}
	_ = c.SetDeadline(time.Time{})
	return c, r, nil
}

// benchFrame returns the payload of the next unmasked server frame, valid
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
	if h, err = r.Peek(hl); err != nil {
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
	if n > r.Size() {
		p := make([]byte, n)
		_, err := io.ReadFull(r, p)
		return p, err
	}
	p, err := r.Peek(n)
	if err != nil {
		return nil, err
	}
	_, _ = r.Discard(n)
	return p, nil
}
