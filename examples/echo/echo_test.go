package main

import (
	"fmt"
	stdio "io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/testutil"
)

// TestBrowser opens the seed's frontend, built unchanged, in headless
// Chromium and checks that the page shows the server's answer: in the
// default mode (polling upgraded to WebSocket), polling only, and with the
// upgrade required.
//
// The page shows its connection state, the transport in use (updated on
// the upgrade) and the messages exchanged; the test checks them.
//
// The frontend connects to http://localhost:3000 as the seed wrote it;
// Chromium's host resolver maps that to the test server's free port.
// GOSIO_SCREENSHOTS=1 also writes docs/echo.png (the upgraded page).
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
			env := env
			if mode == "websocket" && os.Getenv("GOSIO_SCREENSHOTS") != "" {
				shot, err := filepath.Abs("../../docs/echo.png")
				if err != nil {
					t.Fatal(err)
				}
				env = append(slices.Clip(env), "SCREENSHOT="+shot)
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
			estado := st[len(st)-1].Str("text")
			t.Logf("%s: %s", mode, estado)

			// The page's status, transport and message log.
			vs := testutil.Filter(evs, "vista")
			if len(vs) != 1 {
				t.Fatalf("the page reported no status display: %v", evs)
			}
			v := vs[0]
			if v.Str("conexion") != "connected" {
				t.Errorf("status pill %q, want connected", v.Str("conexion"))
			}
			tr := v.Str("transporte")
			if want := map[string]string{"polling": "polling", "websocket": "websocket"}[mode]; want != "" && tr != want {
				t.Errorf("transport shown %q, want %q", tr, want)
			}
			if !strings.HasSuffix(estado, "("+tr+")") {
				t.Errorf("transport shown %q, but the state says %q", tr, estado)
			}
			// Every mode starts on polling: the note is there once upgraded.
			if up := v.Str("mejora"); (tr == "websocket") != (up == "mejorado desde polling") {
				t.Errorf("transport %s, upgrade note %q", tr, up)
			}
			var log []string
			hist, _ := v["historial"].([]any)
			for _, h := range hist {
				m, _ := h.(map[string]any)
				log = append(log, fmt.Sprintf("%v %v %v", m["dir"], m["event"], m["text"]))
			}
			want := []string{"sale mensaje ¡Hola desde el frontend!", "entra respuesta Hola, recibí tu mensaje: ¡Hola desde el frontend!"}
			if !slices.Equal(log, want) {
				t.Errorf("message log %q, want %q", log, want)
			}
		})
	}
}

// The example's HTTP server cuts a client that sends its headers slowly
// (slowloris), while a long poll and a WebSocket held longer than its
// timeouts survive. The timeouts are shortened for the test.
func TestHTTPServerTimeouts(t *testing.T) {
	io, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer("", newHandler(io, "frontend/dist"))
	if srv.ReadHeaderTimeout == 0 || srv.IdleTimeout == 0 || srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
		t.Fatalf("server timeouts: header %v idle %v read %v write %v", srv.ReadHeaderTimeout, srv.IdleTimeout, srv.ReadTimeout, srv.WriteTimeout)
	}
	const short = 300 * time.Millisecond
	srv.ReadHeaderTimeout, srv.IdleTimeout = short, short
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() { _ = srv.Close(); _ = io.Close() }()
	base := "http://" + ln.Addr().String()

	// Slow headers: the connection is closed.
	slow, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_, _ = slow.Write([]byte("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n"))
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := slow.Read(make([]byte, 512)); err == nil {
		// Go may answer 408 before closing; the next read must end.
		if _, err := slow.Read(make([]byte, 512)); err == nil {
			t.Fatal("slow-header connection still open")
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("slow-header connection not cut within 10 s")
	}

	// A long poll held for several times the timeouts gets its answer.
	get := func(q string) string {
		res, err := http.Get(base + "/socket.io/?EIO=4&transport=polling" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := stdio.ReadAll(res.Body)
		return string(b)
	}
	open := get("")
	sid := open[strings.Index(open, `"sid":"`)+7:][:20]
	post, err := http.Post(base+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader("40"))
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if r := get("&sid=" + sid); !strings.HasPrefix(r, "40{") {
		t.Fatalf("connect reply %q", r)
	}
	held := make(chan string, 1)
	go func() { held <- get("&sid=" + sid) }()
	time.Sleep(4 * short)
	if err := io.Emit("respuesta", "tarde"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-held:
		if r != `42["respuesta","tarde"]` {
			t.Fatalf("long poll answered %q", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("long poll not answered")
	}

	// A WebSocket idle for several times the timeouts still works.
	c, _, err := testutil.DialWS(t, base, "/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Next() // open
	c.Send("40")
	c.Next() // connect reply
	time.Sleep(4 * short)
	c.Send(`42["mensaje","hola"]`)
	c.Expect(`42["respuesta","Hola, recibí tu mensaje: hola"]`)
}
