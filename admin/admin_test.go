package admin_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/admin"
	"github.com/gosio/socketio/client"
)

// Instrument refuses options it cannot honour, starting with a missing
// Auth (the explicit choice Node requires too).
func TestInstrumentOptions(t *testing.T) {
	type embedded struct{ admin.Basic }
	for _, tc := range []struct {
		name string
		opts admin.Options
		err  string // "" for success
	}{
		{"no auth", admin.Options{}, "the Auth option must be set"},
		{"plaintext password", admin.Options{Auth: admin.Basic{Username: "admin", PasswordHash: "changeit"}}, "must be a bcrypt hash"},
		{"other auth", admin.Options{Auth: embedded{admin.Basic{Username: "a", PasswordHash: adminHash}}}, "unknown Auth"},
		{"namespace", admin.Options{Auth: admin.NoAuth, NamespaceName: "admin"}, "must start with /"},
		{"mode", admin.Options{Auth: admin.NoAuth, Mode: "test"}, "unknown Mode"},
		{"interval", admin.Options{Auth: admin.NoAuth, StatsInterval: -time.Second}, "negative StatsInterval"},
		{"no auth, explicitly", admin.Options{Auth: admin.NoAuth}, ""},
		{"basic", admin.Options{Auth: admin.Basic{Username: "admin", PasswordHash: adminHash}, NamespaceName: "/ops", Mode: admin.Production}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			io, err := socketio.NewServer(socketio.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer io.Close()
			in, err := admin.Instrument(io, tc.opts)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close()
				want := tc.opts.NamespaceName
				if want == "" {
					want = admin.DefaultNamespace
				}
				if in.Namespace().Name() != want || in.ServerID() == "" {
					t.Errorf("namespace %s, server id %q", in.Namespace().Name(), in.ServerID())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Instrument: %v, want an error with %q", err, tc.err)
			}
			if tc.opts.Auth == nil && !errors.Is(err, admin.ErrAuthRequired) {
				t.Errorf("%v is not ErrAuthRequired", err)
			}
		})
	}
}

// The in-memory store keeps sessions for its time to live (for ever with
// 0).
func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		ttl   time.Duration
		wait  time.Duration
		after bool
	}{
		{0, 30 * time.Millisecond, true},
		{time.Hour, 30 * time.Millisecond, true},
		{10 * time.Millisecond, 30 * time.Millisecond, false},
	} {
		m := admin.NewMemoryStore(tc.ttl)
		if err := m.SaveSession(ctx, "abc"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := m.SessionExists(ctx, "abc"); !ok {
			t.Errorf("ttl %v: a saved session is unknown", tc.ttl)
		}
		if ok, _ := m.SessionExists(ctx, "abd"); ok {
			t.Errorf("ttl %v: an unknown session exists", tc.ttl)
		}
		time.Sleep(tc.wait)
		if ok, _ := m.SessionExists(ctx, "abc"); ok != tc.after {
			t.Errorf("ttl %v: after %v the session exists: %v, want %v", tc.ttl, tc.wait, ok, tc.after)
		}
	}
}

// dialAdmin connects the Go client to the admin namespace of url.
func dialAdmin(ctx context.Context, url string, auth any) (*client.Socket, error) {
	return client.Dial(ctx, url+"/admin", &client.Options{
		Transports: []string{"websocket"},
		Socket:     client.SocketOptions{Auth: auth},
	})
}

// A $2y$ hash (PHP's, or a rewritten bcryptjs one) logs in as a $2a$ one
// does, and only with the right password.
func TestBcryptPrefixes(t *testing.T) {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			hash := prefix + strings.TrimPrefix(adminHash, adminHash[:4])
			a := newApp(t, admin.Options{Auth: admin.Basic{Username: adminUser, PasswordHash: hash}}, socketio.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, err := dialAdmin(ctx, a.url, map[string]any{"username": adminUser, "password": adminPassword})
			if err != nil {
				t.Fatalf("login with a %s hash: %v", prefix, err)
			}
			_ = s.Close()
			_, err = dialAdmin(ctx, a.url, map[string]any{"username": adminUser, "password": "changeiT"})
			var ce *client.ConnectError
			if !errors.As(err, &ce) || ce.Message != "invalid credentials" {
				t.Fatalf("wrong password: %v", err)
			}
		})
	}
}

// Close stops the statistics (its goroutine has returned when it does),
// disconnects the admin sockets and refuses new ones; the server goes on.
func TestClose(t *testing.T) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	in, err := admin.Instrument(io, admin.Options{Auth: admin.NoAuth, StatsInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(io)
	defer func() {
		hs.Close()
		_ = io.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ui, err := dialAdmin(ctx, hs.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	stats := make(chan struct{}, 100)
	ui.On("server_stats", func(*client.Event) {
		select {
		case stats <- struct{}{}:
		default:
		}
	})
	disconnected := make(chan string, 1)
	ui.OnDisconnect(func(reason string) { disconnected <- reason })
	for range 2 {
		select {
		case <-stats:
		case <-ctx.Done():
			t.Fatal("no server_stats")
		}
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-disconnected:
		if r != "io server disconnect" {
			t.Errorf("admin socket disconnected with %q", r)
		}
	case <-ctx.Done():
		t.Fatal("Close left the admin socket connected")
	}
	_, err = dialAdmin(ctx, hs.URL, nil)
	var ce *client.ConnectError
	if !errors.As(err, &ce) {
		t.Errorf("connection after Close: %v, want a connect error", err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	app, err := client.Dial(ctx, hs.URL, &client.Options{Transports: []string{"websocket"}})
	if err != nil {
		t.Fatalf("the server after Close: %v", err)
	}
	_ = app.Close()
}
