package prometheus_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/adapter/cluster/clustertest"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
	sioprom "github.com/gosio/socketio/metrics/prometheus"
	"github.com/gosio/socketio/parser"
)

// echoServer serves "/" (a packet middleware refuses "forbidden"; "sum"
// answers the sum, "ask" asks the client a "question" and answers with
// the client's answer), "/chat", and "/admin" (refused).
func echoServer(t *testing.T, opts sioprom.Options) *testServer {
	t.Helper()
	ts := newTestServer(t, socketio.Config{}, opts)
	admin, err := ts.io.Of("/admin")
	if err != nil {
		t.Fatal(err)
	}
	admin.Use(func(*socketio.Socket) error { return errors.New("Not authorized") })
	if _, err := ts.io.Of("/chat"); err != nil {
		t.Fatal(err)
	}
	ts.io.OnConnection(func(s *socketio.Socket) {
		s.Use(func(e *socketio.Event) error {
			if e.Name == "forbidden" {
				return errors.New("not allowed")
			}
			return nil
		})
		socketio.OnAck(s, "sum", func(n []int) (int, error) { return n[0] + n[1], nil })
		s.On("ask", func(e *socketio.Event) {
			ctx, cancel := context.WithTimeout(e.Context(), 5*time.Second)
			defer cancel()
			args, err := s.EmitWithAck(ctx, "question", 6)
			if err != nil {
				_ = e.AckError(err)
				return
			}
			var n int
			_ = args.Bind(&n)
			_ = e.Ack(n)
		})
		s.On("hello", func(*socketio.Event) {})
	})
	return ts
}

