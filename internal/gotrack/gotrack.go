// Package gotrack gives every goroutine of a server or client an owner:
// a Tracker counts them so that Shutdown and Close can wait for them, and a
// Serial runs tasks one at a time on a goroutine that exists only while
// there is work.
package gotrack

import (
	"sync"
	"time"
)

// Tracker counts goroutines. Unlike a sync.WaitGroup it accepts new members
// while someone waits, and once closed and idle it refuses them.
//
// Its goroutines are reused: one that has run its function waits up to
// WorkerIdle for the next before it exits. A fresh goroutine starts with a
// small stack, which the server's read and handler paths grow (and the
// runtime copies) every time: in an echo benchmark that copying took about
// a sixth of the CPU. A waiting goroutine counts as idle for Wait and Idle,
// and Wait and Close make the waiting ones exit.
type Tracker struct {
	mu      sync.Mutex
	n       int // functions running
	closed  bool
	idle    *sync.Cond
	idleCh  chan struct{} // closed at the next idle moment; see Idle
	workers int           // goroutines alive, running or waiting
	free    []*worker     // waiting goroutines, the latest last
	waiting int           // Wait or Close calls in progress
	// The waiting goroutines are retired by one timer rather than each
	// by its own (a timer reset and a select per function run): every
	// WorkerIdle, those that have waited since before the previous tick
	// exit. gen counts the ticks; sweeping says the timer is set.
	sweeper  *time.Timer
	gen      uint32
	sweeping bool
}

// WorkerIdle is how long a goroutine of a Tracker waits for more work
// before it exits: between one and two WorkerIdle.
const WorkerIdle = 200 * time.Millisecond

type worker struct {
	next chan task // the next function, or none: exit
	gen  uint32    // the tracker's gen when it began to wait
}

// task is a function for a worker: f, or then (see GoThen).
type task struct {
	f    func()
	then Then
}

func (k task) none() bool { return k.f == nil && k.then == nil }

// Go runs f on a goroutine counted by the tracker: a waiting one, or a new
// one. It reports false, and does not run f, once the tracker is closed and
// idle.
func (t *Tracker) Go(f func()) bool { return t.goTask(task{f: f}) }

// GoThen is Go for work that may return a function, which the same
// goroutine runs next without the tracker counting it: Wait and Close do
// not wait for it (it may be counted by a tracker of its own, with Run).
// A reader whose handlers belong to another component uses it: the read
// is the tracker's, the handlers are not.
func (t *Tracker) GoThen(w Then) bool { return t.goTask(task{then: w}) }

// Then is work for GoThen. RunThen does the tracker's part and returns
// what runs next (nil for nothing). A pointer type implementing it is
// handed to GoThen without an allocation, unlike a method value.
type Then interface{ RunThen() func() }

// ThenFunc makes a function a Then.
type ThenFunc func() func()

// RunThen calls f.
func (f ThenFunc) RunThen() func() { return f() }

func (t *Tracker) goTask(f task) bool {
	t.mu.Lock()
	if t.closed && t.n == 0 {
		t.mu.Unlock()
		return false
	}
	t.n++
	if k := len(t.free); k > 0 {
		w := t.free[k-1]
		t.free[k-1] = nil
		t.free = t.free[:k-1]
		t.mu.Unlock()
		w.next <- f // buffered: never blocks
		return true
	}
	t.workers++
	t.mu.Unlock()
	go t.work(f)
	return true
}

