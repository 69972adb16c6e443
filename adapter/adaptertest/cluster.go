package adaptertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// The namespaces every node serves: the main one and one more, to check
// that namespaces stay apart and that closing a connection reaches all its
// namespaces.
const (
	mainNsp  = "/"
	otherNsp = "/other"
)

var namespaces = []string{mainNsp, otherNsp}

// dynamicNsps are the names of the dynamic namespace every node serves
// (Server.OfRegexp): its children are created by the first CONNECT.
var dynamicNsps = regexp.MustCompile(`^/dyn-[0-9]+$`)

// nodeNames name the servers of a cluster in messages.
const nodeNames = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// env is what a case knows of the run: the options and the cluster size.
type env struct {
	o     Options
	nodes int
}

// clusterOpts modify the cluster of a case.
type clusterOpts struct {
	recovery bool     // turn on connection state recovery
	newNode  NodeFunc // default Options.NewNode
}

// cluster is the servers of one case, sharing one cluster name.
type cluster struct {
	o        Options
	name     string
	newNode  NodeFunc
	recovery bool

	nodes []*node
	peers []*peer
	seq   atomic.Int64 // peer and probe counters
}

// newCluster starts e.nodes servers and waits until each counts all of
// them in every namespace.
func (e *env) newCluster(t *testing.T, co clusterOpts) *cluster {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	c := &cluster{o: e.o, name: "adaptertest-" + hex.EncodeToString(b), newNode: co.newNode, recovery: co.recovery}
	if c.newNode == nil {
		c.newNode = e.o.NewNode
	}
	for range e.nodes {
		c.addNode(t)
	}
	c.waitCount(t, len(c.nodes), c.o.Wait)
	return c
}

// live returns the nodes not closed.
func (c *cluster) live() []*node {
	var out []*node
	for _, n := range c.nodes {
		if !n.closed.Load() {
			out = append(out, n)
		}
	}
	return out
}

// waitCount waits until every live node counts want servers in every
// namespace.
func (c *cluster) waitCount(t *testing.T, want int, within time.Duration) {
	t.Helper()
	c.waitCountIn(t, want, within, namespaces...)
}

// waitCountIn waits until every live node counts want servers in the
// namespaces nsps.
func (c *cluster) waitCountIn(t *testing.T, want int, within time.Duration, nsps ...string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, n := range c.live() {
		for _, name := range nsps {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), c.o.RequestTimeout)
				got, err := serverCount(ctx, of(t, n.io, name))
				cancel()
				if err == nil && got == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("node %s, namespace %s: server count %d (err %v), want %d within %v", n.name, name, got, err, want, within)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// node is one server of a cluster, with the suite's handlers.
type node struct {
	t    testing.TB // the test that started it
	c    *cluster
	name string
	io   *socketio.Server
	hs   *httptest.Server
	url  string
	addr string // host:port of hs

	// silent nodes do not answer server-side emits.
	silent atomic.Bool
	closed atomic.Bool

	side     chan sideEvent
	sideMu   sync.Mutex
	sideKept []sideEvent
	disc     chan discEvent
	discMu   sync.Mutex
	discKept []discEvent
	dropped  atomic.Int64 // events the channels had no room for
}

// sideEvent is a server-side event a node received.
type sideEvent struct {
	nsp     string
	args    string // canon of the arguments
	withAck bool
}

// discEvent is a socket of a node that disconnected.
type discEvent struct {
	nsp, id, reason string
}

// addNode starts one more server in the cluster.
func (c *cluster) addNode(t *testing.T) *node {
	t.Helper()
	cfg := c.newNode(t, c.name)
	cfg.ConnectionStateRecovery = nil
	if c.recovery {
		cfg.ConnectionStateRecovery = &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute}
	}
	io, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatalf("adaptertest: NewServer: %v", err)
	}
	n := &node{
		t:    t,
		c:    c,
		name: string(nodeNames[len(c.nodes)%len(nodeNames)]),
		io:   io,
		side: make(chan sideEvent, 256),
		disc: make(chan discEvent, 256),
	}
	for _, name := range namespaces {
		n.serve(of(t, io, name))
	}
	io.OnNewNamespace(n.serve)
	io.OfRegexp(dynamicNsps)
	n.hs = httptest.NewServer(io)
	n.url = n.hs.URL
	u, _ := url.Parse(n.url)
	n.addr = u.Host
	c.nodes = append(c.nodes, n)
	t.Cleanup(n.close)
	return n
}

// close stops the server: its connections, then its HTTP listener.
func (n *node) close() {
	if n.closed.Swap(true) {
		return
	}
	_ = n.io.Close()
	n.hs.Close()
}

// of returns the node's namespace.
func (n *node) of(name string) *socketio.Namespace { return of(n.t, n.io, name) }

// joinRequest is the payload of the "join" and "leave" events.
type joinRequest struct {
	Rooms []string `json:"rooms"`
}

// relayRequest makes a socket broadcast from its own handler.
type relayRequest struct {
	Room  string `json:"room"` // "" for every other socket
	Event string `json:"event"`
	Args  []any  `json:"args"`
}

