package engineio

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// A panic in a user hook of the HTTP path answers 500 and is logged with
// its stack; the server goes on serving.
func TestHookPanicAnswers500(t *testing.T) {
	boom := func() { panic("hook exploded") }
	for _, tc := range []struct {
		name  string
		cfg   Config
		query string
		ws    bool
		hdr   http.Header
	}{
		{"AllowRequest", Config{AllowRequest: func(*http.Request) error { boom(); return nil }}, "EIO=4&transport=polling", false, nil},
		{"AllowRequest over websocket", Config{AllowRequest: func(*http.Request) error { boom(); return nil }}, "EIO=4&transport=websocket", true, nil},
		{"Headers", Config{Headers: func(http.Header, *http.Request) { boom() }}, "EIO=4&transport=polling", false, nil},
		{"InitialHeaders", Config{InitialHeaders: func(http.Header, *http.Request) { boom() }}, "EIO=4&transport=polling", false, nil},
		{"InitialHeaders over websocket", Config{InitialHeaders: func(http.Header, *http.Request) { boom() }}, "EIO=4&transport=websocket", true, nil},
		{"CORS AllowOrigin", Config{CORS: &CORS{AllowOrigin: func(string, *http.Request) bool { boom(); return true }}},
			"EIO=4&transport=polling", false, http.Header{"Origin": {"http://elsewhere.example"}}},
		{"GenerateID", Config{GenerateID: func(*http.Request) (string, error) { boom(); return "", nil }}, "EIO=4&transport=polling", false, nil},
		{"SessionContext", Config{SessionContext: func(*http.Request) context.Context { boom(); return nil }}, "EIO=4&transport=polling", false, nil},
		{"SessionContext over websocket", Config{SessionContext: func(*http.Request) context.Context { boom(); return nil }}, "EIO=4&transport=websocket", true, nil},
		{"OnConnectionError", Config{OnConnectionError: func(*RequestError) { boom() }}, "EIO=3&transport=polling", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var mu sync.Mutex
			tc.cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&logs, &mu}, nil))
			_, _, hs := startServer(t, tc.cfg)
			status := 0
			if tc.ws {
				_, res, err := dialWS(t, hs.URL, tc.query, tc.hdr)
				if err == nil {
					t.Fatal("WebSocket handshake accepted")
				}
				if res != nil {
					status = res.StatusCode
				}
			} else {
				status = do(t, "GET", pollURL(hs.URL, tc.query), "", tc.hdr).status
			}
			if status != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500", status)
			}
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			if !strings.Contains(out, "hook exploded") || !strings.Contains(out, "goroutine") || !strings.Contains(out, "hookpanic_test.go") {
				t.Fatalf("log without the panic and its stack:\n%s", out)
			}
		})
	}
}
