// Command idlemem measures the memory an idle WebSocket client costs the
// Socket.IO server: it starts the server in a child process, connects N
// clients (Engine.IO over WebSocket, each joined to the main namespace),
// waits for things to settle, and reports the growth of the server's RSS,
// Go heap and stacks, and goroutines, per client.
//
//	go run ./idlemem -n 5000
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/lxzan/gws"
)

type stats struct {
	RSS        int64 `json:"rss"`
	HeapInuse  int64 `json:"heapInuse"`
	StackInuse int64 `json:"stackInuse"`
	Goroutines int   `json:"goroutines"`
	Sockets    int   `json:"sockets"`
	// The runtime's memory outside the heap's spans and the stacks, which
	// RSS counts too: GC metadata, span structures, other runtime
	// allocations (the network poller's descriptors among them), and freed
	// heap pages not yet returned to the OS.
	GCSys      int64 `json:"gcSys"`
	MSpanInuse int64 `json:"mspanInuse"`
	OtherSys   int64 `json:"otherSys"`
	HeapFree   int64 `json:"heapFree"`
}

func main() {
	n := flag.Int("n", 5000, "number of idle clients")
	serve := flag.Bool("serve", false, "run as the server child")
	engineOnly := flag.Bool("engine", false, "measure the Engine.IO server alone (no Socket.IO namespace)")
	heapProfile := flag.String("heapprofile", "", "write the server's heap profile (with the clients connected) to this file")
	flag.Parse()
	if *serve {
		runServer(*engineOnly)
		return
	}
	args := []string{"-serve"}
	if *engineOnly {
		args = append(args, "-engine")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr, _ := bufio.NewReader(out).ReadString('\n')
	addr = strings.TrimSpace(addr)

	before := fetch(addr)
	var conns []*gws.Conn
	var mu sync.Mutex
	for i := 0; i < *n; i++ {
		c, err := dial(addr)
		if err != nil {
			log.Fatalf("client %d: %v", i, err)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	deadline := time.Now().Add(30 * time.Second)
	var after stats
	for {
		time.Sleep(2 * time.Second)
		after = fetch(addr)
		if after.Sockets >= *n || time.Now().After(deadline) {
			break
		}
	}
	time.Sleep(2 * time.Second)
	after = fetch(addr)
	per := func(a, b int64) float64 { return float64(b-a) / float64(*n) / 1024 }
	what := "Socket.IO server, main namespace joined"
	if *engineOnly {
		what = "Engine.IO server alone"
	}
	fmt.Printf("%s; idle WebSocket clients: %d (connected: %d)\n", what, *n, after.Sockets)
	fmt.Printf("RSS per client:        %.2f KiB\n", per(before.RSS, after.RSS))
	fmt.Printf("heap in use per client: %.2f KiB\n", per(before.HeapInuse, after.HeapInuse))
	fmt.Printf("stacks per client:     %.2f KiB\n", per(before.StackInuse, after.StackInuse))
	fmt.Printf("goroutines per client: %.2f\n", float64(after.Goroutines-before.Goroutines)/float64(*n))
	fmt.Printf("runtime outside the heap and stacks, per client: GC metadata %.2f KiB, spans %.2f KiB, other %.2f KiB; free heap not returned %.2f KiB\n",
		per(before.GCSys, after.GCSys), per(before.MSpanInuse, after.MSpanInuse),
		per(before.OtherSys, after.OtherSys), per(before.HeapFree, after.HeapFree))
	if *heapProfile != "" {
		res, err := http.Get("http://" + addr + "/debug/pprof/heap")
		if err != nil {
			log.Fatal(err)
		}
		f, err := os.Create(*heapProfile)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = io.Copy(f, res.Body)
		_ = res.Body.Close()
		_ = f.Close()
	}
	for _, c := range conns {
		_ = c.NetConn().Close()
	}
}

type quiet struct{ gws.BuiltinEventHandler }

func (quiet) OnPing(c *gws.Conn, p []byte) { _ = c.WritePong(p) }

// handler answers Engine.IO pings so the sessions stay alive.
type handler struct{ quiet }

func (handler) OnMessage(c *gws.Conn, m *gws.Message) {
	if m.Data.String() == "2" {
		_ = c.WriteString("3")
	}
	m.Close()
}

func dial(addr string) (*gws.Conn, error) {
	c, _, err := gws.NewClient(handler{}, &gws.ClientOption{Addr: "ws://" + addr + "/socket.io/?EIO=4&transport=websocket"})
	if err != nil {
		return nil, err
	}
	go c.ReadLoop()
	return c, c.WriteString("40")
}

func fetch(addr string) stats {
	res, err := http.Get("http://" + addr + "/stats")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	var s stats
	_ = json.NewDecoder(res.Body).Decode(&s)
	return s
}

func runServer(engineOnly bool) {
	if os.Getenv("IDLEMEM_PROFILE_RATE") != "" {
		runtime.MemProfileRate, _ = strconv.Atoi(os.Getenv("IDLEMEM_PROFILE_RATE"))
	}
	srv, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	count := func() int { return len(srv.MainNamespace().Sockets()) }
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/heap", pprof.Index)
	if engineOnly {
		eng, err := engineio.NewServer(engineio.Config{Path: "/socket.io/"})
		if err != nil {
			log.Fatal(err)
		}
		mux.Handle("/socket.io/", eng)
		count = eng.Count
	} else {
		mux.Handle("/socket.io/", srv)
	}
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(stats{
			RSS:        rss(),
			HeapInuse:  int64(ms.HeapInuse),
			StackInuse: int64(ms.StackInuse),
			Goroutines: runtime.NumGoroutine(),
			Sockets:    count(),
			GCSys:      int64(ms.GCSys),
			MSpanInuse: int64(ms.MSpanInuse),
			OtherSys:   int64(ms.OtherSys),
			HeapFree:   int64(ms.HeapIdle - ms.HeapReleased),
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	log.Fatal(http.Serve(ln, mux))
}

// rss reads the resident set size of this process from /proc.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(f), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
