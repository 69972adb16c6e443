// Command cluster runs one Socket.IO server of a cluster that shares its
// broadcasts through Redis with the classic adapter, wire-compatible with
// Node's @socket.io/redis-adapter. Start it twice (two ports) and, if you
// like, a Node server on the same Redis and key: see README.md. With -nats,
// the servers share a NATS server with JetStream instead (Go servers only);
// with -postgres, a PostgreSQL (Node's @socket.io/postgres-adapter format).
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	natsadapter "github.com/gosio/socketio/adapter/nats"
	pgadapter "github.com/gosio/socketio/adapter/postgres"
	redisadapter "github.com/gosio/socketio/adapter/redis"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:3001", "listen address")
	redisAddr := flag.String("redis", "127.0.0.1:6379", "Redis address")
	key := flag.String("key", "socket.io", "channel prefix (the Node servers' key option)")
	name := flag.String("name", "go-1", "server name, shown to clients")
	natsURL := flag.String("nats", "", "share the cluster over this NATS server (JetStream) instead of Redis, e.g. nats://127.0.0.1:4222")
	pgURL := flag.String("postgres", "", "share the cluster over this PostgreSQL instead of Redis (LISTEN/NOTIFY, Node's @socket.io/postgres-adapter format), e.g. postgres://postgres@127.0.0.1:5432/test")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var factory adapter.Factory
	var recovery *socketio.RecoveryConfig
	if *natsURL != "" {
		nc, err := nats.Connect(*natsURL, nats.MaxReconnects(-1))
		if err != nil {
			log.Fatal(err)
		}
		defer nc.Close()
		factory = natsadapter.NewAdapter(nc, natsadapter.Options{Prefix: *key, JetStream: true, Logger: logger})
		// Sessions and missed events are in JetStream: a client recovers
		// on any server.
		recovery = &socketio.RecoveryConfig{}
	} else if *pgURL != "" {
		pool, err := pgxpool.New(context.Background(), *pgURL)
		if err != nil {
			log.Fatal(err)
		}
		defer pool.Close()
		factory = pgadapter.NewAdapter(pool, pgadapter.Options{ChannelPrefix: *key, Logger: logger})
	} else {
		rdb := goredis.NewClient(&goredis.Options{Addr: *redisAddr})
		defer rdb.Close()
		factory = redisadapter.NewAdapter(rdb, redisadapter.Options{Key: *key, Logger: logger})
	}

	io, err := socketio.NewServer(socketio.Config{
		Adapter:                 factory,
		ConnectionStateRecovery: recovery,
		Logger:                  logger,
	})
	if err != nil {
		log.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		s.SetData(map[string]any{"server": *name})
		_ = s.Emit("welcome", "connected to "+*name)
		// A chat message goes to every client of every server.
		socketio.On(s, "chat", func(msg string) {
			_ = io.Emit("chat", map[string]any{"from": s.ID(), "via": *name, "text": msg})
		})
		socketio.OnAck(s, "join", func(room string) (string, error) {
			s.Join(room)
			return "joined " + room, nil
		})
		socketio.On(s, "to-room", func(m struct {
			Room string `json:"room"`
			Text string `json:"text"`
		}) {
			_ = io.To(m.Room).Emit("room", m.Text)
		})
		// Who is connected, cluster-wide.
		s.On("who", func(e *socketio.Event) {
			ctx, cancel := context.WithTimeout(s.Context(), 5*time.Second)
			defer cancel()
			socks, err := io.FetchSockets(ctx)
			list := []map[string]any{}
			for _, r := range socks {
				list = append(list, map[string]any{"id": r.ID, "data": r.Data})
			}
			errText := ""
			if err != nil {
				errText = err.Error()
			}
			_ = e.Ack(list, errText)
		})
	})
	io.OnServerSideEmit("hello", func(e *socketio.ServerEvent) {
		var from string
		_ = e.Bind(&from)
		logger.Info("server-side hello", "from", from)
		if e.HasAck() {
			_ = e.Ack(*name)
		}
	})

	// ReadHeaderTimeout and IdleTimeout cut slow or idle clients without
	// cutting long polls or WebSockets; see docs/engineio.md.
	srv := &http.Server{Addr: *addr, Handler: io, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() {
		logger.Info("listening", "addr", *addr, "name", *name)
		if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
			log.Fatal(err)
		}
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// Greet the other servers, and count them.
	time.Sleep(500 * time.Millisecond)
	if n, err := io.MainNamespace().Adapter().ServerCount(ctx); err == nil {
		logger.Info("servers in the cluster", "count", n)
	}
	_ = io.ServerSideEmit(ctx, "hello", *name)
	<-ctx.Done()
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	_ = io.Close()
}
