package socketio

import (
	"testing"

	"github.com/gosio/socketio/adapter"
)

// Handing a socket to its adapter allocates nothing: the handle is a
// struct of one pointer, stored in the interface as it is.
func TestSocketHandleAllocatesNothing(t *testing.T) {
	s := &Socket{id: "abc"}
	var h adapter.Socket
	if n := testing.AllocsPerRun(100, func() { h = s.handle() }); n != 0 {
		t.Fatalf("%v allocations per handle", n)
	}
	if h.ID() != "abc" || h.(socketHandle).s != s {
		t.Fatal("the handle does not lead to its socket")
	}
}
