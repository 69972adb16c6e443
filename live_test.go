package socketio

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

// The registry of live sockets (for Shutdown's report of stuck handlers)
// forgets every socket once it is done: after a normal disconnect, a
// middleware refusal, and a connection closed while the middleware ran.
func TestLiveSocketsForgotten(t *testing.T) {
	io, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	refuse, err := io.Of("/refuse")
	if err != nil {
		t.Fatal(err)
	}
	refuse.Use(func(*Socket) error { return errors.New("no") })
	slowNsp, err := io.Of("/slow")
	if err != nil {
		t.Fatal(err)
	}
	slow := make(chan struct{})
	slowNsp.Use(func(*Socket) error { <-slow; return nil })
	hs := httptest.NewServer(io)
	defer func() { hs.Close(); _ = io.Close() }()
	for _, nsp := range []string{"/", "/refuse", "/slow"} {
		c, _, err := testutil.DialWS(t, hs.URL, "/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Next() // open
		if nsp == "/" {
			c.Send("40")
		} else {
			c.Send("40" + nsp + ",")
		}
		if nsp != "/slow" {
			if m := c.Next(); !strings.HasPrefix(m.Data, "4") {
				t.Fatalf("%s: %q", nsp, m.Data)
			}
		} else {
			time.Sleep(50 * time.Millisecond) // the middleware runs
		}
		_ = c.Conn.NetConn().Close()
	}
	close(slow)
	deadline := time.Now().Add(10 * time.Second)
	for {
		io.liveMu.Lock()
		n := len(io.live)
		io.liveMu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sockets still registered", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
