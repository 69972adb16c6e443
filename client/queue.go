package client

import (
	"reflect"
	"runtime"
	"sync"

	"github.com/gosio/socketio/internal/gotrack"
)

// handlerQueue runs a socket's handler tasks one at a time, in order, and
// keeps acknowledgements in order with them: an acknowledgement is
// delivered only once the tasks queued before it arrived (the handlers of
// the packets that preceded it on the wire) have run, as the JavaScript
// client, which handles packets one after the other, does.
//
// One exception keeps a handler that waits for an acknowledgement from
// waiting for itself: an acknowledgement requested by a handler (on the
// handler goroutine, while task T runs) is delivered as soon as it arrives
// if T still runs. Every task before T has run then, and the tasks queued
// behind T cannot run before T returns.
type handlerQueue struct {
	q gotrack.Serial

	mu       sync.Mutex
	pushed   uint64 // sequence number of the last task queued (from 1)
	finished uint64 // sequence number of the last task that ran
	running  uint64 // sequence number of the running task, 0 when idle
	held     []heldAck
}

// heldAck is an acknowledgement waiting for the tasks queued before it.
type heldAck struct {
	mark    uint64 // deliver once finished >= mark
	deliver func()
}

// push queues a task.
func (h *handlerQueue) push(task func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pushed++
	seq := h.pushed
	// Pushed under h.mu: the sequence numbers follow the queue's order.
	h.q.Push(func() { h.run(seq, task) })
}

func (h *handlerQueue) run(seq uint64, task func()) {
	h.mu.Lock()
	h.running = seq
	h.mu.Unlock()
	runTask(task)
	h.mu.Lock()
	h.running = 0
	h.finished = seq
	var ready []func()
	if len(h.held) > 0 {
		kept := h.held[:0]
		for _, a := range h.held {
			if a.mark <= seq {
				ready = append(ready, a.deliver)
			} else {
				kept = append(kept, a)
			}
		}
		clear(h.held[len(kept):])
		h.held = kept
	}
	h.mu.Unlock()
	for _, fn := range ready {
		fn()
	}
}

// runTask runs a handler task. Its frame marks the handler goroutines'
// stacks (see onHandlerGoroutine).
//
//go:noinline
func runTask(task func()) { task() }

var runTaskName = runtime.FuncForPC(reflect.ValueOf(runTask).Pointer()).Name()

// onHandlerGoroutine reports whether the caller runs inside a handler task
// (of some socket): whether runTask is on its stack.
func onHandlerGoroutine() bool {
	var pcs [64]uintptr
	for skip := 2; ; {
		n := runtime.Callers(skip, pcs[:])
		frames := runtime.CallersFrames(pcs[:n])
		for {
			f, more := frames.Next()
			if f.Function == runTaskName {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) {
			return false
		}
		skip += n
	}
}

// len returns the number of tasks waiting (the running one excluded).
func (h *handlerQueue) len() int { return h.q.Len() }

// caller returns the running task's sequence number when the caller is
// that task (it runs on a handler goroutine while the task runs), 0
// otherwise. An emit records it, for ack.
func (h *handlerQueue) caller() uint64 {
	h.mu.Lock()
	running := h.running
	h.mu.Unlock()
	if running == 0 || !onHandlerGoroutine() {
		return 0
	}
	// The caller may also be a handler of another socket calling while one
	// of ours runs: its acknowledgement may then come before our handler
	// returns (unordered), never later.
	return running
}

// mark returns the position an acknowledgement arriving now must wait
// for: the last task queued so far. The connection's reader, which queues
// the tasks of the packets before the acknowledgement, calls it.
func (h *handlerQueue) mark() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pushed
}

// ack calls deliver once every task up to mark has run, or at once when
// the task that requested the acknowledgement (from, see caller) still
// runs. A zero mark delivers at once. deliver runs on the calling
// goroutine or on the handler goroutine, with no lock held.
func (h *handlerQueue) ack(mark, from uint64, deliver func()) {
	h.mu.Lock()
	if h.finished >= mark || (from != 0 && h.running == from) {
		h.mu.Unlock()
		deliver()
		return
	}
	h.held = append(h.held, heldAck{mark: mark, deliver: deliver})
	h.mu.Unlock()
}
