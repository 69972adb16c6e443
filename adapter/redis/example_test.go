package redis_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	goredis "github.com/redis/go-redis/v9"

	socketio "github.com/gosio/socketio"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/client"
)

// Two servers share broadcasts through Redis: a client of the first gets
// what the second emits. Every server of a cluster uses the same adapter
// and prefix; Node servers on @socket.io/redis-adapter's
// createShardedAdapter can join the same cluster.
func ExampleNewShardedAdapter() {
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr}) // or goredis.NewClusterClient
	defer rdb.Close()
	prefix := fmt.Sprintf("example-%d", time.Now().UnixNano())

	newServer := func() (*socketio.Server, *httptest.Server) {
		io, err := socketio.NewServer(socketio.Config{
			Adapter: redisadapter.NewShardedAdapter(rdb, redisadapter.ShardedOptions{ChannelPrefix: prefix}),
		})
		if err != nil {
			log.Fatal(err)
		}
		return io, httptest.NewServer(io) // in production: an http.Server of its own
	}
	a, hsA := newServer()
	defer func() { hsA.Close(); _ = a.Close() }()
	b, hsB := newServer()
	defer func() { hsB.Close(); _ = b.Close() }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, hsA.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for n, _ := b.MainNamespace().Adapter().ServerCount(ctx); n < 2; n, _ = b.MainNamespace().Adapter().ServerCount(ctx) {
		time.Sleep(10 * time.Millisecond) // both servers subscribed
	}

	if err := b.Emit("news", "from server B"); err != nil {
		log.Fatal(err)
	}
	ev, err := s.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var text string
	_ = ev.Bind(&text)
	fmt.Println(ev.Name, text)
	// Output: news from server B
}

// An emitter publishes to the clients of a cluster from a process that is
// not a server (a worker, a cron job), as @socket.io/redis-emitter does.
func ExampleNewEmitter() {
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
	defer rdb.Close()
	key := fmt.Sprintf("example-%d", time.Now().UnixNano())
	io, err := socketio.NewServer(socketio.Config{Adapter: redisadapter.NewAdapter(rdb, redisadapter.Options{Key: key})})
	if err != nil {
		log.Fatal(err)
	}
	defer io.Close()
	hs := httptest.NewServer(io)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, hs.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	em := redisadapter.NewEmitter(rdb, redisadapter.EmitterOptions{Key: key})
	if err := em.Emit(ctx, "job", "done", 42); err != nil {
		log.Fatal(err)
	}
	ev, err := s.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var what string
	var n int
	_ = ev.Bind(&what, &n)
	fmt.Println(ev.Name, what, n)
	// Output: job done 42
}
