package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	socketio "github.com/gosio/socketio"
	natsadapter "github.com/gosio/socketio/adapter/nats"
	"github.com/gosio/socketio/client"
)

// randomName is a fresh cluster name (subject prefix, stream).
func randomName(what string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return what + "-" + hex.EncodeToString(b)
}

// goNode is a Go server of a live test.
type goNode struct {
	io  *socketio.Server
	url string
}

func newGoNode(t *testing.T, nc *nats.Conn, cluster string, js bool) *goNode {
	t.Helper()
	if js {
		t.Cleanup(func() { deleteJetStream(cluster) })
	}
	io, err := socketio.NewServer(socketio.Config{Adapter: natsadapter.NewAdapter(nc, natsadapter.Options{
		Prefix: cluster, JetStream: js, MemoryStorage: true,
		RequestsTimeout: conformanceTimeout, HeartbeatInterval: heartbeatInterval, HeartbeatTimeout: heartbeatTimeout,
		Logger: testLogger(),
	})})
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) { s.Join("room") })
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		_ = io.Close()
		hs.Close()
	})
	return &goNode{io: io, url: hs.URL}
}

func deleteJetStream(cluster string) {
	c, err := nats.Connect(natsURL, nats.NoReconnect(), nats.Timeout(time.Second))
	if err != nil {
		return
	}
	defer c.Close()
	j, err := jetstream.New(c)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = j.DeleteStream(ctx, cluster)
	_ = j.DeleteKeyValue(ctx, cluster+"_sessions")
}

