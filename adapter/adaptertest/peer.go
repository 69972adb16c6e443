package adaptertest

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// probeEvent is the event of the readiness probes (see awaitRoute); peers
// never queue it.
const probeEvent = "adaptertest:probe"

// transportMode is one way for a client to connect.
type transportMode struct {
	name       string
	transports []string
	noUpgrade  bool
}

// transportModes are the client transports the peers of a cluster take in
// turn: WebSocket, HTTP long-polling, and polling upgraded to WebSocket.
var transportModes = []transportMode{
	{"websocket", []string{client.WebSocket}, false},
	{"polling", []string{client.Polling}, true},
	{"upgrade", []string{client.Polling, client.WebSocket}, false},
}

// answerFunc answers an event that waits for an acknowledgement; ok false
// leaves it unanswered.
type answerFunc func(e *client.Event) (args []any, ok bool)

// peer is one client: a Manager (one Engine.IO connection) with a socket on
// the main namespace and, when asked, on others.
type peer struct {
	name string
	node *node // the node it first connected to
	m    *client.Manager
	mode string

	socks map[string]*csock
}

// csock is one namespace socket of a peer, recording what it receives.
type csock struct {
	p   *peer
	nsp string
	s   *client.Socket
	id  string // the id of its first connection

	mu      sync.Mutex
	answers map[string]answerFunc
	probes  map[string]bool

	evs      chan *client.Event
	pending  []*client.Event // received, not yet expected
	overflow atomic.Bool
	disc     chan string // disconnect reasons
	conns    chan string // ids at each connection
}

// peerOpts modify a peer.
type peerOpts struct {
	// transport names one of transportModes; "" takes the cluster's next
	// one in turn.
	transport string
	// url to connect to instead of the node's (a proxy).
	url string
	// reconnect turns on automatic reconnection (fast, no jitter).
	reconnect bool
	// nsps are the namespaces to connect (default the main one).
	nsps []string
}

// sock returns the peer's socket of nsp.
func (p *peer) sock(nsp string) *csock {
	s := p.socks[nsp]
	if s == nil {
		panic("adaptertest: peer " + p.name + " has no socket on " + nsp)
	}
	return s
}

// main is the peer's socket of the main namespace.
func (p *peer) main() *csock { return p.sock(mainNsp) }

