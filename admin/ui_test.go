package admin_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/admin"
	"github.com/gosio/socketio/internal/testutil"
)

// uiDist returns the Admin UI's files from interop's node_modules,
// failing with what to run when they are missing.
func uiDist(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(testutil.InteropDir(t), "node_modules", "@socket.io", "admin-ui", "ui", "dist")
	if _, err := admin.UIDir(dir); err != nil {
		t.Fatalf("%v (run `npm ci --prefix interop`)", err)
	}
	return dir
}

// UIHandler serves the files under its prefix, redirects the prefix
// without its slash (keeping the query), and answers 404 elsewhere.
func TestUIHandler(t *testing.T) {
	dist := fstest.MapFS{
		"index.html":  {Data: []byte("<html>ui</html>")},
		"js/app.js":   {Data: []byte("console.log(1)")},
		"favicon.png": {Data: []byte{0x89, 'P', 'N', 'G'}},
	}
	for _, prefix := range []string{"/admin-ui/", "admin-ui", "/admin-ui"} {
		hs := httptest.NewServer(admin.UIHandler(prefix, dist))
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, tc := range []struct {
			path     string
			status   int
			body     string
			location string
		}{
			{"/admin-ui/", 200, "<html>ui</html>", ""},
			{"/admin-ui/js/app.js", 200, "console.log(1)", ""},
			{"/admin-ui", 301, "", "/admin-ui/"},
			{"/admin-ui?x=1", 301, "", "/admin-ui/?x=1"},
			{"/admin-ui/index.html", 301, "", "./"},
			{"/admin-ui/nope.js", 404, "", ""},
			{"/other", 404, "", ""},
			{"/", 404, "", ""},
		} {
			res, err := client.Get(hs.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status || (tc.body != "" && string(b) != tc.body) || res.Header.Get("Location") != tc.location {
				t.Errorf("prefix %q: GET %s = %d %q (Location %q), want %d %q (Location %q)",
					prefix, tc.path, res.StatusCode, b, res.Header.Get("Location"), tc.status, tc.body, tc.location)
			}
		}
		hs.Close()
	}
	if _, err := admin.UIDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "npm install @socket.io/admin-ui") {
		t.Errorf("UIDir of an empty folder: %v", err)
	}
}

// The real Admin UI (npm's @socket.io/admin-ui 0.5.1), served by the Go
// server, in headless Chromium: it logs in with the password through its
// connection form, lists the server's sockets and rooms, disconnects one
// socket (which the server disconnects), and stays logged in across a
// reload thanks to the session id sent after the CONNECT reply. With the
// form's "WebSocket only?" on, off with the upgrade, and off on a page
// without WebSocket (polling only). GOSIO_SCREENSHOTS=1 writes the
// Sockets page of the WebSocket run to docs/admin-ui.png.
func TestAdminUI(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("the browser test needs Debian's Chromium (apt-get install -y chromium): %v", err)
	}
	dist := uiDist(t)
	for _, mode := range []string{"websocket", "polling", "default"} {
		t.Run(mode, func(t *testing.T) {
			io, err := socketio.NewServer(socketio.Config{})
			if err != nil {
				t.Fatal(err)
			}
			reasons := make(chan string, 4)
			io.OnConnection(func(s *socketio.Socket) {
				s.OnDisconnect(func(reason string) { reasons <- s.ID() + " " + reason })
				socketio.OnAck(s, "join-room", func(room string) (string, error) {
					s.Join(room)
					return "ok", nil
				})
			})
			in, err := admin.Instrument(io, admin.Options{
				Auth:     admin.Basic{Username: adminUser, PasswordHash: adminHash},
				ServerID: "gosio-" + mode,
			})
			if err != nil {
				t.Fatal(err)
			}
			fsys, err := admin.UIDir(dist)
			if err != nil {
				t.Fatal(err)
			}
			mux := http.NewServeMux()
			mux.Handle("/admin-ui/", admin.UIHandler("/admin-ui/", fsys))
			mux.Handle("/admin-ui", admin.UIHandler("/admin-ui/", fsys))
			url := serve(t, io, in, mux)

			p := driver(t, url)
			keep := connectApp(t, p, "keep", []string{"websocket"})
			p.Send(map[string]any{"cmd": "emit", "c": "keep", "event": "join-room", "args": []any{"lobby"}, "ack": true, "seq": 1})
			p.ExpectEv("ack", "keep")
			drop := connectApp(t, p, "drop", []string{"polling"})

			var env []string
			if mode == "websocket" && os.Getenv("GOSIO_SCREENSHOTS") != "" {
				shot, err := filepath.Abs("../docs/admin-ui.png")
				if err != nil {
					t.Fatal(err)
				}
				env = append(env, "SCREENSHOT="+shot)
			}
			evs := testutil.RunNodeEnv(t, 120*time.Second, env, "admin-ui.mjs",
				url+"/admin-ui", url, mode, adminUser, adminPassword, keep, drop, "lobby")
			var steps []string
			for _, e := range testutil.Filter(evs, "step") {
				steps = append(steps, e.Str("name"))
			}
			if want := []string{"redirect", "login", "session", "sockets", "rooms", "disconnect", "reload"}; !slices.Equal(steps, want) {
				t.Fatalf("steps %v, want %v: %v", steps, want, evs)
			}
			res := testutil.Filter(evs, "result")
			if len(res) != 1 {
				t.Fatalf("no result: %v", evs)
			}
			if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(res[0].Str("session")) {
				t.Errorf("session id %q", res[0].Str("session"))
			}
			reqs, _ := res[0]["requests"].(map[string]any)
			polls, _ := reqs["polling"].(float64)
			sockets, _ := reqs["websocket"].(float64)
			switch mode {
			case "websocket":
				if polls != 0 || sockets == 0 {
					t.Errorf("WebSocket only: %v polling requests, %v WebSockets", polls, sockets)
				}
			case "polling":
				if polls == 0 || sockets != 0 {
					t.Errorf("polling: %v polling requests, %v WebSockets", polls, sockets)
				}
			default:
				if polls == 0 || sockets == 0 {
					t.Errorf("default: %v polling requests, %v WebSockets; want both", polls, sockets)
				}
			}
			if b, _ := res[0]["blocked"].(float64); b == 0 {
				t.Errorf("no CDN request was blocked: %v", res[0])
			}
			select {
			case r := <-reasons:
				if r != drop+" server namespace disconnect" {
					t.Errorf("disconnected from the UI: %q, want %q", r, drop+" server namespace disconnect")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the socket disconnected from the UI did not disconnect on the server")
			}
			p.ExpectEv("disconnect", "drop")
			if !slices.ContainsFunc(io.Sockets(), func(s *socketio.Socket) bool { return s.ID() == keep }) {
				t.Error("the other socket was disconnected too")
			}
		})
	}
}
