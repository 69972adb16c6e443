package adaptertest

import (
	"context"
	"slices"
	"testing"

	socketio "github.com/gosio/socketio"
)

// population is the peers most cases use: on every node X, X1 in room r1
// and X2 in room r2; the first node's A1 is in r2 as well, so that it is in
// both rooms. The peers take the transports in turn.
type population struct {
	c      *cluster
	all    []*peer
	r1, r2 []*peer
}

// populate connects the population (on the namespaces of po, the main one
// by default) and waits until broadcasts from every node to every room
// reach their members.
func populate(t *testing.T, c *cluster, po peerOpts) *population {
	t.Helper()
	pop := &population{c: c}
	for _, n := range c.nodes {
		p1 := c.connect(t, n, n.name+"1", po)
		p2 := c.connect(t, n, n.name+"2", po)
		pop.all = append(pop.all, p1, p2)
		pop.r1 = append(pop.r1, p1)
		pop.r2 = append(pop.r2, p2)
	}
	first := pop.all[0]
	pop.r2 = append(pop.r2, first)
	for _, nsp := range pop.nsps() {
		for _, p := range pop.r1 {
			c.joinRooms(t, p.sock(nsp), "r1")
		}
		for _, p := range pop.r2 {
			c.joinRooms(t, p.sock(nsp), "r2")
		}
		for _, n := range c.nodes {
			ns := n.of(nsp)
			c.awaitRoute(t, n.name+" to all of "+nsp, func(ev string, args ...any) error { return emit(all(ns), ev, args...) }, socks(nsp, pop.all...)...)
			c.awaitRoute(t, n.name+" to r1 of "+nsp, func(ev string, args ...any) error { return emit(ns.To("r1"), ev, args...) }, socks(nsp, pop.r1...)...)
			c.awaitRoute(t, n.name+" to r2 of "+nsp, func(ev string, args ...any) error { return emit(ns.To("r2"), ev, args...) }, socks(nsp, pop.r2...)...)
		}
	}
	return pop
}

// nsps are the namespaces the population is connected to.
func (pop *population) nsps() []string {
	var out []string
	for nsp := range pop.all[0].socks {
		out = append(out, nsp)
	}
	slices.Sort(out)
	return out
}

// except returns the peers of all that are not in any of the groups.
func except(all []*peer, groups ...[]*peer) []*peer {
	var out []*peer
	for _, p := range all {
		in := false
		for _, g := range groups {
			if slices.Contains(g, p) {
				in = true
			}
		}
		if !in {
			out = append(out, p)
		}
	}
	return out
}

// on returns the peers of ps connected to node n.
func on(n *node, ps []*peer) []*peer {
	var out []*peer
	for _, p := range ps {
		if p.node == n {
			out = append(out, p)
		}
	}
	return out
}

// joinRooms makes a socket join rooms through its server's "join" handler
// (Socket.Join on the server the socket is connected to), and returns once
// the server acknowledged.
func (c *cluster) joinRooms(t *testing.T, cs *csock, rooms ...string) {
	t.Helper()
	c.roomRequest(t, cs, "join", rooms)
}

// leaveRooms is joinRooms for Socket.Leave.
func (c *cluster) leaveRooms(t *testing.T, cs *csock, rooms ...string) {
	t.Helper()
	c.roomRequest(t, cs, "leave", rooms)
}

func (c *cluster) roomRequest(t *testing.T, cs *csock, event string, rooms []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	res, err := cs.s.EmitWithAck(ctx, event, joinRequest{Rooms: rooms})
	if err != nil {
		t.Fatalf("%s: %s %v: %v", cs.label(), event, rooms, err)
	}
	var answer string
	if err := res.Decode(0, &answer); err != nil || answer != "ok" {
		t.Fatalf("%s: %s %v: server answered %q (%v)", cs.label(), event, rooms, answer, err)
	}
}

// ids returns the socket ids of the peers in nsp, sorted.
func ids(nsp string, ps ...*peer) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.sock(nsp).id)
	}
	slices.Sort(out)
	return out
}

// remoteIDs returns the ids of fetched sockets, sorted.
func remoteIDs(rs []*socketio.RemoteSocket) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.ID)
	}
	slices.Sort(out)
	return out
}
