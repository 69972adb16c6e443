package reliability_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
)

// recoveryEvents is the number of numbered events of a recovery run.
const recoveryEvents = 200

// recoveryServer starts a server with connection state recovery whose
// sockets can join rooms ("join", acknowledged), behind a fault proxy.
func recoveryServer(t *testing.T) (*socketio.Server, *faultProxy, *lifecycle) {
	t.Helper()
	lc := newLifecycle()
	io, url := startServer(t, socketio.Config{
		ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute},
		// A client whose connection is cut while no long-poll is pending is
		// noticed by the heartbeat: keep it short, but well above the
		// stalls below.
		Engine: engineio.Config{PingInterval: time.Second, PingTimeout: 2 * time.Second},
	}, func(s *socketio.Socket) {
		lc.watch(s)
		socketio.OnAck(s, "join", func(room string) (string, error) {
			s.Join(room)
			return "ok", nil
		})
	})
	return io, newFaultProxy(t, strings.TrimPrefix(url, "http://")), lc
}

// disruptedStream emits recoveryEvents numbered events ("n", i), to room
// "r" or to all, and a few to another room ("x"), while the proxy delays, stalls and twice cuts the connection of the
// socket id, in the middle of the stream. first returns once the client
// has event 0 (so it has an offset to recover from); back(k) returns once
// the client has seen its k-th reconnection, and checks it was a recovery.
// Each cut waits for the server to see the disconnection before the proxy
// takes connections again, and the second cut waits for the client to be
// back first (the server taking it back is not enough: the CONNECT reply
// could be lost in the cut).
func disruptedStream(t *testing.T, io *socketio.Server, p *faultProxy, lc *lifecycle, id string, first func(), back func(k int)) {
	t.Helper()
	emit := func(i int) {
		op := io.To("r") // even events to the room, odd ones to all
		if i%2 == 1 {
			op = io.MainNamespace().Except()
		}
		if err := op.Emit("n", i); err != nil {
			t.Fatalf("emit %d: %v", i, err)
		}
		if i%10 == 5 { // never for the client: replays must filter too
			_ = io.To("other").Emit("x", i)
		}
	}
	emit(0)
	first()
	for i := 1; i < recoveryEvents; i++ {
		switch i {
		case 20:
			p.setDelay(3 * time.Millisecond)
		case 30:
			p.stall(200 * time.Millisecond) // over by about event 70
		case 80:
			p.setDelay(0)
		case 90:
			p.cut()
		case 110:
			lc.waitDisconnects(t, id, 1)
			p.restore()
		case 150:
			lc.waitConnects(t, id, 2)
			back(1)
			p.cut()
		case 170:
			lc.waitDisconnects(t, id, 2)
			p.restore()
		}
		emit(i)
		time.Sleep(5 * time.Millisecond)
	}
	lc.waitConnects(t, id, 3)
	back(2)
	lc.mu.Lock()
	defer lc.mu.Unlock()
	for k, rec := range lc.connects[id] {
		if rec != (k > 0) {
			t.Fatalf("server-side connection %d of %s: recovered %v", k, id, rec)
		}
	}
}

// checkSequence fails unless got is 0..recoveryEvents-1, each once, in
// order, naming the first lost, duplicated or reordered event.
func checkSequence(t *testing.T, got []int) {
	t.Helper()
	seen := map[int]int{}
	for _, n := range got {
		seen[n]++
	}
	var lost, dup []int
	for i := range recoveryEvents {
		switch seen[i] {
		case 0:
			lost = append(lost, i)
		case 1:
		default:
			dup = append(dup, i)
		}
	}
	if len(lost) > 0 || len(dup) > 0 || len(got) != recoveryEvents {
		t.Fatalf("received %d events: lost %v, duplicated %v", len(got), lost, dup)
	}
	for i, n := range got {
		if n != i {
			t.Fatalf("event %d arrived at position %d: out of order", n, i)
		}
	}
}

var recoveryModes = []struct {
	name       string
	transports []string
}{
	{"websocket", []string{"websocket"}},
	{"polling", []string{"polling"}},
}

