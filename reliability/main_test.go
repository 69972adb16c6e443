package reliability_test

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startServer starts a Socket.IO server on a free loopback port with
// setup as its connection handler; it is closed when the test ends.
func startServer(t *testing.T, cfg socketio.Config, setup func(*socketio.Socket)) (*socketio.Server, string) {
	t.Helper()
	io, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(setup)
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		hs.Close()
		_ = io.Close()
	})
	return io, hs.URL
}

// lifecycle records, per socket id, how often it connected (and whether
// each connection was a recovery) and the reasons of its disconnections.
type lifecycle struct {
	mu       sync.Mutex
	connects map[string][]bool // id -> recovered flag per connection
	reasons  map[string][]string
	byReason map[string]int
	changed  chan struct{}
}

func newLifecycle() *lifecycle {
	return &lifecycle{
		connects: map[string][]bool{},
		reasons:  map[string][]string{},
		byReason: map[string]int{},
		changed:  make(chan struct{}, 1),
	}
}

// watch registers the socket's connection and its disconnection.
func (l *lifecycle) watch(s *socketio.Socket) {
	id := s.ID()
	l.note(func() { l.connects[id] = append(l.connects[id], s.Recovered()) })
	s.OnDisconnect(func(reason string) {
		l.note(func() {
			l.reasons[id] = append(l.reasons[id], reason)
			l.byReason[reason]++
		})
	})
}

func (l *lifecycle) note(fn func()) {
	l.mu.Lock()
	fn()
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// wait waits until cond (called under the lock) holds.
func (l *lifecycle) wait(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		l.mu.Lock()
		ok := cond()
		l.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-l.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("%s: not within %v (connects %v, disconnects %v)", what, d, l.connects, l.reasons)
		}
	}
}

// waitDisconnects waits until socket id has disconnected n times.
func (l *lifecycle) waitDisconnects(t *testing.T, id string, n int) {
	t.Helper()
	l.wait(t, "server-side disconnect of "+id, 15*time.Second, func() bool { return len(l.reasons[id]) >= n })
}

// waitConnects waits until socket id has connected n times (recoveries
// keep the id).
func (l *lifecycle) waitConnects(t *testing.T, id string, n int) {
	t.Helper()
	l.wait(t, "reconnection of "+id, 15*time.Second, func() bool { return len(l.connects[id]) >= n })
}

func (l *lifecycle) count(reason string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byReason[reason]
}

// driver starts the official socket.io-client driver against url.
func driver(t *testing.T, url string) *testutil.Proc {
	t.Helper()
	p := testutil.StartNode(t, "sio-driver.mjs", url)
	p.ExpectEv("ready", "")
	return p
}
