package engineio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// badEnv is the server under test plus a healthy session that must keep
// working whatever the other cases do.
type badEnv struct {
	base    string
	rec     *recorder
	healthy string
}

// check proves the healthy session still exchanges messages.
func (e *badEnv) check(t *testing.T) {
	t.Helper()
	if r := do(t, "POST", pollURL(e.base, sidQuery(e.healthy)), "4still-alive", nil); r.status != 200 || r.body != "ok" {
		t.Fatalf("healthy POST: %d %q", r.status, r.body)
	}
	if r := do(t, "GET", pollURL(e.base, sidQuery(e.healthy)), "", nil); r.status != 200 || !strings.Contains(r.body, "4still-alive") {
		t.Fatalf("healthy GET: %d %q", r.status, r.body)
	}
}

func jsonErr(code int, msg string) string {
	return `{"code":` + string(rune('0'+code)) + `,"message":"` + msg + `"}`
}

// TestMalformedRequests sends one malformed request or packet per case and
// asserts the exact answer (status and body, or the close reason of the
// session it targets), while a healthy session on the same server keeps
// working.
func TestMalformedRequests(t *testing.T) {
	srv, err := NewServer(Config{
		MaxPayload: 1000,
		AllowRequest: func(r *http.Request) error {
			if r.Header.Get("X-Refuse") != "" {
				return errors.New("refused by test")
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	rec.attach(srv)
	hs := httptest.NewServer(srv)
	defer func() {
		hs.Close()
		_ = srv.Close()
	}()
	env := &badEnv{base: hs.URL, rec: rec}
	env.healthy = openPolling(t, hs.URL)

	// Simple requests: status and exact body.
	reqs := []struct {
		name   string
		method string
		query  string
		hdr    http.Header
		body   string
		status int
		want   string
	}{
		{"no transport", "GET", "EIO=4", nil, "", 400, jsonErr(0, "Transport unknown")},
		{"unknown transport", "GET", "EIO=4&transport=abc", nil, "", 400, jsonErr(0, "Transport unknown")},
		{"webtransport", "GET", "EIO=4&transport=webtransport", nil, "", 400, jsonErr(0, "Transport unknown")},
		{"empty transport", "GET", "EIO=4&transport=", nil, "", 400, jsonErr(0, "Transport unknown")},
		{"no EIO", "GET", "transport=polling", nil, "", 400, jsonErr(5, "Unsupported protocol version")},
		{"EIO=3", "GET", "EIO=3&transport=polling", nil, "", 400, jsonErr(5, "Unsupported protocol version")},
		{"EIO=5", "GET", "EIO=5&transport=polling", nil, "", 400, jsonErr(5, "Unsupported protocol version")},
		{"EIO garbage", "GET", "EIO=four&transport=polling", nil, "", 400, jsonErr(5, "Unsupported protocol version")},
		{"handshake POST", "POST", "EIO=4&transport=polling", nil, "4x", 400, jsonErr(2, "Bad handshake method")},
		{"handshake PUT", "PUT", "EIO=4&transport=polling", nil, "", 400, jsonErr(2, "Bad handshake method")},
		{"handshake DELETE", "DELETE", "EIO=4&transport=polling", nil, "", 400, jsonErr(2, "Bad handshake method")},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, "", 400, jsonErr(3, "Bad request")},
		{"unknown sid GET", "GET", "EIO=4&transport=polling&sid=nope", nil, "", 400, jsonErr(1, "Session ID unknown")},
		{"unknown sid POST", "POST", "EIO=4&transport=polling&sid=nope", nil, "4x", 400, jsonErr(1, "Session ID unknown")},
		{"cross origin", "GET", "EIO=4&transport=polling", http.Header{"Origin": {"http://evil.example"}}, "", 403, jsonErr(4, "Forbidden")},
		{"AllowRequest refuses", "GET", "EIO=4&transport=polling", http.Header{"X-Refuse": {"1"}}, "", 403, jsonErr(4, "refused by test")},
		{"websocket upgrade unknown sid", "GET", "EIO=4&transport=websocket&sid=nope", wsHeaders(), "", 400, "Session ID unknown"},
		{"websocket upgrade EIO=3", "GET", "EIO=3&transport=websocket", wsHeaders(), "", 400, "Unsupported protocol version"},
		{"websocket upgrade bad transport", "GET", "EIO=4&transport=flash", wsHeaders(), "", 400, "Transport unknown"},
		{"websocket upgrade refused", "GET", "EIO=4&transport=websocket", withHeader(wsHeaders(), "X-Refuse", "1"), "", 403, "refused by test"},
		{"websocket upgrade cross origin", "GET", "EIO=4&transport=websocket", withHeader(wsHeaders(), "Origin", "http://evil.example"), "", 403, "Forbidden"},
	}
	for _, tt := range reqs {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, pollURL(hs.URL, tt.query), tt.body, tt.hdr)
			if r.status != tt.status || r.body != tt.want {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tt.status, tt.want)
			}
			env.check(t)
		})
	}

	// Requests against a session: the answer, then the session's fate.
	sess := []struct {
		name   string
		method string
		hdr    http.Header
		body   string
		status int
		want   string
		reason string // "" means the session must stay open
		// after is what the first GET after the close gets: the close
		// answer after an orderly close, 400 after a failure.
		after string
	}{
		{"POST garbage", "POST", nil, "abc", 400, jsonErr(3, "Bad request"), ReasonParseError, ""},
		{"POST empty body", "POST", nil, "", 400, jsonErr(3, "Bad request"), ReasonParseError, ""},
		{"POST bad base64", "POST", nil, "b!!!", 400, jsonErr(3, "Bad request"), ReasonParseError, ""},
		{"POST empty record", "POST", nil, "4a\x1e", 400, jsonErr(3, "Bad request"), ReasonParseError, ""},
		{"POST unknown type", "POST", nil, "4a\x1e9x", 400, jsonErr(3, "Bad request"), ReasonParseError, ""},
		{"POST client ping", "POST", nil, "2", 200, "ok", ReasonTransportError, ""},
		{"POST close", "POST", nil, "1", 200, "ok", ReasonTransportClose, "6"},
		{"POST binary content type", "POST", http.Header{"Content-Type": {"application/octet-stream"}}, "4a", 400, jsonErr(3, "Bad request"), ReasonTransportError, ""},
		{"POST over MaxPayload", "POST", nil, "4" + strings.Repeat("x", 2000), 413, "payload too large", "", ""},
		{"PUT on a session", "PUT", nil, "", 500, "unsupported method", "", ""},
		{"POST noop and upgrade ignored", "POST", nil, "6\x1e5", 200, "ok", "", ""},
	}
	for _, tt := range sess {
		t.Run(tt.name, func(t *testing.T) {
			sid := openPolling(t, hs.URL)
			r := do(t, tt.method, pollURL(hs.URL, sidQuery(sid)), tt.body, tt.hdr)
			if r.status != tt.status || r.body != tt.want {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tt.status, tt.want)
			}
			if tt.reason == "" {
				if !rec.open(sid) {
					t.Fatalf("session closed (%s), want it open", rec.reason(t, sid))
				}
				if r := do(t, "POST", pollURL(hs.URL, sidQuery(sid)), "4again", nil); r.status != 200 {
					t.Fatalf("session unusable after the bad request: %d %q", r.status, r.body)
				}
			} else {
				if got := rec.reason(t, sid); got != tt.reason {
					t.Fatalf("close reason %q, want %q", got, tt.reason)
				}
				if tt.after != "" {
					// The GET the client had in flight gets the close
					// answer; the sid is unknown after it.
					if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.status != 200 || r.body != tt.after {
						t.Fatalf("first GET after close: %d %q, want 200 %q", r.status, r.body, tt.after)
					}
				}
				if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.status != 400 || r.body != jsonErr(1, "Session ID unknown") {
					t.Fatalf("GET after close: %d %q", r.status, r.body)
				}
			}
			env.check(t)
		})
	}

	t.Run("duplicate GET", func(t *testing.T) {
		sid := openPolling(t, hs.URL)
		held := make(chan rawResp, 1)
		go func() { held <- do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil) }()
		waitFor(t, func() bool { return sessionGetActive(srv, sid) })
		r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil)
		if r.status != 400 || r.body != "" {
			t.Fatalf("second GET: %d %q, want 400 with no body", r.status, r.body)
		}
		if h := <-held; h.status != 200 || h.body != "1" {
			t.Fatalf("held GET: %d %q, want 200 \"1\"", h.status, h.body)
		}
		if got := rec.reason(t, sid); got != ReasonTransportError {
			t.Fatalf("reason %q", got)
		}
		env.check(t)
	})

	t.Run("overlapping POST", func(t *testing.T) {
		sid := openPolling(t, hs.URL)
		pr, pw := io.Pipe()
		first := make(chan int, 1)
		go func() {
			req, _ := http.NewRequest("POST", pollURL(hs.URL, sidQuery(sid)), pr)
			req.Header.Set("Content-Type", "text/plain")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				first <- 0
				return
			}
			res.Body.Close()
			first <- res.StatusCode
		}()
		_, _ = pw.Write([]byte("4par"))
		waitFor(t, func() bool { return sessionPostActive(srv, sid) })
		r := do(t, "POST", pollURL(hs.URL, sidQuery(sid)), "4x", nil)
		if r.status != 400 || r.body != "" {
			t.Fatalf("second POST: %d %q", r.status, r.body)
		}
		_ = pw.Close()
		<-first
		if got := rec.reason(t, sid); got != ReasonTransportError {
			t.Fatalf("reason %q", got)
		}
		env.check(t)
	})

	t.Run("aborted GET", func(t *testing.T) {
		sid := openPolling(t, hs.URL)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", pollURL(hs.URL, sidQuery(sid)), nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		waitFor(t, func() bool { return sessionGetActive(srv, sid) })
		cancel()
		if got := rec.reason(t, sid); got != ReasonTransportError {
			t.Fatalf("reason %q", got)
		}
		env.check(t)
	})

	t.Run("websocket bad packets", func(t *testing.T) {
		for _, tc := range []struct {
			name, frame string
			binary      bool
			reason      string
		}{
			{"garbage text", "abc", false, ReasonParseError},
			{"empty text", "", false, ReasonParseError},
			{"bad base64", "b%%%", false, ReasonParseError},
			{"client ping", "2", false, ReasonTransportError},
			{"oversized binary", strings.Repeat("y", 2000), true, ReasonTransportError},
			{"close packet", "1", false, ReasonTransportClose},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket", nil)
				if err != nil {
					t.Fatal(err)
				}
				open := c.Next()
				sid := sidOf(t, open.Data)
				if tc.binary {
					_ = c.Conn.WriteMessage(2, []byte(tc.frame))
				} else {
					c.Send(tc.frame)
				}
				if got := rec.reason(t, sid); got != tc.reason {
					t.Fatalf("reason %q, want %q", got, tc.reason)
				}
				c.WaitClosed()
				env.check(t)
			})
		}
	})

	t.Run("probe misuse", func(t *testing.T) {
		for _, tc := range []struct{ name, first string }{
			{"upgrade before probe", "5"},
			{"message on probe", "4hello"},
			{"garbage on probe", "zzz"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sid := openPolling(t, hs.URL)
				c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket&sid="+sid, nil)
				if err != nil {
					t.Fatal(err)
				}
				c.Send(tc.first)
				c.WaitClosed()
				if !rec.open(sid) {
					t.Fatal("a failed probe closed the session")
				}
				if r := do(t, "POST", pollURL(hs.URL, sidQuery(sid)), "4on-polling", nil); r.status != 200 {
					t.Fatalf("session not usable on polling: %d %q", r.status, r.body)
				}
				if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.body != "4on-polling" {
					t.Fatalf("poll = %q", r.body)
				}
				env.check(t)
			})
		}
	})

	t.Run("after upgrade", func(t *testing.T) {
		sid := openPolling(t, hs.URL)
		c, _, err := dialWS(t, hs.URL, "EIO=4&transport=websocket&sid="+sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Send("2probe")
		expect(t, c, "3probe")
		c.Send("5")
		waitFor(t, func() bool { return srv.Conn(sid) != nil && srv.Conn(sid).Transport() == WebSocket })
		if r := do(t, "GET", pollURL(hs.URL, sidQuery(sid)), "", nil); r.status != 400 || r.body != jsonErr(3, "Bad request") {
			t.Fatalf("GET after upgrade: %d %q", r.status, r.body)
		}
		if r := do(t, "POST", pollURL(hs.URL, sidQuery(sid)), "4x", nil); r.status != 400 || r.body != jsonErr(3, "Bad request") {
			t.Fatalf("POST after upgrade: %d %q", r.status, r.body)
		}
		// As in Node, a second WebSocket is accepted and closed at once
		// (status 1000); the session goes on.
		r := do(t, "GET", pollURL(hs.URL, "EIO=4&transport=websocket&sid="+sid), "", wsHeaders())
		if r.status != 101 || r.body != "\x88\x02\x03\xe8" {
			t.Fatalf("second websocket: %d %q, want 101 and a close frame", r.status, r.body)
		}
		c.Send("4over-ws")
		expect(t, c, "4over-ws")
		if !rec.open(sid) {
			t.Fatal("session closed")
		}
		env.check(t)
	})

	t.Run("not the engine.io path", func(t *testing.T) {
		r := do(t, "GET", hs.URL+"/engine.io/other?EIO=4&transport=polling", "", nil)
		if r.status != 404 {
			t.Fatalf("status %d", r.status)
		}
		env.check(t)
	})
}

func wsHeaders() http.Header {
	return http.Header{
		"Connection":            {"Upgrade"},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Version": {"13"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
	}
}

func withHeader(h http.Header, k, v string) http.Header {
	h.Set(k, v)
	return h
}

func sessionGetActive(s *Server, sid string) bool {
	c := s.Conn(sid)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.getActive
}

func sessionPostActive(s *Server, sid string) bool {
	c := s.Conn(sid)
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.postActive
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sidOf(t *testing.T, open string) string {
	t.Helper()
	i := strings.Index(open, `"sid":"`)
	if !strings.HasPrefix(open, "0{") || i < 0 {
		t.Fatalf("not an open packet: %q", open)
	}
	rest := open[i+7:]
	return rest[:strings.IndexByte(rest, '"')]
}
