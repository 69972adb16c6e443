package engineio

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type userKey struct{}

// TestRequestContext: with KeepRequestContext, what a net/http middleware
// puts into the request's context is readable from the session's Request
// for as long as the session lives, without the request's cancellation or
// deadline: for a polling handshake (the GET's context, not the upgrade
// request's after an upgrade) and for a WebSocket-only client (the upgrade
// request's).
func TestRequestContext(t *testing.T) {
	srv, err := NewServer(Config{SessionContext: KeepRequestContext})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	rec.attach(srv)
	// The middleware names the user after the X-User header and gives the
	// request a short deadline, as a timeout middleware would.
	mw := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), userKey{}, r.Header.Get("X-User")), 30*time.Second)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	hs := httptest.NewServer(mw(srv))
	defer func() { hs.Close(); _ = srv.Close() }()

	check := func(t *testing.T, c *Conn, user string) {
		t.Helper()
		ctx := c.Request().Context()
		if got, _ := ctx.Value(userKey{}).(string); got != user {
			t.Errorf("user %q, want %q", got, user)
		}
		if _, ok := ctx.Deadline(); ok || ctx.Done() != nil || ctx.Err() != nil {
			t.Errorf("the session's context keeps the request's deadline or cancellation: err %v", ctx.Err())
		}
		if ctx.Value(http.ServerContextKey) == nil {
			t.Error("net/http's own values are gone")
		}
	}

	t.Run("polling", func(t *testing.T) {
		r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling"), "", http.Header{"X-User": {"ana"}})
		sid := sidOf(t, r.body)
		c := srv.Conn(sid)
		check(t, c, "ana")
		// The upgrade request has its own user; the session keeps the
		// handshake's.
		ws, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket&sid="+sid, http.Header{"X-User": {"eve"}})
		if err != nil {
			t.Fatal(err)
		}
		ws.Send("2probe")
		expect(t, ws, "3probe")
		ws.Send("5")
		waitFor(t, func() bool { return c.Transport() == WebSocket })
		check(t, c, "ana")
	})
	t.Run("websocket", func(t *testing.T) {
		ws, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", http.Header{"X-User": {"bob"}})
		if err != nil {
			t.Fatal(err)
		}
		check(t, srv.Conn(sidOf(t, ws.Next().Data)), "bob")
	})
	t.Run("not from the server", func(t *testing.T) {
		var r Request
		if ctx := r.Context(); ctx == nil || ctx.Value(userKey{}) != nil {
			t.Fatalf("zero Request's context: %v", ctx)
		}
	})
}

// TestSessionContextChoice: without SessionContext the session keeps
// nothing of the request's context; a SessionContext keeps what it
// returns (here one value, not net/http's own), without cancellation; one
// that returns nil keeps nothing. (A panicking one: TestHookPanicAnswers500.)
func TestSessionContextChoice(t *testing.T) {
	withUser := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, r.Header.Get("X-User"))))
		})
	}
	onlyUser := func(r *http.Request) context.Context {
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), userKey{}, r.Context().Value(userKey{})))
		cancel() // the session must not see this cancellation
		return ctx
	}
	tests := []struct {
		name     string
		keep     func(*http.Request) context.Context
		user     string
		netHTTPs bool // net/http's own values are there
	}{
		{"default", nil, "", false},
		{"keep all", KeepRequestContext, "ana", true},
		{"one value", onlyUser, "ana", false},
		{"nil", func(*http.Request) context.Context { return nil }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := NewServer(Config{SessionContext: tt.keep})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(withUser(srv))
			defer func() { hs.Close(); _ = srv.Close() }()
			for _, transport := range []string{Polling, WebSocket} {
				var c *Conn
				if transport == Polling {
					r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=polling"), "", http.Header{"X-User": {"ana"}})
					c = srv.Conn(sidOf(t, r.body))
				} else {
					ws, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", http.Header{"X-User": {"ana"}})
					if err != nil {
						t.Fatal(err)
					}
					c = srv.Conn(sidOf(t, ws.Next().Data))
				}
				ctx := c.Request().Context()
				if got, _ := ctx.Value(userKey{}).(string); got != tt.user {
					t.Errorf("%s: user %q, want %q", transport, got, tt.user)
				}
				if got := ctx.Value(http.ServerContextKey) != nil; got != tt.netHTTPs {
					t.Errorf("%s: net/http's values kept: %v, want %v", transport, got, tt.netHTTPs)
				}
				if ctx.Done() != nil || ctx.Err() != nil {
					t.Errorf("%s: the session's context can be canceled: %v", transport, ctx.Err())
				}
			}
		})
	}
}