// work runs f, then each function handed to it, until it has waited
// WorkerIdle for one, or the tracker is waited for.
func (t *Tracker) work(f task) {
	var w *worker
	for {
		var next func()
		if f.then != nil {
			next = f.then.RunThen()
		} else {
			f.f()
		}
		t.done()
		if next != nil {
			// Not the tracker's while next runs.
			t.mu.Lock()
			t.exitLocked()
			t.mu.Unlock()
			next()
			t.mu.Lock()
			if t.waiting > 0 || t.closed {
				t.mu.Unlock()
				return
			}
			t.workers++
			t.mu.Unlock()
		}
		t.mu.Lock()
		if t.waiting > 0 || t.closed {
			t.exitLocked()
			t.mu.Unlock()
			return
		}
		if w == nil {
			w = &worker{next: make(chan task, 1)}
		}
		w.gen = t.gen
		t.free = append(t.free, w)
		if !t.sweeping {
			t.sweeping = true
			if t.sweeper == nil {
				t.sweeper = time.AfterFunc(WorkerIdle, t.sweep)
			} else {
				t.sweeper.Reset(WorkerIdle)
			}
		}
		t.mu.Unlock()
		// Whoever takes w out of free sends it one task: a function
		// (Go), or none (sweep, Wait, Close, Release).
		f = <-w.next
		if f.none() {
			t.mu.Lock()
			t.exitLocked()
			t.mu.Unlock()
			return
		}
	}
}

// exitLocked accounts for a goroutine that exits.
func (t *Tracker) exitLocked() {
	t.workers--
	if t.workers == 0 && t.idle != nil {
		t.idle.Broadcast()
	}
}

// sweep is the tick of the waiting goroutines' timer: those that began to
// wait before the previous tick have waited at least WorkerIdle and exit.
func (t *Tracker) sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	// free is in the order the goroutines began to wait: the ones to
	// retire are at its front.
	k := 0
	for k < len(t.free) && t.gen-t.free[k].gen >= 2 {
		t.free[k].next <- task{}
		k++
	}
	n := copy(t.free, t.free[k:])
	clear(t.free[n:])
	t.free = t.free[:n]
	if len(t.free) > 0 {
		t.sweeper.Reset(WorkerIdle)
	} else {
		t.sweeping = false
	}
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

// Release makes the goroutines waiting for work exit now (they would after
// WorkerIdle); it does not wait for them.
func (t *Tracker) Release() {
	t.mu.Lock()
	t.releaseLocked()
	t.mu.Unlock()
}

func (t *Tracker) releaseLocked() {
	for i, w := range t.free {
		w.next <- task{}
		t.free[i] = nil
	}
	t.free = t.free[:0]
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

// Wait blocks until no tracked goroutine runs, and the ones waiting for
// work have exited.
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
	t.waiting++
	for {
		t.releaseLocked()
		if t.n == 0 && t.workers == 0 {
			break
		}
		t.idle.Wait()
	}
	t.waiting--
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
	counted func() // the loop, counted by T (PushVia); made once
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

// A Reader is a goroutine that may take a Serial's loop on it (see
// PushVia): engineio.Conn's RunAfterDelivery, the read pass that delivered
// the task's message.
type Reader interface {
	RunAfterDelivery(run func()) bool
}

// PushVia queues a task like Push, but when no goroutine runs the tasks
// it first offers their loop to r, which reports whether it takes it:
// whether it will call the function it was given soon (a reader running
// the handlers of what it read, instead of waking another goroutine). The
// loop it is given counts itself in the Serial's Tracker, as Push's
// goroutine would be counted. If r refuses, a goroutine is started as by
// Push.
func (s *Serial) PushVia(task func(), r Reader) {
	s.mu.Lock()
	s.tasks = append(s.tasks, task)
	if s.running {
		s.mu.Unlock()
		return
	}
	s.running = true
	if s.counted == nil {
		s.counted = func() { s.T.Run(s.loop) }
	}
	counted := s.counted
	s.mu.Unlock()
	if r.RunAfterDelivery(counted) {
		return
	}
	if !s.T.Go(s.loop) {
		s.mu.Lock()
		s.running = false
		s.tasks = nil
		s.mu.Unlock()
	}
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
			if cap(s.tasks) > 1 {
				s.tasks = nil // a burst's array goes
			}
			s.mu.Unlock()
			return
		}
		task := s.tasks[0]
		s.tasks[0] = nil
		if len(s.tasks) == 1 {
			// Keep what is left of the array: the next task, often
			// alone, then needs no allocation (an idle Serial keeps
			// at most one slot).
			s.tasks = s.tasks[:0]
		} else {
			s.tasks = s.tasks[1:]
		}
		s.mu.Unlock()
		task()
	}
}
