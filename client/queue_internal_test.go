package client

import (
	"testing"

	"github.com/gosio/socketio/internal/gotrack"
)

// TestOnHandlerGoroutine: the handler goroutine is recognised however deep
// the handler's own stack is (past one page of runtime.Callers), and no
// other goroutine is.
func TestOnHandlerGoroutine(t *testing.T) {
	var g gotrack.Tracker
	h := &handlerQueue{}
	h.q.T = &g
	var deep func(n int) bool
	deep = func(n int) bool {
		if n == 0 {
			return onHandlerGoroutine()
		}
		return deep(n - 1)
	}
	got := make(map[int]bool)
	for _, depth := range []int{0, 10, 63, 64, 65, 200} {
		h.push(func() { got[depth] = deep(depth) })
	}
	var fromOther bool
	h.push(func() {
		done := make(chan bool)
		go func() { done <- onHandlerGoroutine() }()
		fromOther = <-done
	})
	g.Wait()
	for depth, ok := range got {
		if !ok {
			t.Errorf("depth %d: the handler goroutine is not recognised", depth)
		}
	}
	if len(got) != 6 {
		t.Errorf("%d tasks ran, want 6", len(got))
	}
	if fromOther {
		t.Error("a goroutine started by a handler is taken for the handler goroutine")
	}
	if onHandlerGoroutine() {
		t.Error("the test goroutine is taken for a handler goroutine")
	}
}
