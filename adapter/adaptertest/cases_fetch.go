package adaptertest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
)

// checkRemote checks what FetchSockets says of a peer's socket: its rooms,
// its handshake and its data, wherever it is connected.
func checkRemote(t *testing.T, from *node, r *socketio.RemoteSocket, p *peer, rooms []string) {
	t.Helper()
	what := "node " + from.name + " fetched " + p.name + "@" + p.node.name
	if got, want := sortedCopy(r.Rooms.Slice()), sortedCopy(append([]string{r.ID}, rooms...)); !slices.Equal(got, want) {
		t.Errorf("%s: rooms %v, want %v", what, got, want)
	}
	h := r.Handshake
	if got := h.Query.Get("peer"); got != p.name {
		t.Errorf("%s: handshake query peer=%q, want %q (query %v)", what, got, p.name, h.Query)
	}
	if got := h.Query.Get("EIO"); got != "4" {
		t.Errorf("%s: handshake query EIO=%q, want 4", what, got)
	}
	if got := h.Headers.Get("X-Peer"); got != p.name {
		t.Errorf("%s: handshake header X-Peer %q, want %q (headers %v)", what, got, p.name, h.Headers)
	}
	if name, _ := h.Auth["name"].(string); name != p.name {
		t.Errorf("%s: handshake auth %v, want name %q", what, h.Auth, p.name)
	}
	if h.Address != "127.0.0.1" {
		t.Errorf("%s: handshake address %q, want 127.0.0.1", what, h.Address)
	}
	if !strings.Contains(h.URL, "EIO=4") || !strings.HasPrefix(h.URL, "/socket.io/") {
		t.Errorf("%s: handshake url %q", what, h.URL)
	}
	if h.Secure || h.XDomain {
		t.Errorf("%s: handshake secure %v, xdomain %v; want both false", what, h.Secure, h.XDomain)
	}
	if issued := time.UnixMilli(h.Issued); time.Since(issued) > time.Minute || time.Until(issued) > time.Minute {
		t.Errorf("%s: handshake issued %v, not around now", what, issued)
	}
	if h.Time == "" {
		t.Errorf("%s: handshake time empty", what)
	}
	if got, want := canonJSON(r.Data), canon(map[string]any{"name": p.name, "node": p.node.name}); got != want {
		t.Errorf("%s: data %s, want %s", what, got, want)
	}
}

// roomsOf returns the rooms of a population peer (without its own id).
func (pop *population) roomsOf(p *peer) []string {
	var rooms []string
	if slices.Contains(pop.r1, p) {
		rooms = append(rooms, "r1")
	}
	if slices.Contains(pop.r2, p) {
		rooms = append(rooms, "r2")
	}
	return rooms
}

// FetchSockets from every node returns every socket of the cluster, with
// its rooms, handshake and data; rooms, except and local select as a
// broadcast would.
func testFetchSockets(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	byID := map[string]*peer{}
	for _, p := range pop.all {
		byID[p.main().id] = p
	}
	for _, n := range c.nodes {
		nsp := n.of(mainNsp)
		ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
		rs, err := fetchSockets(ctx, all(nsp))
		cancel()
		if err != nil {
			t.Fatalf("node %s: fetch: %v", n.name, err)
		}
		if got, want := remoteIDs(rs), ids(mainNsp, pop.all...); !slices.Equal(got, want) {
			t.Fatalf("node %s: fetched %v, want %v", n.name, got, want)
		}
		for _, r := range rs {
			checkRemote(t, n, r, byID[r.ID], pop.roomsOf(byID[r.ID]))
		}
		for _, sel := range []struct {
			what string
			op   socketio.BroadcastOperator
			want []*peer
		}{
			{"r1", nsp.In("r1"), pop.r1},
			{"r1 and r2", nsp.In("r1", "r2"), pop.all},
			{"r2 except r1", nsp.In("r2").Except("r1"), except(pop.r2, pop.r1)},
			{"except r2", nsp.Except("r2"), except(pop.all, pop.r2)},
			{"local", all(nsp).Local(), on(n, pop.all)},
			{"local r1", nsp.In("r1").Local(), on(n, pop.r1)},
			{"a socket id", nsp.In(pop.all[len(pop.all)-1].main().id), pop.all[len(pop.all)-1:]},
			{"nobody", nsp.In("nobody"), nil},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
			rs, err := fetchSockets(ctx, sel.op)
			cancel()
			if err != nil {
				t.Fatalf("node %s: fetch %s: %v", n.name, sel.what, err)
			}
			if got, want := remoteIDs(rs), ids(mainNsp, sel.want...); !slices.Equal(got, want) {
				t.Fatalf("node %s: fetch %s: %v, want %v", n.name, sel.what, got, want)
			}
		}
	}
}

// A fetched socket of another node can be emitted to, asked for an ack,
// made to join and leave rooms, and disconnected.
func testFetchRemoteSocket(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	from := c.nodes[0]
	target := pop.all[len(pop.all)-1] // on the last node
	ts := target.main()
	ts.answer("vote", func(ev *client.Event) ([]any, bool) { return []any{"from " + target.name}, true })
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	rs, err := fetchSockets(ctx, from.of(mainNsp).In(ts.id))
	if err != nil || len(rs) != 1 {
		t.Fatalf("fetch %s: %d sockets, %v", ts.id, len(rs), err)
	}
	r := rs[0]
	if err := remoteEmit(r, "direct", "hi", []byte{7}); err != nil {
		t.Fatalf("remote emit: %v", err)
	}
	ts.expect(t, "direct", "hi", []byte{7})

	res, err := remoteEmitWithAck(ctx, r, c.o.Wait, "vote", "one")
	if err != nil {
		t.Fatalf("remote emit with ack: %v", err)
	}
	if got := canonArgs(res); got != canon([]any{"from " + target.name}) {
		t.Fatalf("remote ack %s", got)
	}
	ts.expect(t, "vote", "one")

	if err := remoteJoin(ctx, r, "rj", "rk"); err != nil {
		t.Fatalf("remote join: %v", err)
	}
	c.waitMembership(t, mainNsp, "rj", []*peer{target})
	c.waitMembership(t, mainNsp, "rk", []*peer{target})
	c.awaitRoute(t, from.name+" to rj", func(ev string, args ...any) error { return emit(from.of(mainNsp).To("rj"), ev, args...) }, ts)
	if err := emit(from.of(mainNsp).To("rj"), "in-rj"); err != nil {
		t.Fatal(err)
	}
	ts.expect(t, "in-rj")

	if err := remoteLeave(ctx, r, "rj"); err != nil {
		t.Fatalf("remote leave: %v", err)
	}
	c.waitMembership(t, mainNsp, "rj", nil)
	c.waitMembership(t, mainNsp, "rk", []*peer{target})

	if err := remoteDisconnect(ctx, r, false); err != nil {
		t.Fatalf("remote disconnect: %v", err)
	}
	if reason := ts.expectDisconnect(t); reason != client.ReasonIOServerDisconnect {
		t.Fatalf("client reason %q, want %q", reason, client.ReasonIOServerDisconnect)
	}
	if reason := target.node.expectDisconnect(t, mainNsp, ts.id); reason != socketio.ReasonServerNamespaceDisconnect {
		t.Fatalf("server reason %q, want %q", reason, socketio.ReasonServerNamespaceDisconnect)
	}
	c.quiet(t, socks(mainNsp, pop.all...), "direct", "vote", "in-rj")
}
