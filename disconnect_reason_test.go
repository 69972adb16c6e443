package socketio_test

import (
	"testing"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/parser"
)

// A server-side Disconnect is reported as "server namespace disconnect"
// even when the client closes its connection as soon as the DISCONNECT
// packet reaches it (a polling client can, before Disconnect returns):
// here the connection closes while the packet is being queued.
func TestServerDisconnectReasonWhenClientClosesAtOnce(t *testing.T) {
	for _, close := range []bool{false, true} {
		io, url, _ := newTestServer(t, socketio.Config{})
		reasons := make(chan string, 1)
		io.Observe(socketio.Observer{
			PacketOut: func(c *engineio.Conn, p *parser.Packet, _ int) {
				if p.Type == parser.Disconnect {
					c.Abort(engineio.ReasonTransportClose, nil) // the client's close
				}
			},
			SocketDisconnected: func(_ *socketio.Socket, reason string) { reasons <- reason },
		})
		_, sid := rawSocket(t, url, "/")
		io.MainNamespace().Socket(sid).Disconnect(close)
		if r := <-reasons; r != socketio.ReasonServerNamespaceDisconnect {
			t.Errorf("Disconnect(%v): reason %q, want %q", close, r, socketio.ReasonServerNamespaceDisconnect)
		}
	}
}
