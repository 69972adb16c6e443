package adaptertest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// A client loses its transport; meanwhile events are broadcast from
// another node; it comes back to the server that had its session and
// recovers it: same id, rooms and data, and the events it missed, in order,
// once, without those that were not for it.
func testRecoverySameNode(t *testing.T, e *env) { testRecovery(t, e, false) }

// As testRecoverySameNode, but the client comes back to another server of
// the cluster, which restores the session kept through the broker.
func testRecoveryOtherNode(t *testing.T, e *env) { testRecovery(t, e, true) }

type missed struct {
	event string
	args  []any
}

func testRecovery(t *testing.T, e *env, moveNode bool) {
	c := e.newCluster(t, clusterOpts{recovery: true})
	home := c.nodes[0]
	emitter := c.nodes[len(c.nodes)-1]
	back := home
	if moveNode {
		emitter, back = c.nodes[1], c.nodes[len(c.nodes)-1]
	}
	// A witness in the same rooms tells when the broadcasts have crossed
	// the cluster. It is not on the home node, which must keep (or find)
	// what was broadcast to rooms whose only local member is away.
	witness := home
	switch {
	case moveNode:
		witness = back
	case len(c.nodes) > 2:
		witness = c.nodes[1]
	case len(c.nodes) == 2:
		witness = emitter
	}
	px := newProxy(t, home.addr)
	r := c.connect(t, home, "R", peerOpts{transport: "websocket", url: px.url(), reconnect: true})
	w := c.connect(t, witness, "W", peerOpts{})
	rs, ws := r.main(), w.main()
	c.joinRooms(t, rs, "room1", "room2")
	c.joinRooms(t, ws, "room1", "room2")
	nsp := emitter.of(mainNsp)
	c.awaitRoute(t, emitter.name+" to room1", func(ev string, args ...any) error { return emit(nsp.To("room1"), ev, args...) }, rs, ws)
	c.awaitRoute(t, emitter.name+" to room2", func(ev string, args ...any) error { return emit(nsp.To("room2"), ev, args...) }, rs, ws)
	if err := emit(nsp.To("room1"), "before", 0); err != nil {
		t.Fatal(err)
	}
	rs.expectWithOffset(t, "before", 0) // the client has an offset now
	ws.expectWithOffset(t, "before", 0)

	px.cut()
	if reason := rs.expectDisconnect(t); reason == client.ReasonIOServerDisconnect {
		t.Fatalf("client reason %q after a cut", reason)
	}
	// The disconnect handlers run once the session is stored.
	reason := home.expectDisconnect(t, mainNsp, rs.id)
	t.Logf("server reason after the cut: %q", reason)

	wanted := []missed{
		{"missed", []any{1, "to room1"}},
		{"missed", []any{2, "to all"}},
		{"missed", []any{3, "to room2 except room9", map[string]any{"bin": []byte{1, 2, 3}}}},
		{"missed", []any{4, "to room1 and room3"}},
	}
	emits := []struct {
		op   func() error
		what string
	}{
		{func() error { return emit(nsp.To("room1"), wanted[0].event, wanted[0].args...) }, "to room1"},
		{func() error { return emit(all(nsp), wanted[1].event, wanted[1].args...) }, "to all"},
		{func() error { return emit(nsp.To("room2").Except("room9"), wanted[2].event, wanted[2].args...) }, "to room2 except room9"},
		{func() error { return emit(nsp.Except("room1"), "not-for-r", "except room1") }, "except room1"},
		{func() error { return emit(nsp.To("room3"), "not-for-r", "to room3") }, "to room3"},
		{func() error { return emit(nsp.To("room1", "room3"), wanted[3].event, wanted[3].args...) }, "to room1 and room3"},
	}
	for _, em := range emits {
		if err := em.op(); err != nil {
			t.Fatalf("emit %s while the client is away: %v", em.what, err)
		}
	}
	// The witness got them all: they crossed the cluster. The node the
	// client comes back to has no client of its own in these rooms to show
	// that it has seen them too; give it the Quiet time.
	for _, m := range wanted {
		ws.expectWithOffset(t, m.event, m.args...)
	}
	time.Sleep(c.o.Quiet)

	px.restore(back.addr)
	select {
	case id := <-rs.conns:
		if id != rs.id {
			t.Fatalf("reconnected as %s, want the session's id %s (recovered %v)", id, rs.id, rs.s.Recovered())
		}
	case <-time.After(c.o.Wait):
		t.Fatalf("not reconnected within %v", c.o.Wait)
	}
	if !rs.s.Recovered() {
		t.Fatalf("reconnected to node %s without recovering its session", back.name)
	}
	// The missed events, first, in order (in any order, each once, when
	// the adapter does not keep the order across rooms).
	if c.o.UnorderedRooms {
		left := slices.Clone(wanted)
		for i := range wanted {
			ev := rs.next(t)
			j := slices.IndexFunc(left, func(m missed) bool { return ev.Name == m.event && hasArgsAndOffset(ev, m.args) })
			if j < 0 {
				t.Fatalf("missed event %d: got %s%s, not one of the missed events left", i, ev.Name, eventArgs(ev))
			}
			left = slices.Delete(left, j, j+1)
		}
	} else {
		for i, m := range wanted {
			ev := rs.next(t)
			if ev.Name != m.event || !hasArgsAndOffset(ev, m.args) {
				t.Fatalf("missed event %d: got %s%s, want %s%s + offset", i, ev.Name, eventArgs(ev), m.event, canon(m.args))
			}
		}
	}

	// The session's rooms and data are back, on the node it is on now.
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	rss, err := fetchSockets(ctx, emitter.of(mainNsp).In(rs.id))
	if err != nil || len(rss) != 1 {
		t.Fatalf("fetch the recovered socket: %d, %v", len(rss), err)
	}
	if got, want := sortedCopy(rss[0].Rooms.Slice()), sortedCopy([]string{rs.id, "room1", "room2"}); !slices.Equal(got, want) {
		t.Errorf("recovered rooms %v, want %v", got, want)
	}
	if got, want := canonJSON(rss[0].Data), canon(map[string]any{"name": "R", "node": home.name}); got != want {
		t.Errorf("recovered data %s, want %s", got, want)
	}
	if ids := localSockets(back.of(mainNsp).In("room2")); !slices.Contains(ids, rs.id) {
		t.Errorf("node %s: the recovered socket is not a local member of room2 (%v)", back.name, ids)
	}
	// And it gets new broadcasts to its rooms.
	c.awaitRoute(t, emitter.name+" to room2 after recovery", func(ev string, args ...any) error { return emit(nsp.To("room2"), ev, args...) }, rs)
	if err := emit(nsp.To("room2"), "after", 5); err != nil {
		t.Fatal(err)
	}
	rs.expectWithOffset(t, "after", 5)
	c.quiet(t, []*csock{rs}, "missed", "not-for-r", "after")
}

