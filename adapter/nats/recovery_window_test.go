package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// A broadcaster on server A emits n numbered events to a room at a steady
// rate while clients of the room drop again and again and recover, each
// time on the other server (through JetStream). Every client must get
// every number exactly once and in order, and every reconnection must be
// a recovery: a broadcast published while a session is restored (between
// reading the missed events and joining the rooms, in the old order) is
// neither missed nor lost, nor twice.
func TestRecoveryUnderSteadyBroadcast(t *testing.T) {
	const (
		n       = 1500
		every   = 2 * time.Millisecond
		clients = 4
	)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cluster := "steady-" + hex.EncodeToString(b)
	a, bs := startRecoveryServer(t, cluster), startRecoveryServer(t, cluster)
	servers := []*recoveryServer{a, bs}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		nsp, err := bs.io.Of("/")
		if err != nil {
			t.Fatal(err)
		}
		if k, _ := nsp.Adapter().ServerCount(ctx); k == 2 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("the servers never counted each other")
		}
		time.Sleep(20 * time.Millisecond)
	}

	type peer struct {
		name    string
		px      *switchProxy
		s       *client.Socket
		mu      sync.Mutex
		got     []int
		bad     []string // events that were not a number and an offset
		connect []bool   // Recovered() at each connection
		on      int      // index in servers of the server it is on
		gone    chan struct{}
	}
	peers := make([]*peer, clients)
	for i := range peers {
		transports := []string{"websocket"}
		if i == clients-1 {
			transports = []string{"polling"}
		}
		p := &peer{name: fmt.Sprintf("client %d (%s)", i, transports[0]), on: i % 2, gone: make(chan struct{}, 1)}
		p.px = newSwitchProxy(t, servers[p.on].addr)
		s, err := client.New("http://"+p.px.ln.Addr().String(), &client.Options{
			Transports: transports, Timeout: 5 * time.Second,
			ReconnectionDelay: 20 * time.Millisecond, ReconnectionDelayMax: 50 * time.Millisecond, RandomizationFactor: -1,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		p.s = s
		s.On("n", func(e *client.Event) {
			var k int
			var offset string
			err := e.Bind(&k, &offset)
			p.mu.Lock()
			defer p.mu.Unlock()
			if err != nil || offset == "" {
				p.bad = append(p.bad, fmt.Sprintf("%v (%v)", e.Args(), err))
				return
			}
			p.got = append(p.got, k)
		})
		s.OnConnect(func() {
			p.mu.Lock()
			p.connect = append(p.connect, s.Recovered())
			p.mu.Unlock()
		})
		if err := s.Connect(ctx); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		peers[i] = p
	}
	// Every client is in the room on both servers' view before the first
	// number (a fresh session would start later).
	for {
		nsp, _ := a.io.Of("/")
		ids, err := nsp.In("news").FetchSockets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == clients {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d sockets in the room, want %d", len(ids), clients)
		}
		time.Sleep(20 * time.Millisecond)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // the broadcaster
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := range n {
			if err := a.io.To("news").Emit("n", i); err != nil {
				t.Errorf("emit %d: %v", i, err)
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	})
	drops := make([]int, clients)
	for i, p := range peers {
		wg.Go(func() { // drops p, again and again, and sends it to the other server
			for k := 0; ; k++ {
				select {
				case <-done:
					return
				case <-time.After(time.Duration(60+37*i+13*(k%5)) * time.Millisecond):
				}
				id := p.s.ID()
				if id == "" || !p.s.Connected() {
					continue // still reconnecting
				}
				from := servers[p.on]
				from.gone.Store(id, p.gone)
				p.px.cut()
				select {
				case <-p.gone: // its session is stored
				case <-ctx.Done():
					t.Errorf("%s: server %d never saw it go", p.name, p.on)
					return
				}
				from.gone.Delete(id)
				p.on = 1 - p.on
				p.px.to(servers[p.on].addr)
				drops[i]++
			}
		})
	}
	wg.Wait()

	for _, p := range peers {
		deadline := time.Now().Add(5 * time.Second)
		for {
			p.mu.Lock()
			k := len(p.got)
			last := -1
			if k > 0 {
				last = p.got[k-1]
			}
			p.mu.Unlock()
			if last == n-1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for i, p := range peers {
		p.mu.Lock()
		got, connects, bad := p.got, p.connect, p.bad
		p.mu.Unlock()
		t.Logf("%s: %d drops, %d connections, %d events", p.name, drops[i], len(connects), len(got))
		if drops[i] < 3 {
			t.Errorf("%s dropped %d times only", p.name, drops[i])
		}
		for j, r := range connects {
			if j > 0 && !r {
				t.Errorf("%s: reconnection %d was not a recovery", p.name, j)
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s: %v", p.name, bad)
		}
		if err := checkSequence(got, n); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
	}
}

// checkSequence reports how got differs from 0, 1, ..., n-1.
func checkSequence(got []int, n int) error {
	seen := make(map[int]int, len(got))
	var missing, dups []int
	var disorder []string
	for i, k := range got {
		seen[k]++
		if seen[k] == 2 {
			dups = append(dups, k)
		}
		if i > 0 && k <= got[i-1] && len(disorder) < 5 {
			disorder = append(disorder, fmt.Sprintf("%d after %d", k, got[i-1]))
		}
	}
	for k := range n {
		if seen[k] == 0 {
			missing = append(missing, k)
		}
	}
	if len(missing) == 0 && len(dups) == 0 && len(disorder) == 0 && len(got) == n {
		return nil
	}
	trim := func(s []int) []int { return s[:min(len(s), 20)] }
	return fmt.Errorf("%d events for %d numbers: %d missing %v, %d twice %v, out of order %v",
		len(got), n, len(missing), trim(missing), len(dups), trim(dups), disorder)
}
