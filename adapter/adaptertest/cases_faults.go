package adaptertest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
)

// One server of the cluster is closed. Its clients lose their connection;
// on the others, every operation still completes, within the adapter's
// request timeout while the gone server may still be counted, and the
// server count drops (after the heartbeat timeout, if the adapter has
// one); from then on nothing waits for the gone server.
func testNodeGone(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	answerAll(pop, mainNsp)
	first, gone := c.nodes[0], c.nodes[len(c.nodes)-1]
	gonePeers := on(gone, pop.all)
	livePeers := except(pop.all, gonePeers)
	gone.close()
	for _, p := range gonePeers {
		p.main().expectDisconnect(t)
	}
	liveNodes := c.live()

	// At once: broadcasts from every live node reach every live client.
	for _, n := range liveNodes {
		if err := emit(all(n.of(mainNsp)), "after-gone", n.name); err != nil {
			t.Fatalf("node %s: emit with a server gone: %v", n.name, err)
		}
	}
	for _, n := range liveNodes {
		for _, p := range livePeers {
			p.main().expect(t, "after-gone", n.name)
		}
	}
	// Requests end in time, with everything the live servers have.
	bound := c.o.RequestTimeout + slack
	const ackTimeout = time.Second
	start := time.Now()
	res, err := emitWithAck(context.Background(), all(first.of(mainNsp)), ackTimeout, "vote", "gone")
	if took := time.Since(start); took > ackTimeout+slack {
		t.Fatalf("emit with ack with a server gone: ended after %v (timeout %v)", took, ackTimeout)
	}
	if err != nil && !errors.Is(err, socketio.ErrAckTimeout) {
		t.Fatalf("emit with ack with a server gone: %v", err)
	}
	t.Logf("emit with ack at once after a server left: %d answers, err %v", len(res), err)
	checkVotes(t, "emit with ack with a server gone", pop, res, livePeers)

	ctx, cancel := context.WithTimeout(context.Background(), bound+time.Second)
	defer cancel()
	start = time.Now()
	rs, err := fetchSockets(ctx, all(first.of(mainNsp)))
	if took := time.Since(start); took > bound {
		t.Fatalf("fetch with a server gone: ended after %v (request timeout %v)", took, c.o.RequestTimeout)
	}
	if err == nil {
		if got, want := remoteIDs(rs), ids(mainNsp, livePeers...); !slices.Equal(got, want) {
			t.Fatalf("fetch with a server gone: %v, want %v", got, want)
		}
	} else {
		t.Logf("fetch at once after a server left: %v", err)
	}
	start = time.Now()
	sres, err := serverSideEmitWithAck(ctx, first.of(mainNsp), "ping", "gone")
	if took := time.Since(start); took > bound {
		t.Fatalf("server-side emit with ack with a server gone: ended after %v (request timeout %v)", took, c.o.RequestTimeout)
	}
	t.Logf("server-side emit with ack at once after a server left: %d answers, err %v", len(sres), err)
	checkServerAnswers(t, first, sres, c.others(first))

	// The count drops; then nothing waits for the gone server.
	c.waitCount(t, len(liveNodes), c.o.HeartbeatTimeout+c.o.Wait)
	rs, err = fetchSockets(ctx, all(first.of(mainNsp)))
	if err != nil {
		t.Fatalf("fetch once the server count dropped: %v", err)
	}
	if got, want := remoteIDs(rs), ids(mainNsp, livePeers...); !slices.Equal(got, want) {
		t.Fatalf("fetch once the server count dropped: %v, want %v", got, want)
	}
	sres, err = serverSideEmitWithAck(ctx, first.of(mainNsp), "ping", "after")
	if err != nil {
		t.Fatalf("server-side emit with ack once the server count dropped: %v", err)
	}
	checkServerAnswers(t, first, sres, c.others(first))
	res, err = emitWithAck(context.Background(), all(first.of(mainNsp)), c.o.Wait, "vote", "after")
	if err != nil {
		t.Fatalf("emit with ack once the server count dropped: %v", err)
	}
	checkVotes(t, "emit with ack once the server count dropped", pop, res, livePeers)
	if err := socketsJoin(ctx, all(first.of(mainNsp)), "survivors"); err != nil {
		t.Fatalf("sockets join once the server count dropped: %v", err)
	}
	c.waitMembership(t, mainNsp, "survivors", livePeers)
}

