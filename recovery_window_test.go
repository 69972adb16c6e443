package socketio_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
)

// hookedMemory is the in-memory adapter with a hook called at each step
// of a session's recovery, where the test broadcasts.
type hookedMemory struct {
	*adapter.Memory
	hook func(step string)
}

func (a *hookedMemory) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	a.hook("before RestoreSession")
	s, err := a.Memory.RestoreSession(ctx, pid, offset)
	a.hook("after RestoreSession")
	return s, err
}

func (a *hookedMemory) TakeSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	a.hook("before TakeSession")
	s, err := a.Memory.TakeSession(ctx, pid, offset)
	a.hook("after TakeSession")
	return s, err
}

func (a *hookedMemory) MissedPackets(ctx context.Context, rooms []adapter.Room, offset string) ([]adapter.MissedPacket, error) {
	a.hook("before MissedPackets")
	m, err := a.Memory.MissedPackets(ctx, rooms, offset)
	a.hook("after MissedPackets")
	return m, err
}

// singleStep hides the two-step restore: the server calls RestoreSession.
type singleStep struct{ adapter.Adapter }

// A broadcast published at any point of a session's recovery reaches the
// recovering client exactly once, in order: before the session is taken
// (a missed packet), after it is taken and before the rooms are joined (a
// missed packet), after the join and before the missed packets are read
// (missed and live: written once), after the read (live, held until the
// missed packets are written), in a middleware (RunMiddlewares), and in
// the connection handler. Each step broadcasts the next number to the
// client's room; the client must get 0, 1, 2, ... with nothing twice.
// An adapter without SessionRestorer still recovers (RestoreSession), with
// broadcasts before it only: it has the window this fixes.
func TestRecoveryWindowBroadcasts(t *testing.T) {
	for _, tc := range []struct {
		name        string
		transports  []string
		middlewares bool
		singleStep  bool
		steps       []string // the hooks expected to run, in order
	}{
		{"websocket", []string{"websocket"}, false, false,
			[]string{"before TakeSession", "after TakeSession", "before MissedPackets", "after MissedPackets", "connection"}},
		{"polling", []string{"polling"}, false, false,
			[]string{"before TakeSession", "after TakeSession", "before MissedPackets", "after MissedPackets", "connection"}},
		{"websocket, middlewares", []string{"websocket"}, true, false,
			[]string{"before TakeSession", "after TakeSession", "before MissedPackets", "after MissedPackets", "middleware", "connection"}},
		{"polling, middlewares", []string{"polling"}, true, false,
			[]string{"before TakeSession", "after TakeSession", "before MissedPackets", "after MissedPackets", "middleware", "connection"}},
		{"single-step adapter", []string{"websocket"}, false, true,
			[]string{"before RestoreSession", "connection"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var (
				mu      sync.Mutex
				io      *socketio.Server
				next    int  // the next number to broadcast
				armed   bool // the client is away: the hooks broadcast
				steps   []string
				removed = make(chan struct{}, 1)
			)
			broadcast := func(step string) {
				mu.Lock()
				defer mu.Unlock()
				if !armed {
					return
				}
				if step != "after RestoreSession" { // the known window of a single-step adapter
					steps = append(steps, step)
					if err := io.To("r").Emit("n", next); err != nil {
						t.Errorf("%s: broadcast %d: %v", step, next, err)
					}
					next++
				}
				if step == "connection" {
					armed = false // the last one
				}
			}
			var err error
			io, err = socketio.NewServer(socketio.Config{
				ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute, RunMiddlewares: tc.middlewares},
				Adapter: func(nsp adapter.Namespace) (adapter.Adapter, error) {
					m, err := adapter.NewMemory(nsp)
					if err != nil {
						return nil, err
					}
					h := &hookedMemory{Memory: m.(*adapter.Memory), hook: broadcast}
					if tc.singleStep {
						return singleStep{h}, nil
					}
					return h, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			io.Use(func(s *socketio.Socket) error {
				if s.Recovered() {
					broadcast("middleware")
				}
				return nil
			})
			io.OnConnection(func(s *socketio.Socket) {
				if s.Recovered() {
					broadcast("connection")
				} else {
					s.Join("r")
				}
				s.On("kick", func(*socketio.Event) { _ = s.Conn().Close() })
				s.OnDisconnect(func(string) { removed <- struct{}{} })
			})
			hs := httptest.NewServer(io)
			defer func() { hs.Close(); _ = io.Close() }()

			c, err := client.Dial(ctx, hs.URL, &client.Options{
				Transports: tc.transports, ReconnectionDelay: 300 * time.Millisecond, RandomizationFactor: -1,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			expect := func(want int) {
				t.Helper()
				ev, err := c.Receive(ctx)
				if err != nil {
					t.Fatalf("waiting for %d: %v", want, err)
				}
				var got int
				var offset string
				if ev.Name != "n" || ev.Bind(&got, &offset) != nil || offset == "" {
					t.Fatalf("waiting for %d: got %s %v", want, ev.Name, ev.Args())
				}
				if got != want {
					t.Fatalf("got %d, want %d (steps %q)", got, want, steps)
				}
			}
			mu.Lock()
			_ = io.To("r").Emit("n", next) // the client's offset
			next++
			mu.Unlock()
			expect(0)
			id := c.ID()

			if err := c.Emit("kick"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-removed: // the session is stored
			case <-ctx.Done():
				t.Fatal("the server never saw the client go")
			}
			mu.Lock()
			armed = true
			_ = io.To("r").Emit("n", next) // missed while away
			next++
			mu.Unlock()

			for want := 1; ; want++ {
				mu.Lock()
				done, last := !armed, next-1
				mu.Unlock()
				if done && want > last {
					break
				}
				expect(want)
			}
			if !c.Recovered() || c.ID() != id {
				t.Fatalf("recovered=%v id %s, want the session of %s", c.Recovered(), c.ID(), id)
			}
			mu.Lock()
			got := steps
			n := next
			mu.Unlock()
			if len(got) != len(tc.steps) {
				t.Fatalf("steps %q, want %q", got, tc.steps)
			}
			for i := range got {
				if got[i] != tc.steps[i] {
					t.Fatalf("steps %q, want %q", got, tc.steps)
				}
			}
			// Live, then nothing more: no duplicate.
			if err := io.To("r").Emit("n", n); err != nil {
				t.Fatal(err)
			}
			expect(n)
			qctx, qcancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer qcancel()
			if ev, err := c.Receive(qctx); err == nil {
				t.Fatalf("after %d: %s %v (a duplicate?)", n, ev.Name, ev.Args())
			}
		})
	}
}

// failingMemory is the in-memory adapter whose MissedPackets runs a hook
// first and may fail.
type failingMemory struct {
	*adapter.Memory
	mu   sync.Mutex
	hook func() error // nil: none
}

func (a *failingMemory) MissedPackets(ctx context.Context, rooms []adapter.Room, offset string) ([]adapter.MissedPacket, error) {
	a.mu.Lock()
	hook := a.hook
	a.mu.Unlock()
	if hook != nil {
		if err := hook(); err != nil {
			return nil, err
		}
	}
	return a.Memory.MissedPackets(ctx, rooms, offset)
}

// When a recovery fails after the session was taken and the socket joined
// its rooms (its missed packets cannot be read, it is sent more broadcasts
// while catching up than its connection may queue, its missed packets do
// not fit in its connection's queue, its connection closes meanwhile),
// nothing of it stays in the rooms, and the client gets a fresh session
// (at once, or when it connects again) instead of failing again and again.
func TestRecoveryWindowFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		// hook runs before the missed packets are read; the client is c.
		hook func(io *socketio.Server, c *client.Socket) error
		// away runs while the client is away.
		away func(io *socketio.Server)
	}{
		{"missed packets unreadable", func(*socketio.Server, *client.Socket) error {
			return errors.New("broker unreachable")
		}, nil},
		{"too many broadcasts while catching up", func(io *socketio.Server, _ *client.Socket) error {
			big := strings.Repeat("x", 4096)
			for i := range 64 { // 256 KiB for a 64 KiB bound
				_ = io.To("r").Emit("big", i, big)
			}
			return nil
		}, nil},
		{"connection closed while restoring", func(_ *socketio.Server, c *client.Socket) error {
			_ = c.Manager().Close()
			time.Sleep(50 * time.Millisecond)
			return nil
		}, nil},
		{"missed packets overflow the connection", func(*socketio.Server, *client.Socket) error { return nil },
			func(io *socketio.Server) {
				big := strings.Repeat("x", 4096)
				for i := range 64 { // 256 KiB for a 64 KiB bound, written while catching up
					_ = io.To("r").Emit("big", i, big)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var fm *failingMemory
			io, err := socketio.NewServer(socketio.Config{
				ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute},
				Engine:                  engineio.Config{MaxBufferedBytes: 64 << 10},
				Adapter: func(nsp adapter.Namespace) (adapter.Adapter, error) {
					m, err := adapter.NewMemory(nsp)
					if err != nil {
						return nil, err
					}
					fm = &failingMemory{Memory: m.(*adapter.Memory)}
					return fm, nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			gone := make(chan struct{}, 4)
			io.OnConnection(func(s *socketio.Socket) {
				if !s.Recovered() {
					s.Join("r")
				}
				s.On("kick", func(*socketio.Event) { _ = s.Conn().Close() })
				s.OnDisconnect(func(string) {
					select {
					case gone <- struct{}{}:
					default:
					}
				})
			})
			hs := httptest.NewServer(io)
			defer func() { hs.Close(); _ = io.Close() }()
			c, err := client.Dial(ctx, hs.URL, &client.Options{
				Transports: []string{"websocket"}, ReconnectionDelay: 100 * time.Millisecond, RandomizationFactor: -1,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = c.Close() }()
			_ = io.To("r").Emit("n", 0)
			if ev, err := c.Receive(ctx); err != nil || ev.Name != "n" {
				t.Fatalf("first event: %v %v", ev, err)
			}
			id := c.ID()
			ran := make(chan struct{})
			fm.mu.Lock()
			fm.hook = func() error {
				defer func() {
					fm.mu.Lock()
					fm.hook = nil
					fm.mu.Unlock()
					close(ran)
				}()
				return tc.hook(io, c)
			}
			fm.mu.Unlock()
			if err := c.Emit("kick"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-gone: // the session is stored
			case <-ctx.Done():
				t.Fatal("the server never saw the client go")
			}
			if tc.away != nil {
				tc.away(io)
			}
			select {
			case <-ran:
			case <-ctx.Done():
				t.Fatal("the recovery never read the missed packets")
			}
			closed := tc.name == "connection closed while restoring"
			nsp := io.MainNamespace()
			for {
				// Nothing of id is left in the rooms, and the client is back
				// (unless its Manager was closed).
				if nsp.Adapter().SocketRooms(id) == nil && (closed || c.Connected()) {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("socket %s in the rooms: %v; client connected %v", id, nsp.Adapter().SocketRooms(id), c.Connected())
				}
				time.Sleep(20 * time.Millisecond)
			}
			want := []string{}
			if !closed {
				if c.ID() == id || c.Recovered() {
					t.Fatalf("reconnected as %s (was %s), recovered %v: want a fresh session", c.ID(), id, c.Recovered())
				}
				want = []string{c.ID()} // joined by the connection handler
			}
			deadline := time.Now().Add(2 * time.Second)
			for {
				ids := nsp.In("r").SocketIDs()
				if len(ids) == len(want) && (len(ids) == 0 || ids[0] == want[0]) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("room r has %v, want %v", ids, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
