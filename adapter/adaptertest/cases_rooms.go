package adaptertest

import (
	"context"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
)

// SocketsJoin and SocketsLeave from one node reach the selected sockets of
// every node, and the rooms they make work for broadcasts from any node.
func testSocketsJoinLeave(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	first := c.nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	nsp := first.of(mainNsp)

	if err := socketsJoin(ctx, nsp.In("r1"), "r9"); err != nil {
		t.Fatalf("r1 join r9: %v", err)
	}
	if err := socketsJoin(ctx, nsp.Except("r1"), "not-r1"); err != nil {
		t.Fatalf("except r1 join not-r1: %v", err)
	}
	if err := socketsJoin(ctx, all(nsp), "everyone", "everyone2"); err != nil {
		t.Fatalf("all join everyone: %v", err)
	}
	c.waitMembership(t, mainNsp, "r9", pop.r1)
	c.waitMembership(t, mainNsp, "not-r1", except(pop.all, pop.r1))
	c.waitMembership(t, mainNsp, "everyone", pop.all)
	c.waitMembership(t, mainNsp, "everyone2", pop.all)
	for _, n := range c.nodes {
		c.awaitRoute(t, n.name+" to r9", func(ev string, args ...any) error { return emit(n.of(mainNsp).To("r9"), ev, args...) }, socks(mainNsp, pop.r1...)...)
		if err := emit(n.of(mainNsp).To("r9"), "r9", n.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range pop.r1 {
			p.main().expect(t, "r9", n.name)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "r9")

	// Leave: from the last node this time, for a room and a selection.
	last := c.nodes[len(c.nodes)-1].of(mainNsp)
	if err := socketsLeave(ctx, last.In("r9"), "r9"); err != nil {
		t.Fatalf("r9 leave r9: %v", err)
	}
	if err := socketsLeave(ctx, last.In("r2").Except("r1"), "everyone"); err != nil {
		t.Fatalf("r2 except r1 leave everyone: %v", err)
	}
	c.waitMembership(t, mainNsp, "r9", nil)
	c.waitMembership(t, mainNsp, "everyone", except(pop.all, except(pop.r2, pop.r1)))
	c.waitMembership(t, mainNsp, "everyone2", pop.all)
	// The rooms the sockets had stay.
	c.waitMembership(t, mainNsp, "r1", pop.r1)
	c.waitMembership(t, mainNsp, "r2", pop.r2)
	for _, n := range c.nodes {
		if err := emit(n.of(mainNsp).To("r9"), "r9-after-leave", n.name); err != nil {
			t.Fatal(err)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "r9-after-leave")

	// A socket leaves a room itself (Socket.Leave on its server): the
	// other nodes' broadcasts to the room no longer reach it.
	leaver := pop.r1[len(pop.r1)-1]
	c.leaveRooms(t, leaver.main(), "r1")
	stay := except(pop.r1, []*peer{leaver})
	c.waitMembership(t, mainNsp, "r1", stay)
	for _, n := range c.nodes {
		c.awaitRoute(t, n.name+" to r1 after a leave", func(ev string, args ...any) error { return emit(n.of(mainNsp).To("r1"), ev, args...) }, socks(mainNsp, stay...)...)
		if err := emit(n.of(mainNsp).To("r1"), "r1-after-leave", n.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range stay {
			p.main().expect(t, "r1-after-leave", n.name)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "r1-after-leave")
}

// DisconnectSockets without close disconnects the selected sockets of every
// node from the namespace only: their connection and their sockets of other
// namespaces stay.
func testDisconnectSockets(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{nsps: []string{mainNsp, otherNsp}})
	gone := except(pop.r2, pop.r1)
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	if err := disconnectSockets(ctx, c.nodes[0].of(mainNsp).In("r2").Except("r1"), false); err != nil {
		t.Fatalf("disconnect r2 except r1: %v", err)
	}
	for _, p := range gone {
		if r := p.main().expectDisconnect(t); r != client.ReasonIOServerDisconnect {
			t.Fatalf("%s: client reason %q, want %q", p.name, r, client.ReasonIOServerDisconnect)
		}
		if r := p.node.expectDisconnect(t, mainNsp, p.main().id); r != socketio.ReasonServerNamespaceDisconnect {
			t.Fatalf("%s: server reason %q, want %q", p.name, r, socketio.ReasonServerNamespaceDisconnect)
		}
	}
	// The others are still there, and the disconnected ones still have
	// their other namespace.
	for _, n := range c.nodes {
		if err := emit(all(n.of(mainNsp)), "still", n.name); err != nil {
			t.Fatal(err)
		}
		if err := emit(all(n.of(otherNsp)), "other-still", n.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range except(pop.all, gone) {
			p.main().expect(t, "still", n.name)
		}
		for _, p := range pop.all {
			p.sock(otherNsp).expect(t, "other-still", n.name)
		}
	}
	for _, p := range pop.all {
		if !p.sock(otherNsp).s.Connected() {
			t.Errorf("%s: its %s socket was disconnected too", p.name, otherNsp)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "still")
	for _, p := range except(pop.all, gone) {
		select {
		case r := <-p.main().disc:
			t.Errorf("%s: disconnected (%s) though not selected", p.name, r)
		default:
		}
	}
}

// DisconnectSockets with close closes the whole connection of the selected
// sockets, on every node: their sockets of other namespaces go too.
func testDisconnectSocketsClose(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{nsps: []string{mainNsp, otherNsp}})
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	last := c.nodes[len(c.nodes)-1]
	if err := disconnectSockets(ctx, last.of(mainNsp).In("r1"), true); err != nil {
		t.Fatalf("disconnect r1 with close: %v", err)
	}
	for _, p := range pop.r1 {
		if r := p.main().expectDisconnect(t); r != client.ReasonIOServerDisconnect {
			t.Fatalf("%s: client reason %q, want %q", p.name, r, client.ReasonIOServerDisconnect)
		}
		p.sock(otherNsp).expectDisconnect(t)
		p.node.expectDisconnect(t, mainNsp, p.main().id)
		p.node.expectDisconnect(t, otherNsp, p.sock(otherNsp).id)
		deadline := time.Now().Add(c.o.Wait)
		for p.m.Transport() != "" {
			if time.Now().After(deadline) {
				t.Fatalf("%s: connection still open (%s) after disconnectSockets(close)", p.name, p.m.Transport())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, n := range c.nodes {
		if err := emit(all(n.of(otherNsp)), "other-still", n.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range except(pop.all, pop.r1) {
			p.sock(otherNsp).expect(t, "other-still", n.name)
		}
	}
	c.quiet(t, socks(otherNsp, pop.all...), "other-still")
}
