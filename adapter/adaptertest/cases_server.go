package adaptertest

import (
	"context"
	"slices"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
)

// others returns the live nodes of the cluster except n.
func (c *cluster) others(n *node) []*node {
	var out []*node
	for _, o := range c.live() {
		if o != n {
			out = append(out, o)
		}
	}
	return out
}

// checkNoSide fails for every server-side event a node received beyond
// those expected (after the Quiet time).
func (c *cluster) checkNoSide(t *testing.T) {
	t.Helper()
	time.Sleep(c.o.Quiet)
	for _, n := range c.nodes {
		for _, ev := range n.sideEvents() {
			t.Errorf("node %s: unexpected server-side event %s in %s (ack %v): a duplicate, or one sent to itself", n.name, ev.args, ev.nsp, ev.withAck)
		}
		if d := n.dropped.Load(); d > 0 {
			t.Errorf("node %s: %d events dropped by the suite's recorder", n.name, d)
		}
	}
}

// ServerSideEmit from every node reaches the namespace of every other node
// once, without an ack, and never the sender.
func testServerSideEmit(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	for _, n := range c.nodes {
		ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
		err := serverSideEmit(ctx, n.of(mainNsp), "ping", "hello", n.name, map[string]any{"n": 1, "list": []any{"a", nil}})
		cancel()
		if err != nil {
			t.Fatalf("node %s: server-side emit: %v", n.name, err)
		}
	}
	for _, n := range c.nodes {
		for _, from := range c.others(n) {
			ev := n.expectSide(t, mainNsp, canon([]any{"hello", from.name, map[string]any{"n": 1, "list": []any{"a", nil}}}))
			if ev.withAck {
				t.Errorf("node %s: the event from %s expects an ack", n.name, from.name)
			}
		}
	}
	c.checkNoSide(t)
}

// ServerSideEmitWithAck gathers one answer from every other server.
func testServerSideEmitAck(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	for _, n := range c.nodes {
		ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
		res, err := serverSideEmitWithAck(ctx, n.of(mainNsp), "ping", "ack?", n.name)
		cancel()
		if err != nil {
			t.Fatalf("node %s: server-side emit with ack: %v (%d answers)", n.name, err, len(res))
		}
		checkServerAnswers(t, n, res, c.others(n))
		for _, o := range c.others(n) {
			if ev := o.expectSide(t, mainNsp, canon([]any{"ack?", n.name})); !ev.withAck {
				t.Errorf("node %s: the event from %s expects no ack", o.name, n.name)
			}
		}
	}
	c.checkNoSide(t)
}

// checkServerAnswers checks that res holds one answer from each of want.
func checkServerAnswers(t *testing.T, from *node, res []socketio.Args, want []*node) {
	t.Helper()
	var got, wantNames []string
	for _, a := range res {
		var v struct {
			Node string `json:"node"`
			Nsp  string `json:"nsp"`
		}
		if err := a.Decode(0, &v); err != nil || v.Nsp != mainNsp {
			t.Fatalf("node %s: answer %s (%v)", from.name, canonArgs(a), err)
		}
		got = append(got, v.Node)
	}
	for _, n := range want {
		wantNames = append(wantNames, n.name)
	}
	slices.Sort(got)
	slices.Sort(wantNames)
	if !slices.Equal(got, wantNames) {
		t.Fatalf("node %s: server-side answers from %v, want one from each of %v", from.name, got, wantNames)
	}
}

