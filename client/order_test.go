package client_test

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// orderScript is a Node socket.io server (run from interop/ with
// node --input-type=module -e, argument: the port) whose "before-ack"
// handler emits "before" with its arguments, then acknowledges them: on the
// wire the event precedes the acknowledgement. goApp does the same.
const orderScript = `
import { createServer } from "node:http";
import { Server } from "socket.io";
const port = Number(process.argv[1]);
const httpServer = createServer();
const io = new Server(httpServer);
io.on("connection", (socket) => {
  socket.on("before-ack", (...a) => {
    const cb = a.pop();
    socket.emit("before", ...a);
    cb(...a);
  });
  socket.on("ack", (...a) => {
    const cb = a.pop();
    if (typeof cb === "function") cb(...a);
  });
});
httpServer.listen(port, "127.0.0.1", () => process.stdout.write(JSON.stringify({ ev: "listening", port }) + "\n"));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`

func startNodeOrder(t *testing.T, _ srvOpts) server {
	t.Helper()
	port := freePort(t)
	n := &nodeServer{t: t, port: port, changed: make(chan struct{}, 1)}
	n.args = []string{"--input-type=module", "-e", orderScript, strconv.Itoa(port)}
	n.Restart()
	t.Cleanup(n.Kill)
	return n
}

// TestAckAfterPrecedingEvents: the server emits "before", then answers
// the acknowledgement of the "before-ack" event that caused it. EmitWithAck
// must return only once the "before" handler has run, as the JavaScript
// client handles packets in order; with and without retries (their
// acknowledgements take another path). Some "before" handlers call
// EmitWithAck themselves and wait: their answer must still come, although
// it arrives while they run, behind a held one.
func TestAckAfterPrecedingEvents(t *testing.T) {
	const rounds = 30
	kinds := []serverKind{{"node", startNodeOrder}, {"go", startGo}}
	for _, retries := range []int{0, 2} {
		for _, k := range kinds {
			t.Run(fmt.Sprintf("retries=%d/%s", retries, k.name), func(t *testing.T) {
				t.Parallel()
				srv := k.start(t, srvOpts{})
				for _, md := range modes {
					t.Run(md.name, func(t *testing.T) { testAckOrder(t, srv, md, retries, rounds) })
				}
			})
		}
	}
}

func testAckOrder(t *testing.T, srv server, md mode, retries, rounds int) {
	ctx := ctxT(t)
	m, err := client.NewManager(srv.URL(), &client.Options{Transports: md.transports})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.Socket("/", &client.SocketOptions{Retries: retries})
	var handled atomic.Int64
	client.On(s, "before", func(n int64) {
		switch n % 3 {
		case 1:
			// A handler that takes a moment: the acknowledgement is
			// already there when it ends.
			time.Sleep(2 * time.Millisecond)
		case 2:
			if _, err := s.EmitWithAck(ctx, "ack", "inner"); err != nil {
				t.Errorf("round %d: EmitWithAck in a handler: %v", n, err)
			}
		case 0:
			// The answer follows another "before" event, queued behind
			// this handler.
			a, err := s.Timeout(wait).EmitWithAck(ctx, "before-ack", "inner")
			var v string
			if err != nil || a.Bind(&v) != nil || v != "inner" {
				t.Errorf("round %d: EmitWithAck in a handler: %q %v", n, v, err)
			}
		}
		handled.Store(n)
	})
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	late, first := 0, 0
	for i := 1; i <= rounds; i++ {
		a, err := s.EmitWithAck(ctx, "before-ack", i)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		var n int
		if err := a.Bind(&n); err != nil || n != i {
			t.Fatalf("round %d: ack %d (%v)", i, n, err)
		}
		if got := handled.Load(); got != int64(i) {
			late++
			if first == 0 {
				first = i
			}
		}
	}
	if late > 0 {
		t.Errorf("%d of %d rounds (the first: %d) returned from EmitWithAck before the handler of the event that preceded the acknowledgement had run", late, rounds, first)
	}
}
