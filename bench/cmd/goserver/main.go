// Command goserver is the Go reference server of the benchmarks: a
// socketio.Server with the default configuration, exposing the same events
// and HTTP control endpoints as the Node reference server
// (bench/node/server.mjs).
//
//	'echo' (with ack)    answers the ack with the argument
//	'msg'                emits 'msg' back to the sender with the argument
//	GET /stats           {"heap", "stack", "goroutines", "sockets"} after a full GC
//	GET /servers         the number of servers of the cluster (1 without -redis)
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
// With -redis host:port the server joins a cluster through the Redis
// adapter given by -adapter: sharded (NewShardedAdapter, the default) or
// classic (NewAdapter), with their default options.
package main

import (
	"context"
	"encoding/json"
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

	goredis "github.com/redis/go-redis/v9"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	redisadapter "github.com/gosio/socketio/adapter/redis"
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
	redisAddr := flag.String("redis", "", "Redis address (host:port) of the cluster; empty: a single server")
	adapterName := flag.String("adapter", "sharded", "Redis adapter with -redis: sharded or classic")
	flag.Parse()

	var factory adapter.Factory
	if *redisAddr != "" {
		rdb := goredis.NewClient(&goredis.Options{Addr: *redisAddr})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			log.Fatalf("redis %s: %v", *redisAddr, err)
		}
		switch *adapterName {
		case "sharded":
			factory = redisadapter.NewShardedAdapter(rdb, redisadapter.ShardedOptions{})
		case "classic":
			factory = redisadapter.NewAdapter(rdb, redisadapter.Options{})
		default:
			log.Fatalf("-adapter %q: want sharded or classic", *adapterName)
		}
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