func dial(t *testing.T, url string, transports []string) *client.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, url, &client.Options{Transports: transports, NoReconnection: true})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A session of Go clients over each transport, then the scrape: sockets,
// refusals, events with their allowed names, acks both ways with their
// latency, bytes as an independent observer counted them, Engine.IO
// sessions by transport and upgrades, disconnects and closes by reason.
func TestMetricsWithGoClients(t *testing.T) {
	for _, tc := range []struct {
		name       string
		transports []string
	}{
		{"websocket", []string{client.WebSocket}},
		{"polling", []string{client.Polling}},
		{"upgrade", []string{client.Polling, client.WebSocket}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := echoServer(t, sioprom.Options{
				NamespaceLabel: sioprom.Allow("/", "/chat"),
				EventLabel:     sioprom.Allow("sum", "news", "question"),
			})
			seen := &sizes{count: map[string]int{}}
			ts.io.Observe(socketio.Observer{
				PacketIn:  func(_ *engineio.Conn, p *parser.Packet, n int) { seen.add("in "+p.Namespace, n) },
				PacketOut: func(_ *engineio.Conn, p *parser.Packet, n int) { seen.add("out "+p.Namespace, n) },
			})
			a := dial(t, ts.url, tc.transports)
			b := dial(t, ts.url, tc.transports)
			c := dial(t, ts.url, tc.transports)
			_ = dial(t, ts.url+"/chat", tc.transports)
			client.OnAck(a, "question", func(n int) int { return n * 7 })

			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.Manager().Socket("/admin", nil).Connect(ctx); err == nil || !strings.Contains(err.Error(), "Not authorized") {
				t.Fatalf("connect to /admin: %v, want a refusal", err)
			}
			if res, err := a.EmitWithAck(ctx, "sum", []int{1, 2}); err != nil || res.Len() != 1 {
				t.Fatalf("sum: %v %v", res, err)
			}
			for _, ev := range []string{"hello", "hello", "forbidden"} {
				if err := a.Emit(ev); err != nil {
					t.Fatal(err)
				}
			}
			res, err := a.EmitWithAck(ctx, "ask")
			var answer int
			if err != nil || res.Bind(&answer) != nil || answer != 42 {
				t.Fatalf("ask: %v %v", res, err)
			}
			if err := ts.io.Emit("news", "x"); err != nil {
				t.Fatal(err)
			}
			for _, s := range []*client.Socket{a, b, c} {
				if ev, err := s.Receive(ctx); err != nil || ev.Name != "news" {
					t.Fatalf("news: %v %v", ev, err)
				}
			}

			nsp := func(n string) []string { return []string{"namespace", n} }
			ev := func(n, e string) []string { return []string{"namespace", n, "event", e} }
			sessions := 4.0 // a (with /admin), b, c, chat
			final := tc.transports[len(tc.transports)-1]
			upgrades := 0.0
			if len(tc.transports) == 2 {
				upgrades = sessions
			}
			m := waitMetrics(t, ts.url,
				want{"socketio_connected", nsp("/"), 3},
				want{"socketio_connected", nsp("/chat"), 1},
				want{"socketio_connected", nsp("other"), 0}, // /admin
				want{"socketio_connect_total", nsp("/"), 3},
				want{"socketio_connect_total", nsp("/chat"), 1},
				want{"socketio_connect_refused_total", nsp("other"), 1},
				want{"socketio_connect_refused_total", nsp("/"), 0},
				want{"socketio_events_received_total", ev("/", "sum"), 1},
				want{"socketio_events_received_total", ev("/", "other"), 4}, // hello, hello, forbidden, ask
				want{"socketio_events_refused_total", ev("/", "other"), 1},
				want{"socketio_events_refused_total", ev("/", "sum"), 0},
				want{"socketio_event_duration_seconds", ev("/", "sum"), 1},
				want{"socketio_event_duration_seconds", ev("/", "other"), 4},
				want{"socketio_events_sent_total", ev("/", "news"), 3},
				want{"socketio_events_sent_total", ev("/", "question"), 1},
				want{"socketio_ack_sent_latency_seconds", nsp("/"), 2},
				want{"socketio_ack_received_latency_seconds", nsp("/"), 1},
				want{"socketio_engine_opened_total", []string{"transport", tc.transports[0]}, sessions},
				want{"socketio_engine_sessions", []string{"transport", final}, sessions},
				want{"socketio_engine_upgrades_total", nil, upgrades},
				want{"socketio_overflow_closes_total", []string{"queue", "incoming"}, 0},
				want{"socketio_overflow_closes_total", []string{"queue", "outgoing"}, 0},
			)
			// An event name seen in either direction has its series in
			// every event metric.
			if got := m.labelSets("socketio_events_received_total"); strings.Join(got, " ") != "event=news,namespace=/ event=other,namespace=/ event=question,namespace=/ event=sum,namespace=/" {
				t.Errorf("events received series: %q", got)
			}
			if _, ok := m.get("socketio_adapter_publish_queue_length"); ok {
				t.Error("publish queue length reported for the in-memory adapter")
			}
			for _, n := range []string{"/", "/chat"} {
				in, _ := m.get("socketio_received_bytes_total", nsp(n)...)
				out, _ := m.get("socketio_transmitted_bytes_total", nsp(n)...)
				if int(in) != seen.get("in "+n) || int(out) != seen.get("out "+n) || in == 0 || out == 0 {
					t.Errorf("%s bytes in %v out %v, the observer saw %d and %d", n, in, out, seen.get("in "+n), seen.get("out "+n))
				}
			}
			if in, _ := m.get("socketio_received_bytes_total", nsp("/")...); in < float64(len(`2["sum",[1,2]]`)+2*len(`2["hello"]`)+len(`2["forbidden"]`)) {
				t.Errorf("received bytes %v", in)
			}
			engIn, _ := m.get("socketio_engine_received_bytes_total")
			engOut, _ := m.get("socketio_engine_transmitted_bytes_total")
			if engIn < m.sum("socketio_received_bytes_total") || engOut < m.sum("socketio_transmitted_bytes_total") {
				t.Errorf("engine bytes in %v out %v, below the Socket.IO bytes %v %v", engIn, engOut,
					m.sum("socketio_received_bytes_total"), m.sum("socketio_transmitted_bytes_total"))
			}

			b.Disconnect()
			ts.io.MainNamespace().Socket(c.ID()).Disconnect(true)
			waitMetrics(t, ts.url,
				want{"socketio_connected", nsp("/"), 1},
				want{"socketio_disconnect_total", []string{"namespace", "/", "reason", "client namespace disconnect"}, 1},
				want{"socketio_disconnect_total", []string{"namespace", "/", "reason", "server namespace disconnect"}, 1},
			)
			// c's session closes once the server's disconnect reached it
			// (over polling: with the next poll); b's client closes its
			// connection when its only socket leaves.
			m = waitMetrics(t, ts.url,
				want{"socketio_engine_closes_total", []string{"reason", "forced close"}, 1},
				want{"socketio_engine_closes_total", []string{"reason", "transport close"}, 1}, // b's client closed its connection
				want{"socketio_engine_sessions", []string{"transport", final}, sessions - 2},
			)
			if closed := m.sum("socketio_engine_closes_total"); closed != 2 {
				t.Errorf("closes: %v", m.labelSets("socketio_engine_closes_total"))
			}
		})
	}
}

// Without label functions, the metrics have no namespace or event label
// and count everything together.
func TestMetricsWithoutLabels(t *testing.T) {
	ts := echoServer(t, sioprom.Options{})
	a := dial(t, ts.url, []string{client.WebSocket})
	_ = dial(t, ts.url+"/chat", []string{client.WebSocket})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.EmitWithAck(ctx, "sum", []int{1, 2}); err != nil {
		t.Fatal(err)
	}
	_ = a.Emit("hello")
	m := waitMetrics(t, ts.url,
		want{"socketio_connected", nil, 2},
		want{"socketio_connect_total", nil, 2},
		want{"socketio_events_received_total", nil, 2},
		want{"socketio_event_duration_seconds", nil, 2},
		want{"socketio_ack_sent_latency_seconds", nil, 1},
	)
	for name, f := range m {
		for _, s := range f.Metric {
			for _, l := range s.Label {
				if l.GetName() == "namespace" || l.GetName() == "event" {
					t.Errorf("%s has a %s label", name, l.GetName())
				}
			}
		}
	}
}