// A server that does not answer makes ServerSideEmitWithAck end at the
// adapter's request timeout, or at the caller's deadline when earlier, with
// an error and the answers of the others.
func testServerSideEmitAckTimeout(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	from, silent := c.nodes[0], c.nodes[len(c.nodes)-1]
	silent.silent.Store(true)
	answering := c.others(from)
	answering = slices.DeleteFunc(answering, func(n *node) bool { return n == silent })

	ctx, cancel := context.WithTimeout(context.Background(), c.o.RequestTimeout+slack+time.Second)
	start := time.Now()
	res, err := serverSideEmitWithAck(ctx, from.of(mainNsp), "ping", "timeout")
	took := time.Since(start)
	cancel()
	if err == nil {
		t.Fatalf("no error with a silent server (%d answers after %v)", len(res), took)
	}
	if took > c.o.RequestTimeout+slack {
		t.Fatalf("ended after %v, want about the request timeout %v", took, c.o.RequestTimeout)
	}
	t.Logf("with a silent server: %v after %v", err, took)
	checkServerAnswers(t, from, res, answering)

	// A shorter caller deadline wins.
	const deadline = 300 * time.Millisecond
	ctx, cancel = context.WithTimeout(context.Background(), deadline)
	start = time.Now()
	res, err = serverSideEmitWithAck(ctx, from.of(mainNsp), "ping", "deadline")
	took = time.Since(start)
	cancel()
	if err == nil || took > deadline+slack {
		t.Fatalf("with a %v deadline: err %v after %v", deadline, err, took)
	}
	checkServerAnswers(t, from, res, answering)
	for _, n := range c.others(from) {
		n.expectSide(t, mainNsp, canon([]any{"timeout"}))
		n.expectSide(t, mainNsp, canon([]any{"deadline"}))
	}
	c.checkNoSide(t)
}

// Every node counts the servers of the cluster; a server that joins is
// counted, and one that closes stops being counted.
func testServerCount(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	c.waitCount(t, len(c.nodes), c.o.Wait) // exact, at once: newCluster waited
	if len(c.nodes) == 1 {
		return
	}
	extra := c.addNode(t)
	c.waitCount(t, len(c.nodes), c.o.Wait)
	// The new server takes part at once: a broadcast from an old one
	// reaches its client, and the fetch of an old one finds it.
	newcomer := c.connect(t, extra, "new", peerOpts{})
	c.awaitRoute(t, "A to the new server", func(ev string, args ...any) error { return emit(all(c.nodes[0].of(mainNsp)), ev, args...) }, newcomer.main())
	fctx, fcancel := context.WithTimeout(context.Background(), c.o.Wait)
	rs, err := fetchSockets(fctx, all(c.nodes[0].of(mainNsp)))
	fcancel()
	if err != nil || !slices.Contains(remoteIDs(rs), newcomer.main().id) {
		t.Fatalf("fetch from A with a new server: %v (err %v), want %s among them", remoteIDs(rs), err, newcomer.main().id)
	}
	extra.close()
	c.waitCount(t, len(c.live()), c.o.HeartbeatTimeout+c.o.Wait)
	// The counts are used by the requests: they complete without waiting
	// for the closed server.
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	res, err := serverSideEmitWithAck(ctx, c.nodes[0].of(mainNsp), "ping", "count")
	if err != nil {
		t.Fatalf("server-side emit with ack after a server left: %v", err)
	}
	checkServerAnswers(t, c.nodes[0], res, c.others(c.nodes[0]))
}

