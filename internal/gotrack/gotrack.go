// Package gotrack counts the goroutines a server starts, so that its
// Shutdown can wait for them.
package gotrack

import "sync"

// Tracker counts the goroutines a Server starts so that Shutdown and Close
// can wait for them. Unlike a sync.WaitGroup it may gain goroutines while
// someone waits.
type Tracker struct {
	mu   sync.Mutex
	n    int
	idle *sync.Cond
}

// Go runs f in a new goroutine counted by the tracker.
func (t *Tracker) Go(f func()) {
	t.mu.Lock()
	t.n++
	t.mu.Unlock()
	go func() {
		defer t.done()
		f()
	}()
}

func (t *Tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 && t.idle != nil {
		t.idle.Broadcast()
	}
	t.mu.Unlock()
}

// Wait blocks until no tracked goroutine runs.
func (t *Tracker) Wait() {
	t.mu.Lock()
	if t.idle == nil {
		t.idle = sync.NewCond(&t.mu)
	}
	for t.n > 0 {
		t.idle.Wait()
	}
	t.mu.Unlock()
}