func dialClient(t *testing.T, url string) *client.Socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, url, &client.Options{Transports: []string{"websocket"}, NoReconnection: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("connect to %s: %v", url, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func receive(t *testing.T, s *client.Socket, wait time.Duration) *client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ev, err := s.Receive(ctx)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return ev
}

// waitCount waits until the server counts k servers.
func waitCount(t *testing.T, io *socketio.Server, k int) {
	t.Helper()
	nsp, err := io.Of("/")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		n, _ := nsp.Adapter().ServerCount(ctx)
		cancel()
		if n == k {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server count %d, want %d", n, k)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Options that make no valid subject, stream or bucket are an error of
// NewServer (the factory's), not a silent fallback.
func TestBadOptions(t *testing.T) {
	t.Parallel()
	nc := connect(t, natsURL)
	for _, o := range []natsadapter.Options{
		{Prefix: "a b"},
		{Prefix: "a.*"},
		{Prefix: "a..b"},
		{JetStream: true, Stream: "a.b"},
	} {
		if _, err := socketio.NewServer(socketio.Config{Adapter: natsadapter.NewAdapter(nc, o)}); err == nil ||
			!strings.Contains(err.Error(), "nats adapter") {
			t.Errorf("%+v: NewServer error %v, want the adapter's", o, err)
		}
	}
	if _, err := socketio.NewServer(socketio.Config{Adapter: natsadapter.NewAdapter(nil, natsadapter.Options{})}); err == nil {
		t.Error("a nil connection: no error")
	}
}

// All the namespaces of a server share its connection: three
// subscriptions per namespace (two in JetStream mode, plus the stream
// reader's), all gone once the server is closed.
func TestOneConnectionForManyNamespaces(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{false, true} {
		t.Run(fmt.Sprintf("jetstream=%v", js), func(t *testing.T) {
			nc := connect(t, natsURL)
			// nats.go's request multiplexer (one subscription for the
			// connection's life, used by JetStream calls) is not ours.
			_, _ = nc.Request("$JS.API.INFO", nil, 2*time.Second)
			base := nc.NumSubscriptions()
			cluster := randomName("many")
			if js {
				t.Cleanup(func() { deleteJetStream(cluster) })
			}
			io, err := socketio.NewServer(socketio.Config{Adapter: natsadapter.NewAdapter(nc, natsadapter.Options{Prefix: cluster, JetStream: js, MemoryStorage: true})})
			if err != nil {
				t.Fatal(err)
			}
			const n = 200
			for i := range n - 1 {
				if _, err := io.Of(fmt.Sprintf("/n%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			per := 3
			if js {
				per = 2
			}
			got := nc.NumSubscriptions() - base
			if got < n*per || got > n*per+1 {
				t.Errorf("%d subscriptions for %d namespaces, want %d (+ the stream reader's)", got, n, n*per)
			}
			if err := io.Close(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(3 * time.Second)
			for nc.NumSubscriptions() != base && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if k := nc.NumSubscriptions() - base; k != 0 {
				t.Errorf("%d subscriptions left after Close", k)
			}
		})
	}
}

// Garbage on every subject of a namespace (and in the stream) is dropped:
// nothing panics and the cluster goes on working.
func TestMalformedMessages(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{false, true} {
		t.Run(fmt.Sprintf("jetstream=%v", js), func(t *testing.T) {
			cluster := randomName("malformed")
			a := newGoNode(t, connect(t, natsURL), cluster, js)
			b := newGoNode(t, connect(t, natsURL), cluster, js)
			waitCount(t, a.io, 2)
			waitCount(t, b.io, 2)
			cb := dialClient(t, b.url)
			nsp, _ := b.io.Of("/")
			uid := nsp.Adapter().(interface{ UID() string }).UID()
			raw := connect(t, natsURL)
			tok := natsadapter.Token("/")
			for _, subj := range []string{"broadcast", "request", uid} {
				for _, payload := range [][]byte{nil, []byte("{"), []byte("null"), []byte(`{"type":3}`), []byte(`{"type":3,"nsp":"/","data":{"packet":7}}`),
					[]byte(`{"type":"x"}`), {0x81, 0xa4}, []byte(`{"type":7,"nsp":"/","uid":"zz","data":{"requestId":5,"opts":"x"}}`)} {
					if err := raw.Publish(cluster+"."+tok+"."+subj, payload); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := raw.Flush(); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := a.io.To("room").Emit("after-garbage", i); err != nil {
					t.Fatal(err)
				}
				ev := receive(t, cb, 5*time.Second)
				var got int
				if ev.Name != "after-garbage" || ev.Bind(&got) != nil || got != i {
					t.Fatalf("after the garbage: %s %v, want after-garbage %d", ev.Name, ev.Args(), i)
				}
			}
		})
	}
}

// In JetStream mode a server whose NATS connection is cut gets, once it
// is back, every broadcast the others made meanwhile, in order, once; in
// core mode those are lost (at most once), which the test shows too.
func TestResumeAfterConnectionLoss(t *testing.T) {
	t.Parallel()
	for _, js := range []bool{false, true} {
		t.Run(fmt.Sprintf("jetstream=%v", js), func(t *testing.T) {
			cluster := randomName("resume")
			px := newSwitchProxy(t, strings.TrimPrefix(natsURL, "nats://"))
			ncA := connect(t, "nats://"+px.ln.Addr().String())
			a := newGoNode(t, ncA, cluster, js)
			b := newGoNode(t, connect(t, natsURL), cluster, js)
			waitCount(t, a.io, 2)
			ca := dialClient(t, a.url)
			if err := b.io.To("room").Emit("before"); err != nil {
				t.Fatal(err)
			}
			if ev := receive(t, ca, 5*time.Second); ev.Name != "before" {
				t.Fatalf("before the cut: %s", ev.Name)
			}

			px.cut()
			deadline := time.Now().Add(5 * time.Second)
			for ncA.IsConnected() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if ncA.IsConnected() {
				t.Fatal("server A still connected after the cut")
			}
			const n = 20
			for i := range n {
				if err := b.io.To("room").Emit("during", i); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(300 * time.Millisecond) // B's queue is flushed
			px.to(strings.TrimPrefix(natsURL, "nats://"))
			deadline = time.Now().Add(5 * time.Second)
			for !ncA.IsConnected() && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if !ncA.IsConnected() {
				t.Fatal("server A did not reconnect")
			}
			// Its subscriptions are back in place once the server answers.
			if err := ncA.FlushTimeout(5 * time.Second); err != nil {
				t.Fatal(err)
			}
			if !js {
				// Core NATS: what was published meanwhile is lost for A.
				waitCount(t, b.io, 2)
				if err := b.io.To("room").Emit("after"); err != nil {
					t.Fatal(err)
				}
				for {
					ev := receive(t, ca, 10*time.Second)
					if ev.Name == "after" {
						return
					}
					if ev.Name == "during" {
						t.Fatalf("core mode delivered a message published while A was cut off: %v", ev.Args())
					}
				}
			}
			for i := range n {
				ev := receive(t, ca, 10*time.Second)
				var got int
				if ev.Name != "during" || ev.Bind(&got) != nil || got != i {
					t.Fatalf("event %d after the reconnection: %s %v", i, ev.Name, ev.Args())
				}
			}
			if err := b.io.To("room").Emit("after"); err != nil {
				t.Fatal(err)
			}
			if ev := receive(t, ca, 5*time.Second); ev.Name != "after" {
				t.Fatalf("after: %s %v (a duplicate?)", ev.Name, ev.Args())
			}
		})
	}
}

// The stream the JetStream mode creates is bounded as configured (named
// streams and buckets too), and keeps only the newest MaxMsgs broadcasts.
func TestStreamBounds(t *testing.T) {
	t.Parallel()
	cluster := randomName("bounds")
	stream, bucket := cluster+"-s", cluster+"-b"
	nc := connect(t, natsURL)
	t.Cleanup(func() {
		j, err := jetstream.New(nc)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = j.DeleteStream(ctx, stream)
		_ = j.DeleteKeyValue(ctx, bucket)
	})
	io, err := socketio.NewServer(socketio.Config{
		Adapter: natsadapter.NewAdapter(nc, natsadapter.Options{Prefix: cluster, JetStream: true, Stream: stream,
			SessionBucket: bucket, MaxMsgs: 5, MaxAge: 90 * time.Second, MemoryStorage: true}),
		ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: 30 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer io.Close()
	hs := httptest.NewServer(io)
	defer hs.Close()
	for i := range 12 {
		if err := io.Emit("e", i); err != nil {
			t.Fatal(err)
		}
	}
	j, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var info *jetstream.StreamInfo
	for {
		st, err := j.Stream(ctx, stream)
		if err != nil {
			t.Fatalf("stream %s: %v", stream, err)
		}
		info = st.CachedInfo()
		if info.State.LastSeq >= 12 || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.Config.MaxMsgs != 5 || info.Config.MaxAge != 90*time.Second || info.Config.Storage != jetstream.MemoryStorage {
		t.Errorf("stream config: max msgs %d, max age %v, storage %v", info.Config.MaxMsgs, info.Config.MaxAge, info.Config.Storage)
	}
	if got := info.Config.Subjects; len(got) != 1 || got[0] != cluster+".*.broadcast" {
		t.Errorf("stream subjects %v", got)
	}
	if info.State.LastSeq != 12 || info.State.Msgs != 5 || info.State.FirstSeq != 8 {
		t.Errorf("stream state: last %d, %d messages from %d; want 12, 5 from 8", info.State.LastSeq, info.State.Msgs, info.State.FirstSeq)
	}
	// The session of a socket whose connection was lost lands in the
	// named bucket.
	px := newSwitchProxy(t, hs.Listener.Addr().String())
	c := dialClient(t, "http://"+px.ln.Addr().String())
	if err := io.Emit("offset"); err != nil {
		t.Fatal(err)
	}
	receive(t, c, 5*time.Second)
	px.cut()
	for {
		kv, err := j.KeyValue(ctx, bucket)
		if err == nil {
			if st, err := kv.Status(ctx); err == nil && st.Values() == 1 {
				if st.TTL() != 30*time.Second {
					t.Errorf("bucket TTL %v, want the recovery's 30s", st.TTL())
				}
				return
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("no session in bucket %s: %v", bucket, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The JetStream mode on a NATS server without JetStream: NewServer fails
// with the adapter's error (no silent fallback to core NATS), and the core
// mode works there.
func TestNoJetStream(t *testing.T) {
	t.Parallel()
	srv, err := startNATSWith("", false)
	if err != nil {
		t.Fatalf("start nats-server without JetStream: %v", err)
	}
	t.Cleanup(srv.stop)
	nc := connect(t, srv.url)
	_, err = socketio.NewServer(socketio.Config{Adapter: natsadapter.NewAdapter(nc, natsadapter.Options{
		Prefix: randomName("nojs"), JetStream: true, RequestsTimeout: time.Second})})
	if err == nil || !strings.Contains(err.Error(), "JetStream enabled") {
		t.Fatalf("JetStream mode without JetStream: NewServer error %v, want the adapter's", err)
	}
	t.Logf("JetStream mode without JetStream: %v", err)
	if n := nc.NumSubscriptions(); n > 1 { // nats.go's request multiplexer
		t.Errorf("%d subscriptions left by the failed server", n)
	}
	io, err := socketio.NewServer(socketio.Config{Adapter: natsadapter.NewAdapter(nc, natsadapter.Options{Prefix: randomName("nojs")})})
	if err != nil {
		t.Fatalf("core mode: %v", err)
	}
	_ = io.Close()
}
