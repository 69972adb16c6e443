// Package gotrack gives every goroutine of a server or client an owner:
// a Tracker counts them so that Shutdown and Close can wait for them, and a
// Serial runs tasks one at a time on a goroutine that exists only while
// there is work.
package gotrack

import "sync"

// Tracker counts goroutines. Unlike a sync.WaitGroup it accepts new members
// while someone waits, and once closed and idle it refuses them.
type Tracker struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   *sync.Cond
	idleCh chan struct{} // closed at the next idle moment; see Idle
}

// Go runs f on a new goroutine counted by the tracker. It reports false,
// and does not run f, once the tracker is closed and idle.
func (t *Tracker) Go(f func()) bool {
	if !t.add() {
		return false
	}
	go func() {
		defer t.done()
		f()
	}()
	return true
}

// Run runs f on the calling goroutine (a timer's, say), counted by the
// tracker, unless it is closed and idle.
func (t *Tracker) Run(f func()) {
	if !t.add() {
		return
	}
	defer t.done()
	f()
}

func (t *Tracker) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed && t.n == 0 {
		return false
	}
	t.n++
	return true
}

func (t *Tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		if t.idle != nil {
			t.idle.Broadcast()
		}
		if t.idleCh != nil {
			close(t.idleCh)
			t.idleCh = nil
		}
	}
	t.mu.Unlock()
}

// Idle returns a channel closed once no tracked goroutine runs (at once if
// none does). Unlike Wait, it lets a caller stop waiting without leaving a
// goroutine behind.
func (t *Tracker) Idle() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if t.idleCh == nil {
		t.idleCh = make(chan struct{})
	}
	return t.idleCh
}

// Wait blocks until no tracked goroutine runs.
func (t *Tracker) Wait() { t.wait(false) }

// Close marks the tracker closed and waits like Wait; after that, Go and
// Run do nothing.
func (t *Tracker) Close() { t.wait(true) }

func (t *Tracker) wait(close bool) {
	t.mu.Lock()
	if close {
		t.closed = true
	}
	if t.idle == nil {
		t.idle = sync.NewCond(&t.mu)
	}
	for t.n > 0 {
		t.idle.Wait()
	}
	t.mu.Unlock()
}

// Serial runs tasks one at a time, in order, on a goroutine of its Tracker
// that exists only while there are tasks. No lock is held while a task
// runs. Set T before use.
type Serial struct {
	T       *Tracker
	mu      sync.Mutex
	tasks   []func()
	running bool
}

// Push queues a task.
func (s *Serial) Push(task func()) {
	s.mu.Lock()
	s.tasks = append(s.tasks, task)
	if !s.running {
		s.running = true
		if !s.T.Go(s.loop) {
			s.running = false
			s.tasks = nil
		}
	}
	s.mu.Unlock()
}

// Busy reports whether a task is running or queued.
func (s *Serial) Busy() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running
}

// Len returns the number of queued tasks (the running one excluded).
func (s *Serial) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks)
}

// Drop discards the queued tasks; the running one finishes.
func (s *Serial) Drop() {
	s.mu.Lock()
	s.tasks = nil
	s.mu.Unlock()
}

func (s *Serial) loop() {
	for {
		s.mu.Lock()
		if len(s.tasks) == 0 {
			s.running = false
			s.tasks = nil
			s.mu.Unlock()
			return
		}
		task := s.tasks[0]
		s.tasks[0] = nil
		s.tasks = s.tasks[1:]
		s.mu.Unlock()
		task()
	}
}
