package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gosio/socketio/adapter"
	redisadapter "github.com/gosio/socketio/adapter/redis"
)

// A subscriber that never answers (here a bare SUBSCRIBE, counted by
// PUBSUB NUMSUB like a server) makes requests end at RequestsTimeout with
// the answers received, never hang.
func TestRequestsTimeout(t *testing.T) {
	t.Parallel()
	key := randomKey(t)
	client := newClient(t, redisAddr)
	a := newGoNode(t, client, key, "A", "classic")
	b := newGoNode(t, client, key, "B", "classic")
	ca, cb := newClients(t, a.url), newClients(t, b.url)
	ca.connect("a1")
	cb.connect("b1")
	ghost := client.Subscribe(context.Background(), key+"-request#/#")
	defer ghost.Close()
	if _, err := ghost.Receive(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitCount(t, a.io, 3)

	// The adapter returns what it got with the error (the server's
	// FetchSockets, like Node's, reports only the error).
	start := time.Now()
	infos, err := a.io.MainNamespace().Adapter().FetchSockets(context.Background(), adapter.BroadcastOptions{})
	if !errors.Is(err, redisadapter.ErrTimeout) || len(infos) != 2 {
		t.Fatalf("adapter fetch: %d sockets, %v", len(infos), err)
	}
	if d := time.Since(start); d < 2*time.Second || d > 6*time.Second {
		t.Fatalf("fetch ended after %v", d)
	}
	res, err := a.io.ServerSideEmitWithAck(context.Background(), "ping-server", "x")
	if !errors.Is(err, redisadapter.ErrTimeout) || len(res) != 1 {
		t.Fatalf("server-side emit: %v %v", res, err)
	}
	b.expectSide(t, `["x"]`)
	// A caller's deadline ends the wait earlier.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := a.io.FetchSockets(ctx); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("fetch with a deadline: %v after %v", err, time.Since(start))
	}
}