// With connection state recovery on, numbered events broadcast to a room
// while the official socket.io-client's connection is delayed, stalled
// and cut twice arrive exactly once and in order after it reconnects,
// every reconnection being a recovery.
func TestRecoveryOfficialClient(t *testing.T) {
	for _, m := range recoveryModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			io, p, lc := recoveryServer(t)
			d := driver(t, p.url())
			d.Send(map[string]any{"cmd": "connect", "c": "a", "transports": m.transports,
				"reconnection": true, "reconnectionDelay": 100, "randomizationFactor": 0})
			id := d.ExpectEv("connect", "a").Str("id")
			d.Send(map[string]any{"cmd": "emit", "c": "a", "event": "join", "args": []any{"r"}, "ack": true, "seq": 1})
			d.ExpectEv("ack", "a")

			var got []int
			next := func(timeout time.Duration) (int, bool) {
				ev := d.Expect(timeout, "event n", func(e testutil.Event) bool {
					return e.Name() == "event" && e.Str("c") == "a" && e.Str("name") == "n"
				})
				args, _ := ev["args"].([]any)
				if len(args) == 0 {
					t.Fatalf("event n without arguments: %v", ev)
				}
				f, ok := args[0].(float64)
				return int(f), ok
			}
			disruptedStream(t, io, p, lc, id, func() {
				n, _ := next(10 * time.Second)
				got = append(got, n)
			}, func(k int) {
				if ev := d.ExpectEv("connect", "a"); ev["recovered"] != true || ev.Str("id") != id {
					t.Fatalf("reconnection %d: %v, want a recovery of %s", k, ev, id)
				}
			})
			for len(got) < recoveryEvents {
				n, _ := next(15 * time.Second)
				got = append(got, n)
			}
			d.ExpectNone(300*time.Millisecond, "a duplicate or an event of another room", func(e testutil.Event) bool {
				return e.Name() == "event" && (e.Str("name") == "n" || e.Str("name") == "x")
			})
			checkSequence(t, got)
			t.Logf("%d events, 2 cuts, a stall and a delay: none lost, none duplicated; proxy accepted %d connections",
				len(got), p.accepted.Load())
		})
	}
}

// The same with the Go client, over WebSocket and over polling: its
// reconnection (Options.ReconnectionDelay...) brings it back, and every
// reconnection recovers the session.
func TestRecoveryGoClient(t *testing.T) {
	for _, m := range recoveryModes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			io, p, lc := recoveryServer(t)
			s, err := client.New(p.url(), &client.Options{
				Transports:           m.transports,
				ReconnectionDelay:    100 * time.Millisecond,
				ReconnectionDelayMax: 500 * time.Millisecond,
				RandomizationFactor:  -1,
				Timeout:              5 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var mu sync.Mutex
			var got []int
			var recovered []bool
			arrived := make(chan struct{}, 1)
			s.On("n", func(e *client.Event) {
				var n int
				if err := e.Bind(&n); err != nil {
					t.Errorf("event n: %v", err)
				}
				mu.Lock()
				got = append(got, n)
				mu.Unlock()
				select {
				case arrived <- struct{}{}:
				default:
				}
			})
			var others int
			s.On("x", func(*client.Event) {
				mu.Lock()
				others++
				mu.Unlock()
			})
			s.OnConnect(func() {
				mu.Lock()
				recovered = append(recovered, s.Recovered())
				mu.Unlock()
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.EmitWithAck(ctx, "join", "r"); err != nil {
				t.Fatal(err)
			}
			// waitFor waits until n events arrived or d passed.
			waitFor := func(n int, d time.Duration) {
				deadline := time.After(d)
				for {
					mu.Lock()
					k := len(got)
					mu.Unlock()
					if k >= n {
						return
					}
					select {
					case <-arrived:
					case <-time.After(20 * time.Millisecond):
					case <-deadline:
						return
					}
				}
			}
			back := func(k int) {
				for deadline := time.Now().Add(15 * time.Second); ; {
					mu.Lock()
					n := len(recovered)
					ok := n > k && recovered[k]
					mu.Unlock()
					if n > k {
						if !ok {
							t.Fatalf("reconnection %d was not a recovery", k)
						}
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("reconnection %d not seen by the client", k)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			disruptedStream(t, io, p, lc, s.ID(), func() { waitFor(1, 10*time.Second) }, back)
			waitFor(recoveryEvents, 15*time.Second) // checkSequence names what is missing
			time.Sleep(300 * time.Millisecond)      // room for a duplicate to show
			mu.Lock()
			defer mu.Unlock()
			checkSequence(t, got)
			if others > 0 {
				t.Fatalf("the client got %d events of a room it is not in", others)
			}
			if want := []bool{false, true, true}; fmt.Sprint(recovered) != fmt.Sprint(want) {
				t.Fatalf("connections recovered %v, want %v", recovered, want)
			}
			t.Logf("%d events, 2 cuts, a stall and a delay: none lost, none duplicated; proxy accepted %d connections",
				len(got), p.accepted.Load())
		})
	}
}
