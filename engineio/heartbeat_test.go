package engineio

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// The shared heartbeat timer fires each session at its own deadline, in
// deadline order; a reset moves a deadline (earlier or later), a stop
// removes it.
func TestHeartbeatsOrderResetStop(t *testing.T) {
	var mu sync.Mutex
	var fired []string
	done := make(chan struct{}, 8)
	hb := &heartbeats{run: func(c *Conn) {
		mu.Lock()
		fired = append(fired, c.id)
		mu.Unlock()
		done <- struct{}{}
	}}
	conn := func(id string) *Conn { return &Conn{id: id, hbIdx: -1} }
	a, b, c, d, e := conn("a"), conn("b"), conn("c"), conn("d"), conn("e")
	const u = 40 * time.Millisecond
	hb.reset(a, 3*u)
	hb.reset(b, 1*u)
	hb.reset(c, 5*u)
	hb.reset(d, 2*u)
	hb.reset(e, 4*u)
	hb.stop(d)       // never fires
	hb.reset(c, u/2) // moved earlier: first
	hb.reset(b, 6*u) // moved later: last
	hb.stop(d)       // a second stop is harmless
	for range 4 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("fired %v, want 4", fired)
		}
	}
	time.Sleep(3 * u) // d must not fire
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"c", "a", "e", "b"}; !slices.Equal(fired, want) {
		t.Fatalf("fired %v, want %v", fired, want)
	}
	if len(hb.conns) != 0 || a.hbIdx != -1 || d.hbIdx != -1 {
		t.Fatalf("heap left with %d sessions", len(hb.conns))
	}
}