// Label values are capped: past MaxLabelValues, new namespace and event
// names are counted as "other", however many the clients send.
func TestMaxLabelValues(t *testing.T) {
	ts := echoServer(t, sioprom.Options{
		NamespaceLabel: func(n string) string { return n },
		EventLabel:     func(e string) string { return e },
		MaxLabelValues: 3,
	})
	a := dial(t, ts.url, []string{client.WebSocket})
	const n, batch = 2000, 200 // more names than the resolver caches
	var m metrics
	for i := 0; i < n; i += batch {
		for j := i; j < i+batch; j++ {
			if err := a.Emit(fmt.Sprintf("ev-%d", j)); err != nil {
				t.Fatal(err)
			}
		}
		// In batches: the client would otherwise outrun the handlers
		// (MaxPendingEvents) under the race detector.
		m = waitMetrics(t, ts.url, want{"socketio_event_duration_seconds", []string{"namespace", "/", "event", "other"}, float64(i + batch - 3)})
	}
	if v, _ := m.get("socketio_overflow_closes_total", "queue", "incoming"); v != 0 {
		t.Fatalf("%v overflows", v)
	}
	if sets := m.labelSets("socketio_events_received_total"); len(sets) != 4 {
		t.Errorf("%d series: %q", len(sets), sets)
	}
	if total := m.sum("socketio_events_received_total"); total != n {
		t.Errorf("events received %v, want %d", total, n)
	}
}