// Namespaces stay apart across the cluster: broadcasts, fetchSockets,
// socketsJoin and server-side emits of one namespace do not reach another.
func testNamespaces(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{nsps: []string{mainNsp, otherNsp}})
	for _, n := range c.nodes {
		if err := emit(all(n.of(otherNsp)), "in-other", n.name); err != nil {
			t.Fatal(err)
		}
		if err := emit(n.of(otherNsp).To("r1"), "in-other-r1", n.name); err != nil {
			t.Fatal(err)
		}
		if err := emit(all(n.of(mainNsp)), "in-main", n.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range pop.all {
			p.sock(otherNsp).expect(t, "in-other", n.name)
			p.main().expect(t, "in-main", n.name)
		}
		for _, p := range pop.r1 {
			p.sock(otherNsp).expect(t, "in-other-r1", n.name)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "in-other", "in-other-r1")
	c.quiet(t, socks(otherNsp, pop.all...), "in-main")

	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	first := c.nodes[0]
	rs, err := fetchSockets(ctx, all(first.of(otherNsp)))
	if err != nil {
		t.Fatalf("fetch %s: %v", otherNsp, err)
	}
	if got, want := remoteIDs(rs), ids(otherNsp, pop.all...); !slices.Equal(got, want) {
		t.Fatalf("fetch %s: %v, want %v", otherNsp, got, want)
	}
	if err := socketsJoin(ctx, all(first.of(otherNsp)), "only-other"); err != nil {
		t.Fatal(err)
	}
	c.waitMembership(t, otherNsp, "only-other", pop.all)
	c.waitMembership(t, mainNsp, "only-other", nil)

	if err := serverSideEmit(ctx, first.of(otherNsp), "ping", "other"); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.others(first) {
		n.expectSide(t, otherNsp, canon([]any{"other"}))
	}
	c.checkNoSide(t)
}

// Children of a dynamic namespace (Server.OfRegexp), whose adapters are
// made when their first client connects, are clustered like static
// namespaces: broadcasts, acks, fetchSockets and server-side emits reach
// the same child on every node, and no other.
func testDynamicNamespaces(t *testing.T, e *env) {
	const dyn1, dyn2 = "/dyn-1", "/dyn-2"
	c := e.newCluster(t, clusterOpts{})
	var ps []*peer
	for _, n := range c.nodes {
		ps = append(ps, c.connect(t, n, n.name+"d", peerOpts{nsps: []string{dyn1}}))
	}
	// Only the first node has a client in /dyn-2.
	first := c.nodes[0]
	lone := c.connect(t, first, "lone", peerOpts{nsps: []string{dyn2}})
	c.waitCountIn(t, len(c.nodes), c.o.Wait, dyn1)
	for _, n := range c.nodes {
		nsp := n.of(dyn1)
		c.awaitRoute(t, n.name+" to all of "+dyn1, func(ev string, args ...any) error { return emit(all(nsp), ev, args...) }, socks(dyn1, ps...)...)
		if err := emit(all(nsp), "in-dyn", n.name); err != nil {
			t.Fatalf("node %s: emit in %s: %v", n.name, dyn1, err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range ps {
			p.sock(dyn1).expect(t, "in-dyn", n.name)
		}
	}
	c.quiet(t, append(socks(dyn1, ps...), lone.sock(dyn2)), "in-dyn")

	for i, p := range ps {
		p.sock(dyn1).answer("vote", func(*client.Event) ([]any, bool) { return []any{i}, true })
	}
	lone.sock(dyn2).answer("vote", func(*client.Event) ([]any, bool) { return []any{"lone"}, true })
	ctx, cancel := context.WithTimeout(context.Background(), c.o.Wait)
	defer cancel()
	res, err := emitWithAck(ctx, all(first.of(dyn1)), c.o.Wait, "vote")
	if err != nil || len(res) != len(ps) {
		t.Fatalf("emit with ack in %s: %d answers of %d, %v", dyn1, len(res), len(ps), err)
	}
	// A child that exists on one node only: its broadcast with ack does
	// not wait for the servers that do not serve it.
	res, err = emitWithAck(ctx, all(first.of(dyn2)), c.o.Wait, "vote")
	if err != nil || len(res) != 1 {
		t.Fatalf("emit with ack in %s (on one node only): %d answers, %v", dyn2, len(res), err)
	}
	rs, err := fetchSockets(ctx, all(c.nodes[len(c.nodes)-1].of(dyn1)))
	if err != nil {
		t.Fatalf("fetch %s: %v", dyn1, err)
	}
	if got, want := remoteIDs(rs), ids(dyn1, ps...); !slices.Equal(got, want) {
		t.Fatalf("fetch %s: %v, want %v", dyn1, got, want)
	}
	if err := serverSideEmit(ctx, first.of(dyn1), "ping", "dyn"); err != nil {
		t.Fatal(err)
	}
	for _, n := range c.others(first) {
		n.expectSide(t, dyn1, canon([]any{"dyn"}))
	}
	c.checkNoSide(t)
}
