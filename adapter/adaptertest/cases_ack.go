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

// voteAnswer makes a socket answer "vote" with its name and a binary value
// (answers crossing servers carry one argument, as in Node).
func voteAnswer(p *peer, i int) answerFunc {
	return func(*client.Event) ([]any, bool) {
		return []any{map[string]any{"name": p.name, "bin": []byte{byte(i), 0xfe}}}, true
	}
}

// answerAll makes every peer of the population answer "vote".
func answerAll(pop *population, nsp string) {
	for i, p := range pop.all {
		p.sock(nsp).answer("vote", voteAnswer(p, i))
	}
}

// checkVotes checks the answers of a broadcast with ack: one per expected
// peer, each with its name and its binary value intact.
func checkVotes(t *testing.T, what string, pop *population, res []socketio.Args, want []*peer) {
	t.Helper()
	var got []string
	for _, a := range res {
		var v struct {
			Name string `json:"name"`
			Bin  []byte `json:"bin"`
		}
		if err := a.Decode(0, &v); err != nil {
			t.Fatalf("%s: answer %s: %v", what, canonArgs(a), err)
		}
		i := slices.IndexFunc(pop.all, func(p *peer) bool { return p.name == v.Name })
		if i < 0 || !slices.Equal(v.Bin, []byte{byte(i), 0xfe}) {
			t.Fatalf("%s: answer %s (name unknown or binary altered)", what, canonArgs(a))
		}
		got = append(got, v.Name)
	}
	slices.Sort(got)
	if w := names(want); !slices.Equal(got, w) {
		t.Fatalf("%s: answers from %v, want one from each of %v", what, got, w)
	}
}

func canonArgs(a socketio.Args) string {
	vals, err := a.Values()
	if err != nil {
		return "undecodable: " + err.Error()
	}
	return canon(vals)
}

// A broadcast with ack from every node gathers one answer from every
// socket of the cluster, and completes as soon as all answered (before its
// timeout: every server reported its number of recipients).
func testAckAll(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	answerAll(pop, mainNsp)
	for _, n := range c.nodes {
		res, err := emitWithAck(context.Background(), all(n.of(mainNsp)), c.o.Wait, "vote", n.name)
		if err != nil {
			t.Fatalf("node %s: emit with ack: %v (%d answers)", n.name, err, len(res))
		}
		checkVotes(t, "from "+n.name, pop, res, pop.all)
	}
	// The ack requests reached the clients once each.
	for _, p := range pop.all {
		for _, n := range c.nodes {
			p.main().expect(t, "vote", n.name)
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "vote")
}

// A broadcast with ack to rooms, and to rooms minus a room, gathers the
// answers of the selected sockets only.
func testAckRooms(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	answerAll(pop, mainNsp)
	for _, n := range c.nodes {
		nsp := n.of(mainNsp)
		res, err := emitWithAck(context.Background(), nsp.To("r1"), c.o.Wait, "vote", "r1")
		if err != nil {
			t.Fatalf("node %s: emit with ack to r1: %v", n.name, err)
		}
		checkVotes(t, "r1 from "+n.name, pop, res, pop.r1)
		res, err = emitWithAck(context.Background(), nsp.To("r2").Except("r1"), c.o.Wait, "vote", "r2-r1")
		if err != nil {
			t.Fatalf("node %s: emit with ack to r2 except r1: %v", n.name, err)
		}
		checkVotes(t, "r2 except r1 from "+n.name, pop, res, except(pop.r2, pop.r1))
	}
}

// A local broadcast with ack gathers the answers of its node's sockets and
// completes without waiting for the other servers.
func testAckLocal(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	answerAll(pop, mainNsp)
	for _, n := range c.nodes {
		res, err := emitWithAck(context.Background(), all(n.of(mainNsp)).Local(), c.o.Wait, "vote", "local")
		if err != nil {
			t.Fatalf("node %s: local emit with ack: %v (%d answers)", n.name, err, len(res))
		}
		checkVotes(t, "local from "+n.name, pop, res, on(n, pop.all))
	}
}

// When a socket does not answer, the broadcast ends at its timeout with
// ErrAckTimeout and the answers of all the others.
func testAckTimeout(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	answerAll(pop, mainNsp)
	silent := pop.all[len(pop.all)-1] // on the last node
	silent.main().answer("vote", func(*client.Event) ([]any, bool) { return nil, false })
	const timeout = 700 * time.Millisecond
	for _, n := range c.nodes {
		start := time.Now()
		res, err := emitWithAck(context.Background(), all(n.of(mainNsp)), timeout, "vote", "t")
		took := time.Since(start)
		if !errors.Is(err, socketio.ErrAckTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("node %s: err %v, want ErrAckTimeout wrapping context.DeadlineExceeded", n.name, err)
		}
		if took < timeout-50*time.Millisecond || took > timeout+slack {
			t.Fatalf("node %s: ended after %v, want about %v", n.name, took, timeout)
		}
		checkVotes(t, "from "+n.name+" with a silent socket", pop, res, except(pop.all, []*peer{silent}))
	}
	// The caller's context bounds the wait as well.
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res, err := all(c.nodes[0].of(mainNsp)).EmitWithAck(ctx, "vote", "ctx")
	if !errors.Is(err, socketio.ErrAckTimeout) {
		t.Fatalf("with a ctx deadline: err %v, want ErrAckTimeout", err)
	}
	checkVotes(t, "with a ctx deadline", pop, res, except(pop.all, []*peer{silent}))
}

// A broadcast with ack that selects nobody completes at once with no
// answers: every server reports zero recipients.
func testAckNobody(t *testing.T, e *env) {
	c := e.newCluster(t, clusterOpts{})
	pop := populate(t, c, peerOpts{})
	answerAll(pop, mainNsp)
	for _, n := range c.nodes {
		nsp := n.of(mainNsp)
		for what, op := range map[string]socketio.BroadcastOperator{
			"an empty room":    nsp.To("nobody"),
			"all but everyone": nsp.Except("r1", "r2"),
		} {
			res, err := emitWithAck(context.Background(), op, c.o.Wait, "vote", "nobody")
			if err != nil || len(res) != 0 {
				t.Fatalf("node %s, %s: %d answers, err %v; want none and no error", n.name, what, len(res), err)
			}
		}
	}
	c.quiet(t, socks(mainNsp, pop.all...), "vote")
}
