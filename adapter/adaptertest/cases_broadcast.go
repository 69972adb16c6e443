package adaptertest

import (
	"fmt"
	"testing"
)

// Every node broadcasts to every socket of the namespace: each socket, on
// every node and over every transport, gets each broadcast exactly once.
func testBroadcastAll(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	for i, n := range c.nodes {
		if err := emit(all(n.of(mainNsp)), "all", i, "from", n.name, map[string]any{"k": []any{true, nil, 1.5}}); err != nil {
			t.Fatalf("node %s: emit: %v", n.name, err)
		}
	}
	for _, p := range pop.all {
		for i, n := range c.nodes {
			p.main().expect(t, "all", i, "from", n.name, map[string]any{"k": []any{true, nil, 1.5}})
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "all")
}

// Broadcasts to one room, to two rooms (a socket in both gets it once) and
// to a socket id, from every node.
func testBroadcastRooms(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	last := pop.all[len(pop.all)-1]
	for _, n := range c.nodes {
		nsp := n.of(mainNsp)
		if err := emit(nsp.To("r1"), "r1", n.name); err != nil {
			t.Fatalf("node %s: emit to r1: %v", n.name, err)
		}
		if err := emit(nsp.To("r1", "r2"), "r1r2", n.name); err != nil {
			t.Fatalf("node %s: emit to r1 and r2: %v", n.name, err)
		}
		if err := emit(nsp.To("r1").In("r2"), "r1in2", n.name); err != nil {
			t.Fatalf("node %s: emit to r1 in r2: %v", n.name, err)
		}
		// A socket id is a room; the socket is on the last node.
		if err := emit(nsp.To(last.main().id), "private", n.name); err != nil {
			t.Fatalf("node %s: emit to a socket id: %v", n.name, err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range pop.r1 {
			p.main().expect(t, "r1", n.name)
		}
		for _, p := range pop.all {
			p.main().expect(t, "r1r2", n.name)
			p.main().expect(t, "r1in2", n.name)
		}
		last.main().expect(t, "private", n.name)
	}
	c.quiet(t, socks(mainNsp, pop.all...), "r1", "r1r2", "r1in2", "private")
}

// Except leaves out the members of a room, alone and combined with To.
func testBroadcastExcept(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	for _, n := range c.nodes {
		nsp := n.of(mainNsp)
		if err := emit(nsp.Except("r1"), "not-r1", n.name); err != nil {
			t.Fatalf("node %s: emit except r1: %v", n.name, err)
		}
		if err := emit(nsp.To("r2").Except("r1"), "r2-not-r1", n.name); err != nil {
			t.Fatalf("node %s: emit to r2 except r1: %v", n.name, err)
		}
		if err := emit(nsp.Except("r1", "r2"), "nobody", n.name); err != nil {
			t.Fatalf("node %s: emit except r1 and r2: %v", n.name, err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range except(pop.all, pop.r1) {
			p.main().expect(t, "not-r1", n.name)
			p.main().expect(t, "r2-not-r1", n.name)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "not-r1", "r2-not-r1", "nobody")
}

// A volatile broadcast reaches idle WebSocket clients (it may be dropped
// only for a busy transport), once.
func testBroadcastVolatile(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{transport: "websocket"})
	for i, n := range c.nodes {
		if err := emit(all(n.of(mainNsp)).Volatile(), "vol", i); err != nil {
			t.Fatalf("node %s: volatile emit: %v", n.name, err)
		}
		// One at a time: a second volatile packet written while the first
		// is in flight may rightly be dropped.
		for _, p := range pop.all {
			p.main().expect(t, "vol", i)
		}
		if err := emit(n.of(mainNsp).To("r1").Volatile(), "vol-r1", i); err != nil {
			t.Fatalf("node %s: volatile emit to r1: %v", n.name, err)
		}
		for _, p := range pop.r1 {
			p.main().expect(t, "vol-r1", i)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "vol", "vol-r1")
}

// A local broadcast reaches the sockets of its node only.
func testBroadcastLocal(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	for _, n := range c.nodes {
		nsp := n.of(mainNsp)
		if err := emit(all(nsp).Local(), "local", n.name); err != nil {
			t.Fatalf("node %s: local emit: %v", n.name, err)
		}
		if err := emit(nsp.Local().To("r2"), "local-r2", n.name); err != nil {
			t.Fatalf("node %s: local emit to r2: %v", n.name, err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range on(n, pop.all) {
			p.main().expect(t, "local", n.name)
		}
		for _, p := range on(n, pop.r2) {
			p.main().expect(t, "local-r2", n.name)
		}
	}
	// Nothing else: a socket of another node getting one of these fails
	// here, as a duplicate would.
	c.quiet(t, socks(mainNsp, pop.all...), "local", "local-r2")
}

// Binary arguments, at the top level and nested, cross the cluster intact.
func testBroadcastBinary(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	payload := func(i int) []any {
		return []any{
			[]byte{0, 1, 2, 255, byte(i)},
			map[string]any{"nested": []byte("héllo"), "list": []any{[]byte{byte(i)}, "text", 7}},
			"after",
		}
	}
	for i, n := range c.nodes {
		if err := emit(all(n.of(mainNsp)), "bin", payload(i)...); err != nil {
			t.Fatalf("node %s: binary emit: %v", n.name, err)
		}
		if err := emit(n.of(mainNsp).To("r1"), "bin-r1", payload(i)...); err != nil {
			t.Fatalf("node %s: binary emit to r1: %v", n.name, err)
		}
	}
	for i := range c.nodes {
		for _, p := range pop.all {
			p.main().expect(t, "bin", payload(i)...)
		}
		for _, p := range pop.r1 {
			p.main().expect(t, "bin-r1", payload(i)...)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "bin", "bin-r1")
}

// A socket's own broadcast (socket.broadcast, socket.to(room)) reaches the
// others on every node, never the socket itself.
func testBroadcastFromSocket(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	sender := pop.all[0] // A1, in r1 and r2
	relay := func(room, event string, args ...any) {
		t.Helper()
		res, err := sender.main().s.Timeout(c.o.Wait).EmitWithAck(t.Context(), "relay", relayRequest{Room: room, Event: event, Args: args})
		if err != nil {
			t.Fatalf("relay %s: %v", event, err)
		}
		var answer string
		if err := res.Decode(0, &answer); err != nil || answer != "ok" {
			t.Fatalf("relay %s: server answered %q (%v)", event, answer, err)
		}
	}
	relay("", "from-a1", "x", 1)
	relay("r2", "from-a1-r2", "y")
	for _, p := range except(pop.all, []*peer{sender}) {
		p.main().expect(t, "from-a1", "x", 1)
	}
	for _, p := range except(pop.r2, []*peer{sender}) {
		p.main().expect(t, "from-a1-r2", "y")
	}
	c.quiet(t, socks(mainNsp, pop.all...), "from-a1", "from-a1-r2")
}

// A broadcast emitted as soon as Socket.Join has returned, from another
// node, reaches the socket: joining a room makes it reachable from the
// whole cluster before Join returns (no readiness wait in this case).
func testBroadcastAfterJoin(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	var ps []*peer
	for _, n := range c.nodes {
		ps = append(ps, c.connect(t, n, n.name+"1", peerOpts{}))
	}
	for _, n := range c.nodes {
		c.awaitRoute(t, n.name+" to all", func(ev string, args ...any) error { return emit(all(n.of(mainNsp)), ev, args...) }, socks(mainNsp, ps...)...)
	}
	k := 0
	for _, target := range ps {
		for _, from := range c.nodes {
			if from == target.node && len(c.nodes) > 1 {
				continue
			}
			k++
			room := fmt.Sprintf("fresh-%d", k)
			c.joinRooms(t, target.main(), room)
			if err := emit(from.of(mainNsp).To(room), "fresh", room); err != nil {
				t.Fatalf("node %s: emit to %s: %v", from.name, room, err)
			}
			target.main().expect(t, "fresh", room)
		}
	}
	c.quiet(t, socks(mainNsp, ps...), "fresh")
}
