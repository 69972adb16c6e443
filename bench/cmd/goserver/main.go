// Command goserver is the Go reference server of the benchmarks: a
// socketio.Server with the default configuration, exposing the same events
// and HTTP control endpoints as the Node reference server
// (bench/node/server.mjs).
//
//	'echo' (with ack)    answers the ack with the argument
//	'msg'                emits 'msg' back to the sender with the argument
//	GET /stats           {"heap", "stack", "goroutines", "sockets"} after a full GC
//	GET /servers         the number of servers of the cluster (1 alone)
//	GET /bcast?n=&size=  emits n events 'b' of a size-byte string to everyone,
//	                     answers the milliseconds spent in the emit loop
//	                     (an emit error is logged on stderr and answered 500)
//	GET /quit            exits (profiles written)
//	/debug/pprof/        net/http/pprof
//
// It prints the address it listens on ("127.0.0.1:port") on stdout. With
// -cpuprofile and -memprofile it writes profiles when it exits (SIGTERM,
// SIGINT or /quit).
//
// It joins a cluster through one adapter, with its default options but for
// the channel or subject prefix (-prefix, so that clusters sharing a
// database or a NATS server stay apart):
//
//	-redis host:port  adapter/redis on go-redis, -adapter choosing sharded
//	                  (NewShardedAdapter, the default) or classic (NewAdapter)
//	-postgres DSN     adapter/postgres on a pgx pool (LISTEN/NOTIFY)
//	-nats URL         adapter/nats on nats.go, core mode; -nats-jetstream
//	                  for the JetStream mode
//
// Without any of them it is a single server. It exits when the service does
// not answer within 10 s.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	rpprof "runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	natsadapter "github.com/gosio/socketio/adapter/nats"
	pgadapter "github.com/gosio/socketio/adapter/postgres"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	sioprom "github.com/gosio/socketio/metrics/prometheus"
	"github.com/prometheus/client_golang/prometheus"
)

// Stats is the answer of /stats.
type Stats struct {
	Heap       int64 `json:"heap"`       // Go heap in use, bytes
	Stack      int64 `json:"stack"`      // goroutine stacks in use, bytes
	Goroutines int   `json:"goroutines"` // live goroutines
	Sockets    int   `json:"sockets"`    // sockets in the main namespace
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memprofile := flag.String("memprofile", "", "write a heap profile to this file on exit")
	redisAddr := flag.String("redis", "", "Redis address (host:port) of the cluster")
	adapterName := flag.String("adapter", "sharded", "Redis adapter with -redis: sharded or classic")
	pgDSN := flag.String("postgres", "", "PostgreSQL DSN of the cluster (adapter/postgres), e.g. postgres://postgres@127.0.0.1:5432/test")
	natsURL := flag.String("nats", "", "NATS URL of the cluster (adapter/nats), e.g. nats://127.0.0.1:4222")
	jetStream := flag.Bool("nats-jetstream", false, "with -nats: the adapter's JetStream mode rather than core NATS")
	prefix := flag.String("prefix", "", "channel prefix (-postgres) or subject prefix (-nats); empty: the adapter's default")
	flag.Parse()

	factory, err := clusterAdapter(*redisAddr, *adapterName, *pgDSN, *natsURL, *jetStream, *prefix)
	if err != nil {
		log.Fatal(err)
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := rpprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	var exitOnce sync.Once
	exit := func() {
		exitOnce.Do(func() {
			if *cpuprofile != "" {
				rpprof.StopCPUProfile()
			}
			if *memprofile != "" {
				if f, err := os.Create(*memprofile); err == nil {
					runtime.GC()
					_ = rpprof.WriteHeapProfile(f)
					_ = f.Close()
				}
			}
			os.Exit(0)
		})
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; exit() }()

	io, err := socketio.NewServer(socketio.Config{Adapter: factory})
	if err != nil {
		log.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.OnAck(s, "echo", func(data string) (string, error) { return data, nil })
		socketio.On(s, "msg", func(data string) { _ = s.Emit("msg", data) })
	})

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Stats{
			Heap:       int64(ms.HeapInuse),
			Stack:      int64(ms.StackInuse),
			Goroutines: runtime.NumGoroutine(),
			Sockets:    len(io.MainNamespace().Sockets()),
		})
	})
	mux.HandleFunc("/bcast", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		payload := strings.Repeat("x", max(size, 0))
		var failed int
		var first error
		t0 := time.Now()
		for range max(n, 1) {
			if err := io.Emit("b", payload); err != nil {
				if failed++; first == nil {
					first = err
				}
			}
		}
		ms := float64(time.Since(t0)) / float64(time.Millisecond)
		if failed > 0 {
			// ErrQueueFull: the other servers of the cluster missed these.
			log.Printf("bcast: %d of %d emits failed: %v", failed, max(n, 1), first)
			http.Error(w, fmt.Sprintf("%d of %d emits failed: %v", failed, max(n, 1), first), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, ms)
	})
	var observeOnce sync.Once
	mux.HandleFunc("/observe", func(w http.ResponseWriter, _ *http.Request) {
		// From now on the server is observed as a production one would be:
		// metrics/prometheus's collector, its defaults (no namespace or
		// event label), registered with a registry of its own.
		var err error
		observeOnce.Do(func() {
			_, err = sioprom.New(io, sioprom.Options{Registerer: prometheus.NewRegistry()})
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "observed")
	})
	mux.HandleFunc("/servers", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.MainNamespace().Adapter().ServerCount(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("/quit", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("bye"))
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		go exit()
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: mux}
	log.Fatal(srv.Serve(ln))
}

// clusterAdapter returns the adapter of the one service given (nil when
// none is), once the service has answered.
func clusterAdapter(redisAddr, redisKind, pgDSN, natsURL string, jetStream bool, prefix string) (adapter.Factory, error) {
	given := 0
	for _, v := range []string{redisAddr, pgDSN, natsURL} {
		if v != "" {
			given++
		}
	}
	if given > 1 {
		return nil, errors.New("give one of -redis, -postgres and -nats")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch {
	case redisAddr != "":
		rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
		if err := rdb.Ping(ctx).Err(); err != nil {
			return nil, fmt.Errorf("redis %s: %w", redisAddr, err)
		}
		switch redisKind {
		case "sharded":
			return redisadapter.NewShardedAdapter(rdb, redisadapter.ShardedOptions{}), nil
		case "classic":
			return redisadapter.NewAdapter(rdb, redisadapter.Options{}), nil
		}
		return nil, fmt.Errorf("-adapter %q: want sharded or classic", redisKind)
	case pgDSN != "":
		pool, err := pgxpool.New(ctx, pgDSN)
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("postgres %s: %w", pool.Config().ConnConfig.Host, err)
		}
		return pgadapter.NewAdapter(pool, pgadapter.Options{ChannelPrefix: prefix}), nil
	case natsURL != "":
		nc, err := nats.Connect(natsURL, nats.Timeout(10*time.Second))
		if err != nil {
			return nil, fmt.Errorf("nats %s: %w", natsURL, err)
		}
		return natsadapter.NewAdapter(nc, natsadapter.Options{Prefix: prefix, JetStream: jetStream}), nil
	}
	return nil, nil
}
