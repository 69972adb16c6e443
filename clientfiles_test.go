package socketio_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
)

// clientDist is the dist folder of the npm socket.io-client used by the
// interop tests.
func clientDist(t *testing.T) string {
	t.Helper()
	return filepath.Join(testutil.InteropDir(t), "node_modules", "socket.io-client", "dist")
}

func TestClientFiles(t *testing.T) {
	dist := clientDist(t)
	srv, err := socketio.NewServer(socketio.Config{ClientFiles: os.DirFS(dist)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer func() { hs.Close(); _ = srv.Close() }()
	want, _ := os.ReadFile(filepath.Join(dist, "socket.io.min.js"))

	get := func(path string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", hs.URL+path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultTransport.RoundTrip(req) // no automatic gzip
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	res := get("/socket.io/socket.io.min.js", nil)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != string(want) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/javascript") {
		t.Fatalf("bundle: %d %s (%d bytes)", res.StatusCode, res.Header.Get("Content-Type"), len(body))
	}
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if res := get("/socket.io/socket.io.min.js", map[string]string{"If-None-Match": etag}); res.StatusCode != 304 {
		t.Fatalf("revalidation: %d", res.StatusCode)
	}
	res = get("/socket.io/socket.io.min.js", map[string]string{"Accept-Encoding": "gzip"})
	zr, err := gzip.NewReader(res.Body)
	if err != nil || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %v %v", err, res.Header)
	}
	if plain, _ := io.ReadAll(zr); string(plain) != string(want) {
		t.Fatal("gzip body differs")
	}
	for path, ct := range map[string]string{
		"/socket.io/socket.io.js":                 "application/javascript",
		"/socket.io/socket.io.esm.min.js":         "application/javascript",
		"/socket.io/socket.io.msgpack.min.js":     "application/javascript",
		"/socket.io/socket.io.min.js.map":         "application/json",
		"/socket.io/socket.io.esm.min.js.map":     "application/json",
		"/socket.io/socket.io.msgpack.min.js.map": "application/json",
	} {
		if res := get(path, nil); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), ct) {
			t.Fatalf("%s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
	if res := get("/socket.io/other.js", nil); res.StatusCode != 404 {
		t.Fatalf("other file: %d", res.StatusCode)
	}
	// Off by default.
	plain, _ := socketio.NewServer(socketio.Config{})
	defer plain.Close()
	hs2 := httptest.NewServer(plain)
	defer hs2.Close()
	res, err = http.Get(hs2.URL + "/socket.io/socket.io.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("without ClientFiles: %d", res.StatusCode)
	}
}

// The served bundle works in a real browser: headless Chromium loads a page
// that connects with io() from /socket.io/socket.io.js.
func TestClientFilesInBrowser(t *testing.T) {
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Fatalf("the browser test needs Debian's Chromium (apt-get install -y chromium): %v", err)
	}
	srv, err := socketio.NewServer(socketio.Config{ClientFiles: os.DirFS(clientDist(t))})
	if err != nil {
		t.Fatal(err)
	}
	srv.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "mensaje", func(data string) { _ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data) })
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, bundlePage)
	})
	hs := httptest.NewServer(mux)
	defer func() { hs.Close(); _ = srv.Close() }()
	for _, mode := range []string{"default", "polling", "websocket"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{hs.URL + "/", "20000"}
			if mode != "default" {
				args = append(args, mode)
			}
			evs := testutil.RunNode(t, 40*time.Second, "browser.mjs", args...)
			got := testutil.Filter(evs, "respuesta")
			if len(got) == 0 || got[0].Str("text") != "Hola, recibí tu mensaje: desde el bundle" {
				t.Fatalf("no answer in the page: %v", evs)
			}
		})
	}
}

const bundlePage = `<!doctype html>
<html><head><meta charset="utf-8"><title>bundle</title></head>
<body>
<p id="estado">cargando</p><p id="respuesta"></p>
<script src="/socket.io/socket.io.min.js"></script>
<script>
  const socket = io();
  const show = () => { document.getElementById('estado').textContent = 'conectado: ' + socket.id + ' (' + socket.io.engine.transport.name + ')'; };
  socket.on('connect', () => { show(); socket.emit('mensaje', 'desde el bundle'); });
  socket.io.on('open', () => socket.io.engine.on('upgrade', show));
  socket.on('respuesta', (m) => { document.getElementById('respuesta').textContent = m; });
</script>
</body></html>`
