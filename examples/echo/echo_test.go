package main

import (
	"net"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

// TestBrowser opens the seed's frontend, built unchanged, in headless
// Chromium and checks that the page shows the server's answer: in the
// default mode (polling upgraded to WebSocket), polling only, and with the
// upgrade required.
//
// The frontend connects to http://localhost:3000 as the seed wrote it;
// Chromium's host resolver maps that to the test server's free port.
func TestBrowser(t *testing.T) {
	if _, err := os.Stat("frontend/dist/index.html"); err != nil {
		t.Fatalf("the frontend is not built: run `npm ci && npm run build` in examples/echo/frontend (make deps does it): %v", err)
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("the browser test needs Debian's Chromium (apt-get install -y chromium): %v", err)
	}
	io, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(newHandler(io, "frontend/dist"))
	defer func() { hs.Close(); _ = io.Close() }()
	_, port, _ := net.SplitHostPort(hs.Listener.Addr().String())
	env := []string{"HOST_RULES=MAP localhost:3000 127.0.0.1:" + port}

	for _, mode := range []string{"default", "polling", "websocket"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{"http://localhost:3000/", "20000"}
			if mode != "default" {
				args = append(args, mode)
			}
			evs := testutil.RunNodeEnv(t, 40*time.Second, env, "browser.mjs", args...)
			got := testutil.Filter(evs, "respuesta")
			if len(got) == 0 || got[0].Str("text") != "Hola, recibí tu mensaje: ¡Hola desde el frontend!" {
				t.Fatalf("the page did not show the answer: %v", evs)
			}
			st := testutil.Filter(evs, "estado")
			if len(st) == 0 {
				t.Fatalf("no state reported: %v", evs)
			}
			t.Logf("%s: %s", mode, st[len(st)-1].Str("text"))
		})
	}
}
