package adaptertest

import (
	"context"
	"slices"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
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
