package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
)

const (
	churnCycles  = 10_000
	churnBudget  = 35 * time.Second // stop earlier when the machine is slow
	churnWorkers = 16
	churnRooms   = 50
)

func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting open files: %v", err)
	}
	return len(fds)
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle empties the sync.Pools
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rawCycle is one connection's life over a lean WebSocket client: open,
// CONNECT, join a room with an acknowledged event, check a broadcast to
// that room arrives, then leave one of three ways: a namespace DISCONNECT,
// an abrupt TCP close, or a disconnection by the server.
func rawCycle(url string, k int) error {
	c, err := dialRaw(url, nil)
	if err != nil {
		return err
	}
	defer c.close()
	if err := c.send("40"); err != nil {
		return err
	}
	hello, err := c.expectPrefix("40{", 10*time.Second)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	var reply struct{ SID string }
	if err := json.Unmarshal([]byte(hello[2:]), &reply); err != nil || reply.SID == "" {
		return fmt.Errorf("connect reply %q: %v", hello, err)
	}
	// Other sockets of the room shout too: their broadcasts are skipped,
	// ours is counted.
	own := 0
	until := func(prefix string) error {
		for {
			m, err := c.expectPrefix("", 10*time.Second)
			if err != nil {
				return err
			}
			if strings.HasPrefix(m, prefix) {
				return nil
			}
			if m == `42["shout","`+reply.SID+`"]` {
				own++
			} else if !strings.HasPrefix(m, `42["shout",`) {
				return fmt.Errorf("got %q, want %q", m, prefix)
			}
		}
	}
	room := "room-" + strconv.Itoa(k%churnRooms)
	if err := c.send(`421["join","` + room + `"]`); err != nil {
		return err
	}
	if err := until(`431["` + room + `"]`); err != nil {
		return fmt.Errorf("join ack: %w", err)
	}
	if err := c.send(`422["shout","` + room + `"]`); err != nil {
		return err
	}
	// The broadcast to the room reaches this socket before the ack (the
	// handler emits, then returns).
	if err := until(`432[true]`); err != nil {
		return fmt.Errorf("shout ack: %w", err)
	}
	if own != 1 {
		return fmt.Errorf("our own room broadcast arrived %d times before the ack", own)
	}
	switch k % 3 {
	case 0:
		return c.send("41")
	case 1:
		return nil // abrupt close
	default:
		if err := c.send(`42["bye"]`); err != nil {
			return err
		}
		if !c.waitClosed(10 * time.Second) {
			return fmt.Errorf("the server did not close the connection")
		}
		return nil
	}
}

// goCycle is one life of a Go client over polling: connect, join with an
// ack, close.
func goCycle(url string, k int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, url, &client.Options{Transports: []string{client.Polling}, NoReconnection: true})
	if err != nil {
		return err
	}
	defer s.Close()
	room := "room-" + strconv.Itoa(k%churnRooms)
	res, err := s.EmitWithAck(ctx, "join", room)
	if err != nil {
		return err
	}
	var got string
	if err := res.Bind(&got); err != nil || got != room {
		return fmt.Errorf("join ack %q %v", got, err)
	}
	return nil
}

// Connections come and go by the thousand (up to 10,000 cycles, in
// parallel, within a time budget), joining rooms, using acks and room
// broadcasts, and leaving every way there is; afterwards the server holds
// no socket, no Engine.IO connection and no room, and goroutines, heap and
// open files are back to their baseline.
func TestChurn(t *testing.T) {
	var connected, disconnected atomic.Int64
	io, url := startServer(t, socketio.Config{}, func(s *socketio.Socket) {
		connected.Add(1)
		s.OnDisconnect(func(string) { disconnected.Add(1) })
		socketio.OnAck(s, "join", func(room string) (string, error) {
			s.Join(room)
			return room, nil
		})
		socketio.OnAck(s, "shout", func(room string) (bool, error) {
			return true, s.Namespace().To(room).Emit("shout", s.ID())
		})
		s.On("bye", func(*socketio.Event) { s.Disconnect(true) })
	})

	// Warm up (pools, first allocations, the HTTP server's goroutines),
	// then take the baseline.
	for k := range 30 {
		if err := rawCycle(url, k); err != nil {
			t.Fatalf("warm-up: %v", err)
		}
	}
	if err := goCycle(url, 0); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	waitIdle(t, io)
	baseG, baseFD, baseHeap := runtime.NumGoroutine(), openFiles(t), heapAfterGC()

	start := time.Now()
	deadline := start.Add(churnBudget)
	var next, done, failed atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range churnWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				k := int(next.Add(1)) - 1
				if k >= churnCycles {
					return
				}
				var err error
				if k%20 == 19 {
					err = goCycle(url, k)
				} else {
					err = rawCycle(url, k)
				}
				done.Add(1)
				if err != nil {
					failed.Add(1)
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("cycle %d: %w", k, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	n := done.Load()
	t.Logf("%d connect/disconnect cycles in %v (%.0f/s, %d workers), %d failed", n, elapsed.Round(time.Millisecond),
		float64(n)/elapsed.Seconds(), churnWorkers, failed.Load())
	if failed.Load() > 0 {
		t.Fatalf("%d cycles failed; first: %v", failed.Load(), firstErr)
	}
	if n < 2000 {
		t.Fatalf("only %d cycles in %v: too few to say anything about leaks", n, churnBudget)
	}

	waitIdle(t, io)
	// A socket leaves its namespace at once when it closes; its disconnect
	// handlers run after that, on its handlers' goroutine: give the last
	// ones the time to run.
	for wait := time.Now().Add(10 * time.Second); ; {
		c, d := connected.Load(), disconnected.Load()
		if c == d {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("%d connections, %d disconnect handlers run", c, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Goroutines and files go back to the baseline (a few may belong to
	// the HTTP server's idle keep-alive connections of the Go clients).
	var g, fd int
	for wait := time.Now().Add(10 * time.Second); ; {
		g, fd = runtime.NumGoroutine(), openFiles(t)
		if g <= baseG+3 && fd <= baseFD+3 {
			break
		}
		if time.Now().After(wait) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("after churn: %d goroutines (baseline %d), %d open files (baseline %d)\n%s", g, baseG, fd, baseFD, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
	heap := heapAfterGC()
	const heapSlack = 4 << 20
	t.Logf("goroutines %d -> %d, open files %d -> %d, heap %.1f MiB -> %.1f MiB", baseG, g, baseFD, fd,
		float64(baseHeap)/(1<<20), float64(heap)/(1<<20))
	if heap > baseHeap+heapSlack {
		t.Fatalf("heap %d bytes after %d cycles, baseline %d: more than %d above", heap, n, baseHeap, heapSlack)
	}
}

// waitIdle waits until the server holds no socket, no Engine.IO
// connection and no room.
func waitIdle(t *testing.T, io *socketio.Server) {
	t.Helper()
	for wait := time.Now().Add(10 * time.Second); ; {
		socks, conns := len(io.MainNamespace().Sockets()), io.Engine().Count()
		rooms := io.MainNamespace().Adapter().Rooms()
		if socks == 0 && conns == 0 && len(rooms) == 0 {
			return
		}
		if time.Now().After(wait) {
			t.Fatalf("server not idle: %d sockets, %d engine connections, %d rooms", socks, conns, len(rooms))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
