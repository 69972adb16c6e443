package gotrack

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSerialOrderAndTracker(t *testing.T) {
	var tr Tracker
	s := Serial{T: &tr}
	var got []int
	release, started := make(chan struct{}), make(chan struct{})
	s.Push(func() { close(started); <-release })
	<-started // the first task runs; the next ones queue
	for i := range 100 {
		s.Push(func() { got = append(got, i) })
	}
	if s.Len() != 100 {
		t.Fatalf("Len %d", s.Len())
	}
	close(release)
	tr.Wait()
	for i, v := range got {
		if v != i {
			t.Fatalf("task %d ran as %d", i, v)
		}
	}
	if len(got) != 100 {
		t.Fatalf("%d tasks ran", len(got))
	}

	var ran atomic.Int32
	block := make(chan struct{})
	s.Push(func() { <-block })
	s.Push(func() { ran.Add(1) })
	s.Drop()
	close(block)
	tr.Wait()
	if ran.Load() != 0 {
		t.Fatal("a dropped task ran")
	}

	tr.Close()
	if tr.Go(func() {}) {
		t.Fatal("Go after Close")
	}
	done := make(chan struct{})
	go func() { tr.Run(func() { t.Error("Run after Close") }); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run blocked")
	}
}

func TestIdleAndBusy(t *testing.T) {
	var tr Tracker
	select {
	case <-tr.Idle():
	default:
		t.Fatal("an empty tracker is not idle")
	}
	s := Serial{T: &tr}
	release := make(chan struct{})
	s.Push(func() { <-release })
	if !s.Busy() {
		t.Fatal("not busy while a task runs")
	}
	idle := tr.Idle()
	select {
	case <-idle:
		t.Fatal("idle while a task runs")
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Fatal("not idle after the task")
	}
	if s.Busy() {
		t.Fatal("busy after the task")
	}
}

// goid returns the calling goroutine's id, from its stack header.
func goid() string {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	f := strings.Fields(string(b[:n]))
	return f[1]
}

// A goroutine that has run its function takes the next one (its stack
// already grown); Idle fires while it waits; it exits after WorkerIdle, or
// at once when the tracker is waited for.
func TestTrackerReusesGoroutines(t *testing.T) {
	var tr Tracker
	ids := make(chan string, 2)
	tr.Go(func() { ids <- goid() })
	first := <-ids
	<-tr.Idle() // the first function has returned
	time.Sleep(10 * time.Millisecond)
	tr.Go(func() { ids <- goid() })
	if second := <-ids; second != first {
		t.Fatalf("second function ran on goroutine %s, not on %s", second, first)
	}

	// Left alone, the goroutine exits after WorkerIdle.
	<-tr.Idle()
	start := time.Now()
	for {
		tr.mu.Lock()
		w, free := tr.workers, len(tr.free)
		tr.mu.Unlock()
		if w == 0 && free == 0 {
			break
		}
		if time.Since(start) > WorkerIdle+5*time.Second {
			t.Fatalf("%d workers, %d free: the idle one did not exit", w, free)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if time.Since(start) < WorkerIdle/2 {
		t.Fatalf("the idle goroutine exited after %v, before WorkerIdle", time.Since(start))
	}

	// Many at once, then Wait: every goroutine has exited when it returns.
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		tr.Go(func() { wg.Done(); time.Sleep(time.Millisecond) })
	}
	wg.Wait()
	tr.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.workers != 0 || tr.n != 0 || len(tr.free) != 0 {
		t.Fatalf("after Wait: %d workers, %d running, %d free", tr.workers, tr.n, len(tr.free))
	}
}

// Release makes the waiting goroutines exit without waiting for them.
func TestTrackerRelease(t *testing.T) {
	var tr Tracker
	for range 5 {
		tr.Go(func() {})
	}
	<-tr.Idle()
	tr.Release()
	deadline := time.Now().Add(WorkerIdle / 2)
	for {
		tr.mu.Lock()
		w := tr.workers
		tr.mu.Unlock()
		if w == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d workers still alive after Release", w)
		}
		time.Sleep(time.Millisecond)
	}
}

// GoThen: the tracker waits for the function, not for what it returns,
// which runs next on the same goroutine; that goroutine then serves the
// tracker again.
func TestTrackerGoThen(t *testing.T) {
	var tr Tracker
	release := make(chan struct{})
	ran := make(chan string, 2)
	tr.GoThen(ThenFunc(func() func() {
		ran <- "first"
		return func() { <-release; ran <- "then" }
	}))
	if got := <-ran; got != "first" {
		t.Fatalf("ran %q", got)
	}
	waited := make(chan struct{})
	go func() { tr.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		t.Fatal("Wait waited for the function GoThen's returned")
	}
	close(release)
	if got := <-ran; got != "then" {
		t.Fatalf("ran %q", got)
	}
	// A GoThen whose function returns nil is a Go.
	done := make(chan struct{})
	tr.GoThen(ThenFunc(func() func() { close(done); return nil }))
	<-done
	tr.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.workers != 0 || tr.n != 0 {
		t.Fatalf("after Wait: %d workers, %d running", tr.workers, tr.n)
	}
}

// PushVia: when no goroutine runs the tasks, the reader is offered their
// loop; if it takes it, the tasks run where it calls the loop (counted by
// the tracker), with tasks pushed meanwhile after them, in order; if it
// refuses, a goroutine runs them.
func TestSerialPushVia(t *testing.T) {
	for _, take := range []bool{true, false} {
		var tr Tracker
		s := Serial{T: &tr}
		var order []int
		var mu sync.Mutex
		add := func(i int) func() { return func() { mu.Lock(); order = append(order, i); mu.Unlock() } }
		r := &fakeReader{take: take}
		gate := make(chan struct{}) // the first task waits until the others are queued
		s.PushVia(func() { <-gate; add(1)() }, r)
		s.PushVia(add(2), r) // a loop is claimed: queued, not offered
		s.Push(add(3))
		close(gate)
		if r.offered != 1 {
			t.Fatalf("take=%v: offered %d times, want 1", take, r.offered)
		}
		if take {
			if !s.Busy() {
				t.Fatal("the tasks' loop was taken but the Serial is not busy")
			}
			ran := make(chan struct{})
			go func() { r.loop(); close(ran) }()
			<-ran
		}
		tr.Wait()
		mu.Lock()
		if !slices.Equal(order, []int{1, 2, 3}) {
			t.Fatalf("take=%v: order %v", take, order)
		}
		mu.Unlock()
		if s.Busy() {
			t.Fatalf("take=%v: still busy", take)
		}
	}
}

// fakeReader takes (or refuses) the loops offered to it.
type fakeReader struct {
	take    bool
	offered int
	loop    func()
}

func (r *fakeReader) RunAfterDelivery(run func()) bool {
	r.offered++
	if r.take {
		r.loop = run
	}
	return r.take
}
