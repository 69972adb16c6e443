package admin_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/admin"
	"github.com/gosio/socketio/internal/testutil"
	"go.uber.org/goleak"
	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// adminUser and adminPassword log the UI in; adminHash is the password's
// bcrypt hash (the lowest cost, to keep the tests quick).
const (
	adminUser     = "admin"
	adminPassword = "changeit"
)

var adminHash = func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(adminPassword), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
}()

// app is an instrumented Socket.IO server with a few handlers, over HTTP.
type app struct {
	io  *socketio.Server
	in  *admin.Instrumentation
	url string

	mu      sync.Mutex
	reasons map[string]string // socket id -> disconnect reason
}

// newApp starts an instrumented server. Its main namespace has the
// handlers the tests drive: join-room (acknowledged), hello (answered
// with welcome), set-data and upload.
func newApp(t testing.TB, opts admin.Options, cfg socketio.Config) *app {
	t.Helper()
	io, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{io: io, reasons: map[string]string{}}
	io.OnConnection(func(s *socketio.Socket) {
		s.OnDisconnect(func(reason string) {
			a.mu.Lock()
			a.reasons[s.ID()] = reason
			a.mu.Unlock()
		})
		socketio.OnAck(s, "join-room", func(room string) (string, error) {
			s.Join(room)
			return "joined " + room, nil
		})
		socketio.On(s, "hello", func(name string) { _ = s.Emit("welcome", "hi "+name) })
		socketio.On(s, "set-data", func(user string) { s.SetData(map[string]any{"user": user}) })
		socketio.OnAck(s, "upload", func(b []byte) (int, error) { return len(b), nil })
	})
	in, err := admin.Instrument(io, opts)
	if err != nil {
		_ = io.Close()
		t.Fatal(err)
	}
	a.in = in
	a.url = serve(t, io, in, nil)
	return a
}

// serve starts an HTTP server for io (and extra handlers) and stops it,
// the instrumentation and io when the test ends.
func serve(t testing.TB, io *socketio.Server, in *admin.Instrumentation, mux *http.ServeMux) string {
	t.Helper()
	var h http.Handler = io
	if mux != nil {
		mux.Handle("/socket.io/", io)
		h = mux
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = in.Close()
		hs.Close()
		_ = io.Close()
	})
	return hs.URL
}

// reason waits until the app's socket id has disconnected and returns why.
func (a *app) reason(t testing.TB, id string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.mu.Lock()
		r, ok := a.reasons[id]
		a.mu.Unlock()
		if ok {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket %s did not disconnect", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// connected reports whether the app's main namespace has the socket.
func (a *app) connected(id string) bool { return a.io.MainNamespace().Socket(id) != nil }

var transports = []struct {
	name string
	list []string
}{
	{"websocket", []string{"websocket"}},
	{"polling", []string{"polling"}},
}

// forTransports runs fn for the admin client over each transport.
func forTransports(t *testing.T, fn func(t *testing.T, tr []string)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			fn(t, tr.list)
		})
	}
}

// driver starts the official client's driver against url.
func driver(t testing.TB, url string) *testutil.Proc {
	t.Helper()
	p := testutil.StartNode(t, "sio-driver.mjs", url)
	p.ExpectEv("ready", "")
	return p
}

// connectUI connects client c to the admin namespace with auth (nil: none)
// and returns its socket id.
func connectUI(t testing.TB, p *testutil.Proc, c string, tr []string, auth map[string]any) string {
	t.Helper()
	cmd := map[string]any{"cmd": "connect", "c": c, "nsp": "/admin", "transports": tr}
	if auth != nil {
		cmd["auth"] = auth
	}
	p.Send(cmd)
	return p.ExpectEv("connect", c).Str("id")
}

// connectApp connects client c to the main namespace and returns its
// socket id; with two transports it waits for the upgrade.
func connectApp(t testing.TB, p *testutil.Proc, c string, tr []string) string {
	t.Helper()
	p.Send(map[string]any{"cmd": "connect", "c": c, "transports": tr})
	id := p.ExpectEv("connect", c).Str("id")
	if len(tr) == 2 {
		p.ExpectEv("upgrade", c)
	}
	return id
}

// event waits for the next event name of client c whose arguments match
// (nil: any) and returns its arguments.
func event(t testing.TB, p *testutil.Proc, c, name string, match func(args []any) bool) []any {
	t.Helper()
	return p.EventOf(c, name, match)
}

// argsAre matches arguments whose first values are want (compared as
// JSON values), the rest (a timestamp) being free.
var argsAre = testutil.ArgsStartWith

// jsonEqual compares two values by their JSON form.
var jsonEqual = testutil.JSONEqual

// isISOTime reports whether v is a JavaScript toISOString() date near
// now.
func isISOTime(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	ts, err := time.Parse("2006-01-02T15:04:05.000Z", s)
	return err == nil && time.Since(ts) < time.Minute && time.Until(ts) < time.Minute
}

// index returns the position of the first event of client c named name
// (an event's name, or "connect") among those p has printed, or -1.
func index(p *testutil.Proc, c, name string) int {
	for i, e := range p.Seen() {
		if e.Str("c") != c {
			continue
		}
		if e.Name() == name || (e.Name() == "event" && e.Str("name") == name) {
			return i
		}
	}
	return -1
}

// obj returns v as a JSON object.
func obj(t testing.TB, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v (%T) is not an object", v, v)
	}
	return m
}

// sortedStrings returns a JSON array of strings, sorted (room lists have
// no order).
func sortedStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// sorted returns the strings, sorted.
func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
