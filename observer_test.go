package socketio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/adapter/cluster/clustertest"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/internal/testutil"
	"github.com/gosio/socketio/parser"
)

// observed records what an Observer saw, as lines such as
// "connected /" or "event sum".
type observed struct {
	mu    sync.Mutex
	lines []string
	count map[string]int
	bytes map[string]int
}

func (o *observed) add(line string) {
	o.mu.Lock()
	o.lines = append(o.lines, line)
	o.mu.Unlock()
}

func (o *observed) inc(k string, size int) {
	o.mu.Lock()
	o.count[k]++
	o.bytes[k] += size
	o.mu.Unlock()
}

// has reports whether every line of want was seen, in that order (others
// may come between).
func (o *observed) has(want ...string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := 0
	for _, l := range o.lines {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	return i == len(want)
}

func (o *observed) wait(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !o.has(want...) {
		if time.Now().After(deadline) {
			o.mu.Lock()
			defer o.mu.Unlock()
			t.Fatalf("observer did not see %q in order; saw %q", want, o.lines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type obsCtxKey struct{}

// observer returns an Observer that records into o every event it can
// see, and puts "traced <event>" in each event's context.
func (o *observed) observer() socketio.Observer {
	return socketio.Observer{
		ConnOpened:   func(c *engineio.Conn) { o.add("open " + c.Transport()) },
		ConnUpgraded: func(c *engineio.Conn, tr string) { o.add("upgrade " + tr) },
		ConnClosed: func(c *engineio.Conn, reason string, _ error) {
			o.add("close " + reason)
		},
		EnginePacketIn:  func(_ *engineio.Conn, t packet.Type, size int) { o.inc("engine in "+t.String(), size) },
		EnginePacketOut: func(_ *engineio.Conn, t packet.Type, size int) { o.inc("engine out "+t.String(), size) },
		PacketIn: func(_ *engineio.Conn, p *parser.Packet, size int) {
			o.inc("in "+p.Type.String(), size)
			if p.Type == parser.Event {
				name, _ := parser.EventName(p)
				o.inc("in event "+name, size)
			}
		},
		PacketOut: func(_ *engineio.Conn, p *parser.Packet, size int) {
			o.inc("out "+p.Type.String(), size)
			if p.Type == parser.Event {
				name, _ := parser.EventName(p)
				o.inc("out event "+name, size)
			}
		},
		SocketConnecting: func(s *socketio.Socket) func(error) {
			o.add("connecting " + s.Namespace().Name())
			return func(err error) {
				if err != nil {
					o.add("refused " + s.Namespace().Name() + ": " + err.Error())
					return
				}
				o.add("accepted " + s.Namespace().Name())
			}
		},
		SocketConnected: func(s *socketio.Socket) { o.add("connected " + s.Namespace().Name()) },
		SocketDataSet:   func(s *socketio.Socket) { o.add(fmt.Sprint("data ", s.Data())) },
		SocketDisconnected: func(s *socketio.Socket, reason string) {
			o.add("disconnected " + s.Namespace().Name() + " " + reason)
		},
		RoomJoined: func(n *socketio.Namespace, room, id string) {
			if room != id {
				o.add("joined " + n.Name() + " " + room)
			}
		},
		RoomLeft: func(n *socketio.Namespace, room, id string) {
			if room != id {
				o.add("left " + n.Name() + " " + room)
			}
		},
		EventReceived: func(ctx context.Context, ev *socketio.Event) (context.Context, func(error)) {
			o.add("event " + ev.Name)
			return context.WithValue(ctx, obsCtxKey{}, "traced "+ev.Name), func(err error) {
				o.add(fmt.Sprintf("handled %s %v", ev.Name, err))
			}
		},
		AckSent: func(ev *socketio.Event, latency time.Duration) {
			if latency >= 0 {
				o.add("ack sent " + ev.Name)
			}
		},
		AckReceived: func(s *socketio.Socket, latency time.Duration) {
			if latency > 0 {
				o.add("ack received")
			}
		},
		VolatileDropped: func(s *socketio.Socket, p *parser.Packet) { o.inc("volatile dropped", 0) },
		Overflow:        func(s *socketio.Socket, err error) { o.add("overflow") },
	}
}

func newObserved() *observed {
	return &observed{count: map[string]int{}, bytes: map[string]int{}}
}

// The observer sees a whole session with the official client, over each
// transport: the connection and its upgrade, a refused and an accepted
// CONNECT, events with their context, acks both ways, rooms, packets and
// bytes, the disconnect and the close.
func TestObserverWithOfficialClient(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, url, _ := newTestServer(t, socketio.Config{})
		o := newObserved()
		io.Observe(o.observer())
		io.OnConnection(func(s *socketio.Socket) {
			s.SetData("user-1")
			s.On("ctx", func(e *socketio.Event) { _ = e.Ack(e.Context().Value(obsCtxKey{})) })
		})
		var names []string
		for _, n := range io.Namespaces() {
			names = append(names, n.Name())
		}
		if !slices.Equal(names, []string{"/", "/admin", "/private"}) {
			t.Errorf("Namespaces() = %q", names)
		}
		p := driver(t, url)
		connect(t, p, "a", tr, nil)
		p.Send(map[string]any{"cmd": "connect", "c": "p", "nsp": "/private", "transports": tr})
		p.ExpectEv("connect_error", "p")

		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "ctx", "ack": true, "seq": 1})
		jsonEq(t, "event context", ackOf(t, p, "a", 1)["args"], `["traced ctx"]`)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "sum", "args": []any{[]int{1, 2}}, "ack": true, "seq": 2})
		jsonEq(t, "sum", ackOf(t, p, "a", 2)["args"], `[3]`)
		p.Send(map[string]any{"cmd": "reply", "c": "a", "event": "question", "args": []any{7}})
		p.ExpectEv("replying", "a")
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "ask-me", "args": []any{3000}})
		jsonEq(t, "answer", eventOf(t, p, "a", "answer")["args"], `[7]`)
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "join", "args": []any{"r1"}, "ack": true, "seq": 3})
		ackOf(t, p, "a", 3)
		p.Send(map[string]any{"cmd": "disconnect", "c": "a"})

		want := []string{"open " + tr[0], "connecting /", "accepted /", "connected /", "data user-1"}
		if len(tr) == 2 {
			want = append(want, "upgrade websocket")
		}
		o.wait(t, want...)
		o.wait(t, "connecting /private", "refused /private: Not authorized")
		o.wait(t, "event ctx", "ack sent ctx", "handled ctx <nil>",
			"event sum", "ack sent sum", "handled sum <nil>",
			"event ask-me", "ack received", "handled ask-me <nil>",
			"event join", "joined / r1", "ack sent join", "handled join <nil>",
			"disconnected / client namespace disconnect", "left / r1")
		o.wait(t, "disconnected / client namespace disconnect", "close transport close")

		o.mu.Lock()
		defer o.mu.Unlock()
		if o.count["in event sum"] != 1 || o.bytes["in event sum"] < len(`2["sum",[1,2]]`) {
			t.Errorf("sum in: %d packets, %d bytes", o.count["in event sum"], o.bytes["in event sum"])
		}
		if o.count["out event answer"] != 1 || o.count["out ACK"] < 3 || o.count["out CONNECT_ERROR"] != 1 || o.count["in CONNECT"] != 2 {
			t.Errorf("packets out: %v", o.count)
		}
		if o.count["engine in message"] < 5 || o.count["engine out message"] < 5 || o.bytes["engine out message"] < o.bytes["out ACK"] {
			t.Errorf("engine packets: %v %v", o.count, o.bytes)
		}
	})
}

