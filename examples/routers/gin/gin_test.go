package main

import (
	"net/http/httptest"
	"testing"

	"github.com/gosio/socketio/internal/testutil"
)

// TestRouter runs the official socket.io-client against the example over
// WebSocket, polling, and polling upgraded to WebSocket: the seed's
// exchange for an authenticated user, who reaches the socket through the
// request's context, and a connect_error for an anonymous client.
func TestRouter(t *testing.T) {
	io, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(newRouter(io))
	t.Cleanup(func() { hs.Close(); _ = io.Close() })

	for _, m := range testutil.Modes {
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			p := testutil.SeedExchange(t, hs.URL, m.Transports, map[string]any{
				"extraHeaders": map[string]string{"Authorization": "Bearer ana"},
			})
			if got := p.Call("a", "whoami"); len(got) != 1 || got[0] != "ana" {
				t.Fatalf("whoami = %v, want [ana]", got)
			}
			p.Send(map[string]any{"cmd": "connect", "c": "anon", "transports": m.Transports})
			if e := p.ExpectEv("connect_error", "anon"); e.Str("message") != "unauthorized" {
				t.Fatalf("anonymous client: %v", e)
			}
		})
	}
}
