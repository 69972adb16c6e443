package redis_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/client"
)

// subscriberConns counts the connections of a Redis server that hold a
// subscription (CLIENT LIST: sub, psub or ssub above 0).
func subscriberConns(t *testing.T, addr string) int {
	t.Helper()
	c := newClient(t, addr)
	list, err := c.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			if (k == "sub" || k == "psub" || k == "ssub") && v != "0" {
				n++
				break
			}
		}
	}
	return n
}

// One server with 1,000 dynamic namespaces keeps one Redis subscription
// connection for all of them (as Node's adapter does), and closes it with
// the server.
func TestOneSubscriberConnectionForManyNamespaces(t *testing.T) {
	forProtocols(t, func(t *testing.T, proto string) {
		srv, err := startRedis("")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.stop()
		key := randomKey(t)
		n := newGoNode(t, newClient(t, srv.addr), key, "A", proto)
		n.io.OfFunc(func(name string, _ map[string]any) bool { return strings.HasPrefix(name, "/dyn") })
		base := subscriberConns(t, srv.addr)
		m, err := client.NewManager(n.url, &client.Options{Transports: []string{"websocket"}, NoReconnection: true})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = m.Close() }()
		const count = 1000
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for i := range count {
			s := m.Socket(fmt.Sprintf("/dyn%d", i), nil)
			if err := s.Connect(ctx); err != nil {
				t.Fatalf("namespace %d: %v", i, err)
			}
		}
		if got := subscriberConns(t, srv.addr); got != base {
			t.Fatalf("%d subscription connections with %d namespaces, %d before", got, count, base)
		}
		if base != 1 {
			t.Fatalf("%d subscription connections for one server", base)
		}
		_ = n.io.Close()
		waitFor(t, "the subscription connection closed", func() bool { return subscriberConns(t, srv.addr) == 0 })
	})
}

// While Redis does not answer, emits do not wait for it: they return at
// once (the message is queued), and once the queue is full they return
// ErrQueueFull; local clients get every event.
func TestEmitsDoNotBlockDuringOutage(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, proto string) {
		key := randomKey(t)
		proxy := newCutProxy(t, redisAddr)
		c := newClient(t, proxy.addr())
		var factory = redisadapter.NewAdapter(c, redisadapter.Options{Key: key, RequestsTimeout: 3 * time.Second, MaxQueuedMessages: 50})
		switch proto {
		case "sharded":
			factory = redisadapter.NewShardedAdapter(c, redisadapter.ShardedOptions{ChannelPrefix: key, MaxQueuedMessages: 50})
		case "streams":
			factory = redisadapter.NewStreamsAdapter(c, redisadapter.StreamsOptions{StreamName: key, ChannelPrefix: key,
				BlockTime: 200 * time.Millisecond, MaxQueuedMessages: 50})
		}
		io, err := socketio.NewServer(socketio.Config{Adapter: factory})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = io.Close() }()
		proxy.cut()
		start := time.Now()
		full := 0
		for i := range 200 {
			err := io.Emit("n", i)
			switch {
			case errors.Is(err, redisadapter.ErrQueueFull):
				full++
			case err != nil:
				t.Fatal(err)
			}
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("200 emits took %v while Redis was cut off", took)
		}
		if full < 100 {
			t.Fatalf("only %d of 200 emits refused with a queue of 50", full)
		}
		proxy.restore()
	})
}

// redisChannels counts the channels and patterns a Redis server has
// subscribers for, under prefix.
func redisChannels(t *testing.T, addr, prefix string) int {
	t.Helper()
	c := newClient(t, addr)
	ctx := context.Background()
	chans, err := c.PubSubChannels(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	shard, err := c.PubSubShardChannels(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	pats, err := c.PubSubNumPat(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(chans) + len(shard) + int(pats)
}

// Dynamic children whose CONNECT the parent's middleware refuses leave
// nothing behind with CleanupEmptyChildNamespaces: no child, no Redis
// subscription (channels and patterns back to where they were), no
// goroutine.
//
// Not parallel: it counts the process's goroutines.
func TestRefusedChildrenLeaveNoSubscription(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) { testRefusedChildren(t, proto) })
	}
}

func testRefusedChildren(t *testing.T, proto string) {
	srv, err := startRedis("")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.stop()
	key := randomKey(t)
	n := newGoNodeCfg(t, newClient(t, srv.addr), key, "A", proto, func(cfg *socketio.Config) { cfg.CleanupEmptyChildNamespaces = true })
	parent := n.io.OfFunc(func(name string, _ map[string]any) bool { return strings.HasPrefix(name, "/dyn") })
	parent.Use(func(*socketio.Socket) error { return errors.New("refused") })
	m, err := client.NewManager(n.url, &client.Options{Transports: []string{"websocket"}, NoReconnection: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Close() }()
	// Warm up, then measure.
	if err := m.Socket("/", nil).Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	baseChans := redisChannels(t, srv.addr, key)
	baseG := runtime.NumGoroutine()
	const count = 300
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range count {
		s := m.Socket(fmt.Sprintf("/dyn%d", i), nil)
		if err := s.Connect(ctx); err == nil || !strings.Contains(err.Error(), "refused") {
			t.Fatalf("namespace %d: %v, want the refusal", i, err)
		}
	}
	waitFor(t, "no child left", func() bool { return len(parent.Children()) == 0 })
	waitFor(t, "the children's subscriptions gone", func() bool { return redisChannels(t, srv.addr, key) == baseChans })
	waitFor(t, "goroutines back", func() bool { return runtime.NumGoroutine() <= baseG+5 })
	if got := subscriberConns(t, srv.addr); got != 1 {
		t.Fatalf("%d subscription connections", got)
	}
}
