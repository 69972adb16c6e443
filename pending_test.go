package socketio_test

import (
	"strings"
	"testing"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/lxzan/gws"
)

// The events waiting for a socket's handlers are bounded in bytes as well
// as in number: a client whose handler is stuck and that keeps sending
// large events is closed with "transport error" once the bytes pass
// MaxPendingBytes; below it, or with a single large event, it stays.
func TestMaxPendingBytes(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	for _, tc := range []struct {
		name     string
		limit    int
		block    bool // a first event blocks the handlers
		events   int
		closed   bool
		withBins bool
	}{
		{"over the bound", 1 << 20, true, 20, true, false},
		{"over the bound with attachments", 1 << 20, true, 20, true, true},
		{"within the bound", 1 << 20, true, 5, false, false},
		{"one event larger than the bound", 50_000, false, 1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			io, url, _ := newTestServer(t, socketio.Config{MaxPendingBytes: tc.limit})
			t.Cleanup(func() {
				select {
				case <-release:
				default:
					close(release)
				}
			})
			io.OnConnection(func(s *socketio.Socket) {
				s.On("block", func(*socketio.Event) { <-release })
				s.On("data", func(*socketio.Event) { _ = s.Emit("got") })
			})
			c, id := rawSocket(t, url, "/")
			sock := io.MainNamespace().Socket(id)
			if tc.block {
				c.Send(`42["block"]`)
			}
			for range tc.events {
				// Errors are expected once the server has closed.
				if tc.withBins {
					_ = c.Conn.WriteString(`451-["data",{"_placeholder":true,"num":0}]`)
					_ = c.Conn.WriteMessage(gws.OpcodeBinary, []byte(big))
				} else {
					_ = c.Conn.WriteString(`42["data","` + big + `"]`)
				}
			}
			if tc.closed {
				c.WaitClosed()
				if r, _ := sock.Conn().CloseReason(); r != engineio.ReasonTransportError {
					t.Fatalf("close reason %q, want %q", r, engineio.ReasonTransportError)
				}
				return
			}
			close(release)
			for range tc.events {
				c.Expect(`42["got"]`)
			}
			c.Send(`42["echo","still here"]`)
			c.Expect(`42["echo","still here"]`)
		})
	}
}
