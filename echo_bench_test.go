package socketio_test

import (
	"bytes"
	"net/http/httptest"
	"testing"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
)

// BenchmarkEchoAck measures one round trip of an event with an ack,
// answered by a typed handler, through the real server over a loopback
// WebSocket: the read pass, the handler (run on the reader's goroutine),
// the ack's encoding and its write. One op is one round trip of one
// client; B/op and allocs/op are the server's and the lean client's (which
// allocates nothing per frame).
func BenchmarkEchoAck(b *testing.B) {
	srv, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		b.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.OnAck(s, "echo", func(data string) (string, error) { return data, nil })
	})
	ts := httptest.NewServer(srv)
	defer func() { _ = srv.Close(); ts.Close() }()
	c, r, err := testutil.DialLean(ts.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	payload := []byte(`421["echo","` + string(bytes.Repeat([]byte("x"), 100)) + `"]`)
	// A masked text frame with a zero key: the payload goes as it is.
	frame := append([]byte{0x81, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(frame); err != nil {
			b.Fatal(err)
		}
		for {
			p, err := testutil.LeanFrame(r)
			if err != nil {
				b.Fatal(err)
			}
			if bytes.HasPrefix(p, []byte("431[")) {
				break
			}
		}
	}
}
