package prometheus_test

import (
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
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
		c, r, err := testutil.DialLean(addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		readers.Go(func() { testutil.DrainLean(r, func() { got.Add(1) }) })
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