// A client whose events pile up past MaxPendingEvents is an incoming
// overflow; one that stops reading while the server sends is an outgoing
// one (its send buffer full): each closes one session with "transport
// error".
func TestOverflowCloses(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts := newTestServer(t, socketio.Config{
		MaxPendingEvents: 4,
		Engine:           engineio.Config{MaxBufferedBytes: 64 << 10},
	}, sioprom.Options{})
	ts.io.OnConnection(func(s *socketio.Socket) {
		s.On("block", func(*socketio.Event) { <-release })
	})

	raw, _, err := testutil.DialWS(t, ts.url, "/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := raw.Next(); !strings.HasPrefix(m.Data, "0{") {
		t.Fatalf("open packet %q", m.Data)
	}
	raw.Send("40")
	if m := raw.Next(); !strings.HasPrefix(m.Data, "40{") {
		t.Fatalf("connect reply %q", m.Data)
	}
	raw.Send(`42["block"]`)
	for range 10 {
		_ = raw.Conn.WriteString(`42["x"]`)
	}
	raw.WaitClosed()
	waitMetrics(t, ts.url,
		want{"socketio_overflow_closes_total", []string{"queue", "incoming"}, 1},
		want{"socketio_overflow_closes_total", []string{"queue", "outgoing"}, 0},
		want{"socketio_engine_closes_total", []string{"reason", "transport error"}, 1},
	)

	stalledClient(t, ts.url)
	payload := strings.Repeat("y", 4096)
	deadline := time.Now().Add(10 * time.Second)
	for len(ts.io.Sockets()) > 0 && time.Now().Before(deadline) {
		_ = ts.io.Emit("flood", payload)
	}
	waitMetrics(t, ts.url,
		want{"socketio_overflow_closes_total", []string{"queue", "incoming"}, 1},
		want{"socketio_overflow_closes_total", []string{"queue", "outgoing"}, 1},
		want{"socketio_engine_closes_total", []string{"reason", "transport error"}, 2},
	)
}

// Volatile packets dropped are counted as the server reports them, per
// namespace.
func TestVolatileDropped(t *testing.T) {
	ts := newTestServer(t, socketio.Config{}, sioprom.Options{NamespaceLabel: sioprom.Allow("/")})
	seen := &sizes{count: map[string]int{}}
	ts.io.Observe(socketio.Observer{VolatileDropped: func(*socketio.Socket, *parser.Packet) { seen.add("dropped", 1) }})
	dial(t, ts.url, []string{client.WebSocket})
	// A burst bigger than the loopback's buffers finds the connection
	// busy most of the time.
	payload := strings.Repeat("x", 4096)
	for i := range 5000 {
		_ = ts.io.Volatile().Emit("tick", i, payload)
	}
	dropped := seen.get("dropped")
	if dropped == 0 {
		t.Fatal("no volatile packet dropped")
	}
	waitMetrics(t, ts.url, want{"socketio_volatile_dropped_total", []string{"namespace", "/"}, float64(dropped)})
}

// Adapter errors are counted per namespace; the publish queue of a
// cluster adapter is read at scrape time.
func TestAdapterErrorsAndPublishQueue(t *testing.T) {
	b := clustertest.New()
	ts := newTestServer(t, socketio.Config{Adapter: b.Factory(cluster.Options{PublishTimeout: 200 * time.Millisecond})},
		sioprom.Options{NamespaceLabel: sioprom.Allow("/")})
	b.Hang()
	for i := range 5 {
		if err := ts.io.Emit("x", i); err != nil {
			t.Fatal(err)
		}
	}
	q := ts.io.MainNamespace().Adapter().(adapter.PublishQueue)
	m := scrape(t, ts.url)
	if v, ok := m.get("socketio_adapter_publish_queue_length"); !ok || v < 1 || int(v) > q.PublishQueueLen()+1 {
		t.Errorf("publish queue length %v (present %v), the adapter says %d", v, ok, q.PublishQueueLen())
	}
	b.Resume()
	b.Fail(true)
	if err := ts.io.Emit("x", 1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := scrape(t, ts.url)
		v, _ := m.get("socketio_adapter_errors_total", "namespace", "/")
		q, _ := m.get("socketio_adapter_publish_queue_length")
		if v >= 1 && q == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("adapter errors %v, publish queue %v", v, q)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// New refuses a nil server and reports a registration conflict; the
// collector passes the registry's consistency checks (a pedantic registry
// in every other test).
func TestNewErrors(t *testing.T) {
	if _, err := sioprom.New(nil, sioprom.Options{}); err == nil {
		t.Error("New(nil) succeeded")
	}
	reg := prom.NewRegistry()
	for i, wantErr := range []bool{false, true} {
		io, err := socketio.NewServer(socketio.Config{})
		if err != nil {
			t.Fatal(err)
		}
		defer io.Close()
		_, err = sioprom.New(io, sioprom.Options{Registerer: reg})
		if (err != nil) != wantErr {
			t.Errorf("registration %d: %v", i, err)
		}
	}
}

// Allow keeps its names and maps the others to Other.
func TestAllow(t *testing.T) {
	f := sioprom.Allow("chat", "/")
	for _, tc := range []struct{ in, want string }{
		{"chat", "chat"}, {"/", "/"}, {"typing", sioprom.Other}, {"", sioprom.Other},
	} {
		if got := f(tc.in); got != tc.want {
			t.Errorf("Allow(...)(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// What clients choose cannot take the label values: packets to namespaces
// the server does not have are counted as "other" without using one of
// MaxLabelValues (a namespace created later still gets its own), and a
// label function's invalid UTF-8 becomes "other" instead of a panic.
func TestLabelValuesFromClients(t *testing.T) {
	ts := newTestServer(t, socketio.Config{}, sioprom.Options{
		NamespaceLabel: func(n string) string { return n },
		EventLabel: func(e string) string {
			if e == "bad" {
				return "\xff"
			}
			return e
		},
		MaxLabelValues: 2,
	})
	ts.io.OnConnection(func(s *socketio.Socket) {
		s.On("bad", func(*socketio.Event) {})
	})
	raw, _, err := testutil.DialWS(t, ts.url, "/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := raw.Next(); !strings.HasPrefix(m.Data, "0{") {
		t.Fatalf("open packet %q", m.Data)
	}
	for i := range 5 {
		nsp := fmt.Sprintf("/nope-%d", i)
		raw.Send("40" + nsp + ",")
		if m := raw.Next(); m.Data != `44`+nsp+`,{"message":"Invalid namespace"}` {
			t.Fatalf("connect to %s: %q", nsp, m.Data)
		}
	}
	raw.Send("40")
	if m := raw.Next(); !strings.HasPrefix(m.Data, "40{") {
		t.Fatalf("connect reply %q", m.Data)
	}
	raw.Send(`42["bad"]`)
	if _, err := ts.io.Of("/chat"); err != nil { // after the unknown ones
		t.Fatal(err)
	}
	dial(t, ts.url+"/chat", []string{client.WebSocket})
	m := waitMetrics(t, ts.url,
		want{"socketio_connected", []string{"namespace", "/"}, 1},
		want{"socketio_connected", []string{"namespace", "/chat"}, 1},
		want{"socketio_events_received_total", []string{"namespace", "/", "event", "other"}, 1},
	)
	if v, _ := m.get("socketio_received_bytes_total", "namespace", "other"); v != float64(5*len("0/nope-0,")) {
		t.Errorf("bytes to unknown namespaces %v, want %d", v, 5*len("0/nope-0,"))
	}
	for _, set := range m.labelSets("socketio_received_bytes_total") {
		if strings.Contains(set, "nope") {
			t.Errorf("series %s", set)
		}
	}
}