// connect connects a new peer to node n (its URL, or po.url) and waits
// until its sockets are connected.
func (c *cluster) connect(t *testing.T, n *node, name string, po peerOpts) *peer {
	t.Helper()
	seq := int(c.seq.Add(1))
	tm := transportModes[seq%len(transportModes)]
	if po.transport != "" {
		i := slices.IndexFunc(transportModes, func(m transportMode) bool { return m.name == po.transport })
		if i < 0 {
			t.Fatalf("adaptertest: unknown transport %q", po.transport)
		}
		tm = transportModes[i]
	}
	opts := &client.Options{
		Transports:     tm.transports,
		NoUpgrade:      tm.noUpgrade,
		Query:          url.Values{"peer": {name}},
		Header:         http.Header{"X-Peer": {name}},
		NoReconnection: !po.reconnect,
		Timeout:        c.o.Wait,
	}
	if po.reconnect {
		opts.ReconnectionDelay = 50 * time.Millisecond
		opts.ReconnectionDelayMax = 200 * time.Millisecond
		opts.RandomizationFactor = -1
	}
	target := n.url
	if po.url != "" {
		target = po.url
	}
	m, err := client.NewManager(target, opts)
	if err != nil {
		t.Fatalf("peer %s: %v", name, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	p := &peer{name: name, node: n, m: m, mode: tm.name, socks: map[string]*csock{}}
	nsps := po.nsps
	if len(nsps) == 0 {
		nsps = []string{mainNsp}
	}
	for _, nsp := range nsps {
		cs := &csock{
			p:       p,
			nsp:     nsp,
			s:       m.Socket(nsp, &client.SocketOptions{Auth: map[string]any{"name": name}}),
			answers: map[string]answerFunc{},
			probes:  map[string]bool{},
			evs:     make(chan *client.Event, 1024),
			disc:    make(chan string, 16),
			conns:   make(chan string, 16),
		}
		cs.s.OnAny(cs.onEvent)
		cs.s.OnDisconnect(func(reason string) { send(cs.disc, reason) })
		cs.s.OnConnect(func() { send(cs.conns, cs.s.ID()) })
		p.socks[nsp] = cs
	}
	for _, nsp := range nsps {
		cs := p.socks[nsp]
		ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
		err := cs.s.Connect(ctx)
		cancel()
		if err != nil {
			t.Fatalf("peer %s (%s) to node %s, %s: %v", name, tm.name, n.name, nsp, err)
		}
		cs.id = cs.s.ID()
		select {
		case <-cs.conns:
		case <-time.After(c.o.Wait):
			t.Fatalf("peer %s: connected without its OnConnect", name)
		}
	}
	c.peers = append(c.peers, p)
	return p
}

func send[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// onEvent runs on the client's handler goroutine for every event.
func (cs *csock) onEvent(e *client.Event) {
	if e.Name == probeEvent {
		var token string
		if err := e.Args().Decode(0, &token); err == nil {
			cs.mu.Lock()
			cs.probes[token] = true
			cs.mu.Unlock()
		}
		return
	}
	if e.HasAck() {
		cs.mu.Lock()
		fn := cs.answers[e.Name]
		cs.mu.Unlock()
		if fn != nil {
			if args, ok := fn(e); ok {
				_ = e.Ack(args...)
			}
		}
	}
	select {
	case cs.evs <- e:
	default:
		cs.overflow.Store(true)
	}
}

// answer sets how the socket answers event.
func (cs *csock) answer(event string, fn answerFunc) {
	cs.mu.Lock()
	cs.answers[event] = fn
	cs.mu.Unlock()
}

// wait is the bound of the socket's expectations.
func (cs *csock) wait() time.Duration { return cs.p.node.c.o.Wait }

// label names the socket in messages.
func (cs *csock) label() string {
	if cs.nsp == mainNsp {
		return fmt.Sprintf("%s@%s", cs.p.name, cs.p.node.name)
	}
	return fmt.Sprintf("%s@%s%s", cs.p.name, cs.p.node.name, cs.nsp)
}

// drain moves what arrived into pending.
func (cs *csock) drain() {
	for {
		select {
		case e := <-cs.evs:
			cs.pending = append(cs.pending, e)
		default:
			return
		}
	}
}

// expect waits for event name with arguments want (compared as canon
// values: numbers as float64, []byte as bytes) and returns it. Events
// received meanwhile are kept for later expectations, so the order between
// different events does not matter.
func (cs *csock) expect(t *testing.T, name string, want ...any) *client.Event {
	t.Helper()
	w := canon(want)
	match := func(e *client.Event) bool { return e.Name == name && eventArgs(e) == w }
	return cs.await(t, cs.wait(), fmt.Sprintf("%s%s", name, w), match)
}

// expectWithOffset is expect for an event with connection state recovery:
// its last argument is the offset, a non-empty string.
func (cs *csock) expectWithOffset(t *testing.T, name string, want ...any) *client.Event {
	t.Helper()
	match := func(e *client.Event) bool { return e.Name == name && hasArgsAndOffset(e, want) }
	return cs.await(t, cs.wait(), fmt.Sprintf("%s%s + offset", name, canon(want)), match)
}

func (cs *csock) await(t *testing.T, within time.Duration, what string, match func(*client.Event) bool) *client.Event {
	t.Helper()
	cs.drain()
	if i := slices.IndexFunc(cs.pending, match); i >= 0 {
		e := cs.pending[i]
		cs.pending = slices.Delete(cs.pending, i, i+1)
		return e
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case e := <-cs.evs:
			if match(e) {
				return e
			}
			cs.pending = append(cs.pending, e)
		case <-timer.C:
			var got []string
			for _, e := range cs.pending {
				got = append(got, e.Name+eventArgs(e))
			}
			t.Fatalf("%s (%s): no %s within %v; received and not expected so far: %v", cs.label(), cs.p.mode, what, within, got)
			return nil
		}
	}
}

// expectDisconnect waits until the socket disconnects and returns the
// client's reason.
func (cs *csock) expectDisconnect(t *testing.T) string {
	t.Helper()
	select {
	case r := <-cs.disc:
		return r
	case <-time.After(cs.wait()):
		t.Fatalf("%s: not disconnected within %v", cs.label(), cs.wait())
		return ""
	}
}

// eventArgs is canon of an event's arguments.
func eventArgs(e *client.Event) string {
	vals, err := e.Args().Values()
	if err != nil {
		return "undecodable: " + err.Error()
	}
	return canon(vals)
}

// quiet watches the sockets for the cluster's Quiet time and fails the test
// for every event named in names that arrived (and was not expected).
func (c *cluster) quiet(t *testing.T, socks []*csock, names ...string) {
	t.Helper()
	time.Sleep(c.o.Quiet)
	for _, cs := range socks {
		cs.drain()
		kept := cs.pending[:0]
		for _, e := range cs.pending {
			if slices.Contains(names, e.Name) {
				t.Errorf("%s (%s): unexpected event %s%s (a duplicate, or outside the selection)", cs.label(), cs.p.mode, e.Name, eventArgs(e))
				continue
			}
			kept = append(kept, e)
		}
		cs.pending = kept
		if cs.overflow.Load() {
			t.Errorf("%s: more than %d events queued: some were dropped", cs.label(), cap(cs.evs))
		}
	}
}

// socks returns the sockets of nsp of the peers.
func socks(nsp string, ps ...*peer) []*csock {
	out := make([]*csock, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.sock(nsp))
	}
	return out
}

// awaitRoute waits until broadcasts emitted through op reach every target
// socket: it emits probes (a fresh token each round, every 50 ms) until
// each target has received one. Cluster adapters subscribe rooms, or learn
// about new servers, asynchronously; a case uses it before it asserts the
// delivery of one broadcast when what it tests is not that readiness
// itself.
func (c *cluster) awaitRoute(t *testing.T, what string, emitVia func(event string, args ...any) error, targets ...*csock) {
	t.Helper()
	deadline := time.Now().Add(c.o.Wait)
	token := ""
	for round := 0; ; round++ {
		token = fmt.Sprintf("%s-%d-%d", c.name, c.seq.Add(1), round)
		if err := emitVia(probeEvent, token); err != nil && time.Now().After(deadline) {
			t.Fatalf("route %s: probe not emitted: %v", what, err)
		}
		next := time.Now().Add(50 * time.Millisecond)
		for {
			missing := c.missingProbe(targets)
			if len(missing) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("route %s: probes did not reach %v within %v", what, missing, c.o.Wait)
			}
			if time.Now().After(next) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// missingProbe returns the targets that have not seen any probe of the
// current route yet, and forgets the probes of those that have.
func (c *cluster) missingProbe(targets []*csock) []string {
	var missing []string
	for _, cs := range targets {
		cs.mu.Lock()
		if len(cs.probes) == 0 {
			missing = append(missing, cs.label())
		}
		cs.mu.Unlock()
	}
	if len(missing) == 0 {
		for _, cs := range targets {
			cs.mu.Lock()
			clear(cs.probes)
			cs.mu.Unlock()
		}
	}
	return missing
}

// canon renders a decoded value canonically: numbers as float64 would
// print, []byte as bytes(hex), maps with sorted keys. Expected values built
// in Go (ints, []any, map[string]any, []byte) and values decoded from the
// wire compare equal when they mean the same.
func canon(v any) string {
	var b strings.Builder
	writeCanon(&b, v)
	return b.String()
}

func writeCanon(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		b.WriteString(strconv.Quote(x))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
	case int:
		writeCanon(b, float64(x))
	case int64:
		writeCanon(b, float64(x))
	case []byte:
		b.WriteString("bytes(" + hex.EncodeToString(x) + ")")
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanon(b, e)
		}
		b.WriteByte(']')
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		writeCanon(b, a)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			writeCanon(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprintf(b, "%T(%v)", v, v)
	}
}
