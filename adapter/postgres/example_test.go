package postgres_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/postgres"
	"github.com/gosio/socketio/client"
)

// Two servers share broadcasts through PostgreSQL: a client of the first
// gets what the second emits, binary included (through the attachments
// table). Every server of a cluster uses the same prefix and table; Node
// servers on @socket.io/postgres-adapter can join the same cluster.
func ExampleNewAdapter() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, postgres.LiveURL()) // e.g. "postgres://user@host:5432/db"
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	name := fmt.Sprintf("example_%d", time.Now().UnixNano())
	defer pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
	opts := postgres.Options{ChannelPrefix: name, TableName: name}

	newServer := func() (*socketio.Server, *httptest.Server) {
		io, err := socketio.NewServer(socketio.Config{Adapter: postgres.NewAdapter(pool, opts)})
		if err != nil {
			log.Fatal(err)
		}
		return io, httptest.NewServer(io) // in production: an http.Server of its own
	}
	a, hsA := newServer()
	defer func() { hsA.Close(); _ = a.Close() }()
	b, hsB := newServer()
	defer func() { hsB.Close(); _ = b.Close() }()

	s, err := client.Dial(ctx, hsA.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	for n, _ := b.MainNamespace().Adapter().ServerCount(ctx); n < 2; n, _ = b.MainNamespace().Adapter().ServerCount(ctx) {
		time.Sleep(10 * time.Millisecond) // both servers heard of each other
	}

	if err := b.Emit("news", "from server B", []byte{1, 2}); err != nil {
		log.Fatal(err)
	}
	ev, err := s.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var text string
	var bin []byte
	_ = ev.Bind(&text, &bin)
	fmt.Println(ev.Name, text, bin)
	// Output: news from server B [1 2]
}

// An emitter publishes to the clients of a cluster from a process that is
// not a server (a worker, a cron job), as @socket.io/postgres-emitter does.
func ExampleNewEmitter() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, postgres.LiveURL())
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	name := fmt.Sprintf("example_%d", time.Now().UnixNano())
	defer pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+name)
	io, err := socketio.NewServer(socketio.Config{
		Adapter: postgres.NewAdapter(pool, postgres.Options{ChannelPrefix: name, TableName: name}),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer io.Close()
	hs := httptest.NewServer(io)
	defer hs.Close()
	s, err := client.Dial(ctx, hs.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	em := postgres.NewEmitter(pool, postgres.EmitterOptions{ChannelPrefix: name, TableName: name})
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
