package socketio_test

import (
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
)

// A second, independent client: Debian's python3-socketio (5.x) connects
// with auth to two namespaces and exchanges events, an ack and binary.
func TestInteropPython(t *testing.T) {
	for _, tr := range []string{"websocket", "polling"} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			_, url, _ := newTestServer(t, socketio.Config{})
			evs := testutil.RunPython(t, 60*time.Second, "py_client.py", url, tr)
			names := map[string]testutil.Event{}
			for _, e := range evs {
				names[e.Name()] = e
			}
			for _, want := range []string{"respuesta", "ack", "echo-bin", "pong-admin", "done"} {
				if _, ok := names[want]; !ok {
					t.Fatalf("python client did not report %q: %v", want, evs)
				}
			}
		})
	}
}