// serve installs the suite's handlers on a namespace of the node.
func (n *node) serve(nsp *socketio.Namespace) {
	name := nsp.Name()
	nsp.OnConnection(func(s *socketio.Socket) {
		if !s.Recovered() {
			peer, _ := s.Handshake().Auth["name"].(string)
			s.SetData(map[string]any{"name": peer, "node": n.name})
		}
		s.On("join", func(e *socketio.Event) {
			var r joinRequest
			if err := e.Bind(&r); err != nil {
				_ = e.Ack("bad request: " + err.Error())
				return
			}
			if err := join(s.Context(), s, r.Rooms...); err != nil {
				_ = e.Ack("join: " + err.Error())
				return
			}
			_ = e.Ack("ok")
		})
		s.On("leave", func(e *socketio.Event) {
			var r joinRequest
			if err := e.Bind(&r); err != nil {
				_ = e.Ack("bad request: " + err.Error())
				return
			}
			for _, room := range r.Rooms {
				if err := leave(s.Context(), s, room); err != nil {
					_ = e.Ack("leave: " + err.Error())
					return
				}
			}
			_ = e.Ack("ok")
		})
		s.On("relay", func(e *socketio.Event) {
			var r relayRequest
			if err := e.Bind(&r); err != nil {
				_ = e.Ack("bad request: " + err.Error())
				return
			}
			op := s.Broadcast()
			if r.Room != "" {
				op = s.To(r.Room)
			}
			if err := emit(op, r.Event, r.Args...); err != nil {
				_ = e.Ack("emit: " + err.Error())
				return
			}
			_ = e.Ack("ok")
		})
		s.OnDisconnect(func(reason string) {
			record(n, n.disc, discEvent{name, s.ID(), reason})
		})
	})
	nsp.OnServerSideEmit("ping", func(e *socketio.ServerEvent) {
		vals, err := e.Args().Values()
		args := canon(vals)
		if err != nil {
			args = "undecodable: " + err.Error()
		}
		record(n, n.side, sideEvent{name, args, e.HasAck()})
		if e.HasAck() && !n.silent.Load() {
			_ = e.Ack(map[string]any{"node": n.name, "nsp": name})
		}
	})
}

// record queues ev on ch without ever blocking a server goroutine.
func record[T any](n *node, ch chan T, ev T) {
	select {
	case ch <- ev:
	default:
		n.dropped.Add(1)
	}
}

// expectSide waits for a server-side event in nsp with the arguments want
// (a canon string).
func (n *node) expectSide(t *testing.T, nsp, want string) sideEvent {
	t.Helper()
	n.sideMu.Lock()
	defer n.sideMu.Unlock()
	match := func(e sideEvent) bool { return e.nsp == nsp && e.args == want }
	if i := slices.IndexFunc(n.sideKept, match); i >= 0 {
		e := n.sideKept[i]
		n.sideKept = slices.Delete(n.sideKept, i, i+1)
		return e
	}
	timer := time.NewTimer(n.c.o.Wait)
	defer timer.Stop()
	for {
		select {
		case e := <-n.side:
			if match(e) {
				return e
			}
			n.sideKept = append(n.sideKept, e)
		case <-timer.C:
			t.Fatalf("node %s: no server-side event %s in %s within %v (got meanwhile: %v)", n.name, want, nsp, n.c.o.Wait, n.sideKept)
			return sideEvent{}
		}
	}
}

// sideEvents returns (and forgets) the server-side events received so far.
func (n *node) sideEvents() []sideEvent {
	n.sideMu.Lock()
	defer n.sideMu.Unlock()
	for {
		select {
		case e := <-n.side:
			n.sideKept = append(n.sideKept, e)
		default:
			out := n.sideKept
			n.sideKept = nil
			return out
		}
	}
}

// expectDisconnect waits until the socket id of nsp disconnected on the
// node and returns the server's reason.
func (n *node) expectDisconnect(t *testing.T, nsp, id string) string {
	t.Helper()
	n.discMu.Lock()
	defer n.discMu.Unlock()
	match := func(e discEvent) bool { return e.nsp == nsp && e.id == id }
	if i := slices.IndexFunc(n.discKept, match); i >= 0 {
		e := n.discKept[i]
		n.discKept = slices.Delete(n.discKept, i, i+1)
		return e.reason
	}
	timer := time.NewTimer(n.c.o.Wait)
	defer timer.Stop()
	for {
		select {
		case e := <-n.disc:
			if match(e) {
				return e.reason
			}
			n.discKept = append(n.discKept, e)
		case <-timer.C:
			t.Fatalf("node %s: socket %s of %s did not disconnect within %v", n.name, id, nsp, n.c.o.Wait)
			return ""
		}
	}
}

// waitMembers waits until the node's local members of room in nsp are
// exactly want (socket ids).
func (n *node) waitMembers(t *testing.T, nsp, room string, want []string) {
	t.Helper()
	want = sortedCopy(want)
	deadline := time.Now().Add(n.c.o.Wait)
	for {
		got := sortedCopy(localSockets(n.of(nsp).In(room)))
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: local members of %s in %s are %v, want %v (within %v)", n.name, room, nsp, got, want, n.c.o.Wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMembership waits until, on every live node, the local members of room
// in nsp are exactly the given sockets connected there.
func (c *cluster) waitMembership(t *testing.T, nsp, room string, members []*peer) {
	t.Helper()
	for _, n := range c.live() {
		var want []string
		for _, p := range members {
			if p.node == n {
				want = append(want, p.sock(nsp).id)
			}
		}
		n.waitMembers(t, nsp, room, want)
	}
}

func sortedCopy(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// canonJSON is canon of a value after a JSON round trip (what crosses a
// cluster as JSON).
func canonJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unencodable: " + err.Error()
	}
	var back any
	if err := json.Unmarshal(b, &back); err != nil {
		return "undecodable: " + err.Error()
	}
	return canon(back)
}

// names returns the peer names of ps, sorted.
func names(ps []*peer) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.name)
	}
	slices.Sort(out)
	return out
}
