package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// fleet is a set of lean WebSocket clients connected to one server, each
// with a reader goroutine.
type fleet struct {
	d    *dialer
	addr string
	mu   sync.Mutex
	cs   []*wsConn
	wg   sync.WaitGroup
}

func newFleet(d *dialer, addr string) *fleet { return &fleet{d: d, addr: addr} }

func (f *fleet) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cs)
}

// grow connects clients until there are n, conc at a time. handler(i, c)
// returns the message handler of client i on connection c (nil handler:
// ignore messages).
func (f *fleet) grow(ctx context.Context, n, conc int, handler func(i int, c *wsConn) func(p []byte)) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	start := f.len()
	var next atomic.Int64
	next.Store(int64(start))
	errs := make(chan error, conc)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, err := connectSIO(ctx, f.d, f.addr)
				if err != nil {
					// One retry: a loaded server may drop an accept.
					c, err = connectSIO(ctx, f.d, f.addr)
				}
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", i, err)
					cancel()
					return
				}
				var fn func([]byte)
				if handler != nil {
					fn = handler(i, c)
				}
				f.mu.Lock()
				f.cs = append(f.cs, c)
				f.mu.Unlock()
				f.wg.Go(func() { c.loop(fn) })
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return ctx.Err()
}

// close closes every client and waits for the readers.
func (f *fleet) close() {
	f.mu.Lock()
	for _, c := range f.cs {
		c.close()
	}
	f.cs = nil
	f.mu.Unlock()
	f.wg.Wait()
}

// waitSockets waits until the server counts at least n sockets.
func waitSockets(s *server, n int, timeout time.Duration) (appStats, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := s.stats()
		if err == nil && st.Sockets >= n {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%s server: %d sockets, want %d (%v)", s.name, st.Sockets, n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