// The broker stops and starts again (empty) under the cluster. While it is
// down every operation returns within the adapter's request timeout,
// nothing panics and local delivery goes on; once it is back the servers
// count each other again and broadcasts, requests and room operations
// resume by themselves. What was published during the outage is lost for
// the other servers with a pub/sub broker; the test logs what was lost.
func testBrokerRestart(t *testing.T, e *env) {
	b := e.o.Faults.Broker(t)
	if b.NewNode == nil || b.Stop == nil || b.Start == nil {
		t.Fatal("adaptertest: Faults.Broker must return NewNode, Stop and Start")
	}
	c := e.newCluster(t, clusterOpts{newNode: b.NewNode})
	pop := populate(t, c, peerOpts{})
	answerAll(pop, mainNsp)
	first := c.nodes[0]
	for _, n := range c.nodes {
		if err := emit(all(n.of(mainNsp)), "before", n.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range pop.all {
			p.main().expect(t, "before", n.name)
		}
	}

	b.Stop(t)
	t.Log("broker stopped")
	bound := c.o.RequestTimeout + slack
	timedWithin := func(limit time.Duration, what string, fn func() error) {
		t.Helper()
		start := time.Now()
		err := fn()
		took := time.Since(start)
		if took > limit {
			t.Errorf("broker down: %s took %v, more than %v", what, took, limit)
		}
		t.Logf("broker down: %s: err=%v after %v", what, err, took)
	}
	timed := func(what string, fn func() error) { t.Helper(); timedWithin(bound, what, fn) }
	ctx := context.Background()
	emitBound := c.o.MaxEmitBlock + emitSlack
	timedWithin(emitBound, "emit", func() error { return emit(all(first.of(mainNsp)), "during", 1) })
	timedWithin(emitBound, "emit to r1", func() error { return emit(first.of(mainNsp).To("r1"), "during-r1", 2) })
	for _, p := range on(first, pop.all) {
		p.main().expect(t, "during", 1) // local delivery goes on
	}
	for _, p := range on(first, pop.r1) {
		p.main().expect(t, "during-r1", 2)
	}
	timed("emit with ack", func() error {
		_, err := emitWithAck(ctx, all(first.of(mainNsp)), time.Second, "vote", "during")
		return err
	})
	timed("fetch", func() error {
		ctx, cancel := context.WithTimeout(ctx, bound+time.Second)
		defer cancel()
		_, err := fetchSockets(ctx, all(first.of(mainNsp)))
		return err
	})
	timed("server-side emit", func() error { return serverSideEmit(ctx, first.of(mainNsp), "ping", "during") })
	timed("server-side emit with ack", func() error {
		ctx, cancel := context.WithTimeout(ctx, bound+time.Second)
		defer cancel()
		_, err := serverSideEmitWithAck(ctx, first.of(mainNsp), "ping", "during-ack")
		return err
	})
	timed("sockets join", func() error { return socketsJoin(ctx, all(first.of(mainNsp)), "during-room") })
	timed("server count", func() error { _, err := serverCount(ctx, first.of(mainNsp)); return err })
	// A client connects during the outage.
	var late *peer
	timed("a client connects", func() error { late = c.connect(t, first, "late", peerOpts{transport: "websocket"}); return nil })
	timed("its socket joins rooms, one of them new", func() error { c.joinRooms(t, late.main(), "r1", "new-during"); return nil })

	b.Start(t)
	t.Log("broker started again")
	restarted := time.Now()
	c.waitCount(t, len(c.nodes), 3*c.o.Wait)
	everyone := append(slices.Clone(pop.all), late)
	r1 := append(slices.Clone(pop.r1), late)
	for _, n := range c.nodes {
		nsp := n.of(mainNsp)
		c.awaitRoute(t, n.name+" to all after the restart", func(ev string, args ...any) error { return emit(all(nsp), ev, args...) }, socks(mainNsp, everyone...)...)
		c.awaitRoute(t, n.name+" to r1 after the restart", func(ev string, args ...any) error { return emit(nsp.To("r1"), ev, args...) }, socks(mainNsp, r1...)...)
	}
	// The room created while the broker was down is reachable from the
	// other servers.
	for _, n := range c.others(first) {
		nsp := n.of(mainNsp)
		c.awaitRoute(t, n.name+" to the room made during the outage", func(ev string, args ...any) error { return emit(nsp.To("new-during"), ev, args...) }, late.main())
	}
	t.Logf("broadcasts flow again %v after the broker restarted", time.Since(restarted))
	for _, n := range c.nodes {
		if err := emit(all(n.of(mainNsp)), "after", n.name); err != nil {
			t.Fatalf("node %s: emit after the restart: %v", n.name, err)
		}
	}
	for _, n := range c.nodes {
		for _, p := range everyone {
			p.main().expect(t, "after", n.name)
		}
	}
	ctx2, cancel := context.WithTimeout(ctx, c.o.Wait)
	defer cancel()
	sres, err := serverSideEmitWithAck(ctx2, first.of(mainNsp), "ping", "after")
	if err != nil {
		t.Fatalf("server-side emit with ack after the restart: %v", err)
	}
	checkServerAnswers(t, first, sres, c.others(first))
	rs, err := fetchSockets(ctx2, all(first.of(mainNsp)))
	if err != nil {
		t.Fatalf("fetch after the restart: %v", err)
	}
	if got, want := remoteIDs(rs), ids(mainNsp, everyone...); !slices.Equal(got, want) {
		t.Fatalf("fetch after the restart: %v, want %v", got, want)
	}
	late.main().answer("vote", voteAnswer(late, -1))
	res, err := emitWithAck(ctx, all(first.of(mainNsp)), c.o.Wait, "vote", "after")
	if err != nil || len(res) != len(everyone) {
		t.Fatalf("emit with ack after the restart: %d answers of %d, err %v", len(res), len(everyone), err)
	}
	if err := socketsJoin(ctx2, all(c.nodes[len(c.nodes)-1].of(mainNsp)), "after-room"); err != nil {
		t.Fatalf("sockets join after the restart: %v", err)
	}
	c.waitMembership(t, mainNsp, "after-room", everyone)

	// What the outage cost: the broadcasts published while the broker was
	// down, for the clients of the other servers.
	time.Sleep(c.o.Quiet)
	var lost, got []string
	for _, p := range except(pop.all, on(first, pop.all)) {
		p.main().drain()
		if slices.ContainsFunc(p.main().pending, func(e *client.Event) bool { return e.Name == "during" }) {
			got = append(got, p.name)
		} else {
			lost = append(lost, p.name)
		}
	}
	t.Logf("the broadcast emitted during the outage reached %v and was lost for %v (clients of other servers)", got, lost)
	for _, n := range c.nodes {
		_ = n.sideEvents() // "during" may or may not have arrived
	}
}
