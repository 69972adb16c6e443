package socketio_test

import (
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
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
				c, r, err := testutil.DialLean(addr)
				mu.Lock()
				if err != nil {
					dialErr = err
					mu.Unlock()
					return
				}
				conns = append(conns, c)
				mu.Unlock()
				readers.Go(func() { testutil.DrainLean(r, count) })
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