// Engine-level hooks a user adds through Server.Engine() run beside the
// Socket.IO layer's own instead of replacing them.
func TestEngineHooksAreAdditive(t *testing.T) {
	io, url, _ := newTestServer(t, socketio.Config{})
	var mu sync.Mutex
	conns, msgs := 0, 0
	io.Engine().OnConnection(func(c *engineio.Conn) {
		mu.Lock()
		conns++
		mu.Unlock()
		c.OnMessage(func(data []byte, binary bool) {
			mu.Lock()
			msgs++
			mu.Unlock()
		})
	})
	p := driver(t, url)
	connect(t, p, "a", []string{"websocket"}, nil)
	p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "sum", "args": []any{[]int{4, 5}}, "ack": true, "seq": 1})
	jsonEq(t, "sum", ackOf(t, p, "a", 1)["args"], `[9]`)
	mu.Lock()
	defer mu.Unlock()
	if conns != 1 || msgs < 2 { // CONNECT and the event
		t.Fatalf("user hooks saw %d connections, %d messages", conns, msgs)
	}
}

// A client whose events pile up is reported to Overflow before its
// connection closes; a refused packet middleware is the error its
// EventReceived observer gets.
func TestObserverOverflowAndRefusal(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	io, url, _ := newTestServer(t, socketio.Config{MaxPendingEvents: 4})
	o := newObserved()
	io.Observe(o.observer())
	io.OnConnection(func(s *socketio.Socket) {
		s.Use(func(e *socketio.Event) error {
			if e.Name == "forbidden" {
				return errors.New("not allowed")
			}
			return nil
		})
		s.On("block", func(*socketio.Event) { <-release })
	})
	c, _ := rawSocket(t, url, "/")
	c.Send(`42["forbidden"]`)
	o.wait(t, "event forbidden", "handled forbidden not allowed")
	c.Send(`42["block"]`)
	for range 10 {
		_ = c.Conn.WriteString(`42["echo"]`)
	}
	c.WaitClosed()
	o.wait(t, "overflow", "close transport error")
}