// next returns the next event the socket received, whatever it is.
func (cs *csock) next(t *testing.T) *client.Event {
	t.Helper()
	return cs.await(t, cs.wait(), "event", func(*client.Event) bool { return true })
}

// hasArgsAndOffset reports whether the event's arguments are want followed
// by a recovery offset.
func hasArgsAndOffset(e *client.Event, want []any) bool {
	vals, err := e.Args().Values()
	if err != nil || len(vals) != len(want)+1 {
		return false
	}
	if off, ok := vals[len(vals)-1].(string); !ok || off == "" {
		return false
	}
	return canon(vals[:len(want)]) == canon(want)
}

// A node broadcasts numbered events to a room at a steady rate while the
// clients in the room lose their transport again and again and recover
// (on another server each time when the adapter shares sessions, else on
// the one that kept the session). Each client must get every number
// exactly once, in order, and every reconnection must recover the session:
// a broadcast published while a session is being restored is neither lost
// nor written twice.
func testRecoverySteady(t *testing.T, e *env) {
	const (
		n     = 500
		every = 2 * time.Millisecond
	)
	c := e.newCluster(t, clusterOpts{recovery: true})
	emitter := c.nodes[0]
	nsp := emitter.of(mainNsp)
	anyNode := c.o.Recovery >= RecoveryAnyNode
	type dropped struct {
		name  string
		px    *proxy
		cs    *csock
		on    int // index of its node
		drops int
	}
	var peers []*dropped
	for i := range 2 {
		d := &dropped{name: fmt.Sprintf("S%d", i), on: i % len(c.nodes)}
		d.px = newProxy(t, c.nodes[d.on].addr)
		d.cs = c.connect(t, c.nodes[d.on], d.name, peerOpts{transport: "websocket", url: d.px.url(), reconnect: true}).main()
		c.joinRooms(t, d.cs, "steady")
		peers = append(peers, d)
	}
	var targets []*csock
	for _, d := range peers {
		targets = append(targets, d.cs)
	}
	c.awaitRoute(t, emitter.name+" to steady", func(ev string, args ...any) error { return emit(nsp.To("steady"), ev, args...) }, targets...)

	done, stop := make(chan struct{}), make(chan struct{})
	defer func() { close(stop); <-done }()
	var emitErr error
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := range n {
			if err := emit(nsp.To("steady"), "n", i); err != nil {
				emitErr = fmt.Errorf("emit %d: %w", i, err)
				return
			}
			select {
			case <-tick.C:
			case <-stop:
				return
			}
		}
	}()
	// checkConns fails on a reconnection that did not recover the session.
	checkConns := func(d *dropped) {
		for {
			select {
			case id := <-d.cs.conns:
				// "" when it was cut again before its OnConnect ran.
				if id != "" && id != d.cs.id {
					t.Fatalf("%s reconnected as %s, want its session's id %s", d.name, id, d.cs.id)
				}
			default:
				return
			}
		}
	}
	for k := 0; ; k++ {
		d := peers[k%len(peers)]
		select {
		case <-done:
		case <-time.After(time.Duration(25+10*(k%4)) * time.Millisecond):
		}
		select {
		case <-done:
		default:
			checkConns(d)
			if !d.cs.s.Connected() {
				continue // still reconnecting
			}
			d.px.cut()
			c.nodes[d.on].expectDisconnect(t, mainNsp, d.cs.id) // its session is stored
			if anyNode {
				d.on = (d.on + 1) % len(c.nodes)
			}
			d.px.restore(c.nodes[d.on].addr)
			d.drops++
			continue
		}
		break
	}
	if emitErr != nil {
		t.Fatal(emitErr)
	}
	for _, d := range peers {
		got := make([]int, 0, n)
		for len(got) < n {
			ev := d.cs.next(t)
			var k int
			var offset string
			if ev.Name != "n" || ev.Bind(&k, &offset) != nil || offset == "" {
				t.Fatalf("%s: event %d: %s%s, want n and an offset", d.name, len(got), ev.Name, eventArgs(ev))
			}
			got = append(got, k)
			if k != len(got)-1 {
				t.Fatalf("%s (%d drops): got %d after %v, want %d", d.name, d.drops, k, got[max(0, len(got)-6):len(got)-1], len(got)-1)
			}
		}
		checkConns(d)
		if !d.cs.s.Recovered() {
			t.Errorf("%s: the last connection did not recover the session", d.name)
		}
		t.Logf("%s: %d drops, every number once and in order", d.name, d.drops)
	}
	c.quiet(t, targets, "n")
}
