// Command goserver is the Go reference server of the benchmarks: a
// socketio.Server with the default configuration, exposing the same events
// and HTTP control endpoints as the Node reference server
// (bench/node/server.mjs).
//
//	'echo' (with ack)    answers the ack with the argument
//	'msg'                emits 'msg' back to the sender with the argument
//	GET /stats           {"heap", "stack", "goroutines", "sockets"} after a full GC
//	GET /bcast?n=&size=  emits n events 'b' of a size-byte string to everyone,
//	                     answers the milliseconds spent in the emit loop
//	GET /quit            exits (profiles written)
//	/debug/pprof/        net/http/pprof
//
// It prints the address it listens on ("127.0.0.1:port") on stdout. With
// -cpuprofile and -memprofile it writes profiles when it exits (SIGTERM,
// SIGINT or /quit).
package main

import (
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

	socketio "github.com/gosio/socketio"
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
	flag.Parse()

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

	io, err := socketio.NewServer(socketio.Config{})
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
		t0 := time.Now()
		for range max(n, 1) {
			_ = io.Emit("b", payload)
		}
		fmt.Fprint(w, float64(time.Since(t0))/float64(time.Millisecond))
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