// Volatile packets a connection is not ready for are reported, one per
// socket; the others are seen as sent.
func TestObserverVolatileDropped(t *testing.T) {
	io, url, _ := newTestServer(t, socketio.Config{})
	o := newObserved()
	io.Observe(o.observer())
	_, _ = rawSocket(t, url, "/")
	// A WebSocket is ready when nothing is queued for it: a burst of 20 MB
	// (more than the loopback's buffers hold, for a client that reads
	// slowly) finds it busy most of the time.
	const n = 5000
	payload := strings.Repeat("x", 4096)
	for i := range n {
		_ = io.Volatile().Emit("tick", i, payload)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	dropped, sent := o.count["volatile dropped"], o.count["out event tick"]
	if dropped+sent != n || dropped == 0 || sent == 0 {
		t.Fatalf("dropped %d + sent %d, want %d with some of each", dropped, sent, n)
	}
}

// An adapter's publication that fails after the emit returned reaches
// AdapterError, with its namespace.
func TestObserverAdapterError(t *testing.T) {
	b := clustertest.New()
	io, err := socketio.NewServer(socketio.Config{Adapter: b.Factory(cluster.Options{PublishTimeout: 200 * time.Millisecond})})
	if err != nil {
		t.Fatal(err)
	}
	defer io.Close()
	var mu sync.Mutex
	var got []string
	io.Observe(socketio.Observer{AdapterError: func(n *socketio.Namespace, err error) {
		mu.Lock()
		got = append(got, n.Name()+": "+err.Error())
		mu.Unlock()
	}})
	b.Fail(true)
	if err := io.Emit("x", 1); err != nil {
		t.Fatalf("emit: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := slices.Clone(got)
		mu.Unlock()
		if len(n) > 0 {
			if !strings.HasPrefix(n[0], "/: ") {
				t.Fatalf("adapter errors %q", n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no adapter error observed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lines returns the records as "message k=v k=v" text.
func (h *logRecords) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// The DEBUG environment variable turns on the wire log, as Node's does:
// with socket.io* the Socket.IO packets both ways, with engine* the
// sessions and their Engine.IO packets; nothing without it.
func TestWireLogFromDebugEnv(t *testing.T) {
	for _, tc := range []struct {
		debug string
		want  []string // substrings, in order
		not   []string
	}{
		{"socket.io*", []string{
			`socket.io in sid=`, `type=CONNECT nsp=/`,
			`socket.io out sid=`, `type=CONNECT nsp=/ data={"sid":`,
			`socket.io in sid=`, `type=EVENT nsp=/ ack=7 data=["echo-ack","hé"] bytes=`,
			`socket.io out sid=`, `type=ACK nsp=/ ack=7 data=["hé"]`,
		}, []string{"engine "}},
		{"engine", []string{`engine open sid=`, `transport=websocket`, `engine in sid=`, `type=message`, `engine out sid=`}, []string{"socket.io "}},
		{"", nil, []string{"socket.io ", "engine "}},
	} {
		t.Run(tc.debug, func(t *testing.T) {
			t.Setenv("DEBUG", tc.debug)
			h := &logRecords{}
			_, url, _ := newTestServer(t, socketio.Config{Logger: slog.New(h)})
			c, _ := rawSocket(t, url, "/")
			c.Send(`427["echo-ack","hé"]`)
			c.Expect(`437["hé"]`)
			text := strings.Join(h.lines(), "\n")
			at := 0
			for _, w := range tc.want {
				i := strings.Index(text[at:], w)
				if i < 0 {
					t.Fatalf("log lacks %q after offset %d:\n%s", w, at, text)
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(text, n) {
					t.Fatalf("log has %q:\n%s", n, text)
				}
			}
		})
	}
}

// A socket's context, made on first use, is canceled when the socket
// disconnects, and one asked for afterwards is canceled already; its
// handshake, built on first use, has the query and auth of the CONNECT.
func TestSocketContextAndHandshakeOnDemand(t *testing.T) {
	io, url, _ := newTestServer(t, socketio.Config{})
	c, _, err := testutil.DialWS(t, url, "/socket.io/?EIO=4&transport=websocket&who=me", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Next() // open
	c.Send(`40{"token":"t1"}`)
	var reply struct{ SID string }
	m := c.Next()
	_ = json.Unmarshal([]byte(strings.TrimPrefix(m.Data, "40")), &reply)
	s := io.MainNamespace().Socket(reply.SID)
	if s == nil {
		t.Fatalf("no socket for %q", m.Data)
	}
	hs := s.Handshake()
	if hs.Query.Get("who") != "me" || hs.Auth["token"] != "t1" || s.Handshake() != hs {
		t.Fatalf("handshake query %v auth %v", hs.Query, hs.Auth)
	}
	before := s.Context()
	if before.Err() != nil {
		t.Fatal("context canceled while connected")
	}
	c.Send("41")
	select {
	case <-before.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("context not canceled by the disconnect")
	}
	if s.Context() != before {
		t.Fatal("a second Context call made another context")
	}

	// Never asked while connected: canceled from the start.
	c2, id2 := rawSocket(t, url, "/")
	s2 := io.MainNamespace().Socket(id2)
	c2.Send("41")
	deadline := time.Now().Add(5 * time.Second)
	for s2.Connected() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s2.Connected() || s2.Context().Err() == nil {
		t.Fatalf("connected %v, context error %v after the disconnect", s2.Connected(), s2.Context().Err())
	}
}
