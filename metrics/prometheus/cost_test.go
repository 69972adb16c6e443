package prometheus

import (
	"testing"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/parser"
)

// BenchmarkPacketOut measures what the collector does per recipient of a
// broadcast (Observer.PacketOut with an event packet): without labels,
// and with namespace and event labels (a name already seen). It must not
// allocate.
func BenchmarkPacketOut(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"no-labels", Options{}},
		{"labels", Options{NamespaceLabel: Allow("/"), EventLabel: Allow("news")}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			io, err := socketio.NewServer(socketio.Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer io.Close()
			c, err := New(io, tc.opts)
			if err != nil {
				b.Fatal(err)
			}
			out := c.observer().PacketOut
			p, err := parser.NewEvent("/", "news", "hello")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				out(nil, p, 20)
			}
		})
	}
}

// Counting an event sent, with or without labels, allocates nothing once
// its name has been seen.
func TestPacketOutDoesNotAllocate(t *testing.T) {
	for _, opts := range []Options{{}, {NamespaceLabel: Allow("/"), EventLabel: func(e string) string { return e }}} {
		io, err := socketio.NewServer(socketio.Config{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := New(io, opts)
		if err != nil {
			t.Fatal(err)
		}
		out := c.observer().PacketOut
		p, err := parser.NewEvent("/", "news", "hello")
		if err != nil {
			t.Fatal(err)
		}
		out(nil, p, 20)
		if n := testing.AllocsPerRun(1000, func() { out(nil, p, 20) }); n != 0 {
			t.Errorf("labels %v: %v allocations per packet", opts.EventLabel != nil, n)
		}
		_ = io.Close()
	}
}
