package engineio

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The origin policy compares scheme, host and port exactly, and refuses
// Origin headers that are not plain origins (userinfo, path, query).
func TestOriginPolicy(t *testing.T) {
	listed := &CORS{Origins: []string{"https://app.example", "http://localhost:5173/", "null"}}
	for _, tc := range []struct {
		name   string
		cors   *CORS
		host   string
		tls    bool
		xfp    string
		origin string
		ok     bool
		allow  string // Access-Control-Allow-Origin
	}{
		{"no origin", nil, "srv.example", false, "", "", true, ""},
		// Same origin (no CORS policy).
		{"same origin", nil, "srv.example:8080", false, "", "http://srv.example:8080", true, ""},
		{"same origin, host in upper case", nil, "SRV.example:8080", false, "", "http://srv.EXAMPLE:8080", true, ""},
		{"same origin, default port explicit", nil, "srv.example", false, "", "http://srv.example:80", true, ""},
		{"same origin behind a TLS proxy that says nothing", nil, "srv.example", false, "", "https://srv.example", true, ""},
		{"same origin with X-Forwarded-Proto", nil, "srv.example", false, "https", "https://srv.example", true, ""},
		{"http page, X-Forwarded-Proto https", nil, "srv.example", false, "https", "http://srv.example", false, ""},
		{"http page, TLS request", nil, "srv.example:8443", true, "", "http://srv.example:8443", false, ""},
		{"https page, TLS request", nil, "srv.example:8443", true, "", "https://srv.example:8443", true, ""},
		{"other port", nil, "srv.example:8080", false, "", "http://srv.example:8081", false, ""},
		{"other host", nil, "srv.example", false, "", "http://evil.example", false, ""},
		{"userinfo naming the host", nil, "srv.example", false, "", "http://evil@srv.example", false, ""},
		{"path", nil, "srv.example", false, "", "http://srv.example/x", false, ""},
		{"query", nil, "srv.example", false, "", "http://srv.example?x", false, ""},
		{"other scheme", nil, "srv.example", false, "", "ftp://srv.example", false, ""},
		{"null without policy", nil, "srv.example", false, "", "null", false, ""},
		// Listed origins.
		{"listed", listed, "srv.example", false, "", "https://app.example", true, "https://app.example"},
		{"listed, default port explicit", listed, "srv.example", false, "", "https://app.example:443", true, "https://app.example:443"},
		{"listed with a trailing slash in the config", listed, "srv.example", false, "", "http://localhost:5173", true, "http://localhost:5173"},
		{"listed host, other scheme", listed, "srv.example", false, "", "http://app.example", false, ""},
		{"listed host, other port", listed, "srv.example", false, "", "https://app.example:8443", false, ""},
		{"listed host as userinfo", listed, "srv.example", false, "", "https://app.example@evil.example", false, ""},
		{"listed origin with userinfo", listed, "srv.example", false, "", "https://evil@app.example", false, ""},
		{"listed origin with a path", listed, "srv.example", false, "", "https://app.example/", false, ""},
		{"listed null", listed, "srv.example", false, "", "null", true, "null"},
		{"same origin besides the list", listed, "srv.example", false, "", "http://srv.example", true, ""},
		{"wildcard", &CORS{Origins: []string{"*"}}, "srv.example", false, "", "http://evil@anything:9/x", true, "*"},
		{"AllowOrigin", &CORS{AllowOrigin: func(o string, _ *http.Request) bool { return o == "https://cb.example" }},
			"srv.example", false, "", "https://cb.example", true, "https://cb.example"},
		{"AllowOrigin not asked about a malformed origin", &CORS{AllowOrigin: func(string, *http.Request) bool { return true }},
			"srv.example", false, "", "https://x@cb.example", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := NewServer(Config{CORS: tc.cors})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			r := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil)
			r.Host = tc.host
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.xfp != "" {
				r.Header.Set("X-Forwarded-Proto", tc.xfp)
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			allow, ok := srv.checkOrigin(r, tc.origin)
			if ok != tc.ok || allow != tc.allow {
				t.Fatalf("checkOrigin = %q, %v; want %q, %v", allow, ok, tc.allow, tc.ok)
			}
		})
	}
}

// Configured origins must be plain origins.
func TestCORSOriginsValidated(t *testing.T) {
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:5173", true},
		{"https://app.example/", true},
		{"*", true},
		{"null", true},
		{"localhost:5173", false},
		{"app.example", false},
		{"https://user@app.example", false},
		{"https://app.example/path", false},
		{"https://app.example?q", false},
	} {
		_, err := NewServer(Config{CORS: &CORS{Origins: []string{tc.origin}}})
		if (err == nil) != tc.ok {
			t.Errorf("origin %q: err %v, want ok %v", tc.origin, err, tc.ok)
		}
	}
}

// AllowedHosts refuses, with 403 code 4, every request whose Host header
// is not listed, over polling and WebSocket, preflights included: the
// DNS-rebinding case (Host and Origin both name the attacker's domain,
// which the same-origin check lets through) among them.
func TestAllowedHosts(t *testing.T) {
	srv, err := NewServer(Config{AllowedHosts: []string{"127.0.0.1", "app.example:8443", ".corp.example", "[::1]:3000"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tc := range []struct {
		name string
		host string
		ok   bool
	}{
		{"listed address, any port", "127.0.0.1:3000", true},
		{"listed address, no port", "127.0.0.1", true},
		{"listed host and port", "app.example:8443", true},
		{"upper case", "APP.example:8443", true},
		{"listed host, other port", "app.example:9443", false},
		{"listed domain", "corp.example", true},
		{"subdomain", "a.b.corp.example:80", true},
		{"suffix that is not a subdomain", "evilcorp.example", false},
		{"IPv6 with port", "[::1]:3000", true},
		{"IPv6, other port", "[::1]:3001", false},
		{"rebinding name", "attacker.example:3000", false},
	} {
		for _, kind := range []string{"polling", "websocket", "preflight"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				method, q, hdr := "GET", "EIO=4&transport=polling", http.Header{}
				switch kind {
				case "websocket":
					q, hdr = "EIO=4&transport=websocket", wsHeaders()
				case "preflight":
					method = "OPTIONS"
					hdr.Set("Access-Control-Request-Method", "POST")
				}
				// Same origin as far as the Origin check can tell.
				hdr.Set("Origin", "http://"+tc.host)
				r := httptest.NewRequest(method, "/engine.io/?"+q, nil)
				r.Header = hdr
				r.Host = tc.host
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				if !tc.ok {
					body := `{"code":4,"message":"Forbidden"}`
					if kind == "websocket" {
						body = "Forbidden"
					}
					if w.Code != 403 || w.Body.String() != body {
						t.Fatalf("%d %q, want 403 %q", w.Code, w.Body.String(), body)
					}
					return
				}
				// A recorder cannot be hijacked: an accepted WebSocket
				// handshake goes no further, but is not refused.
				if w.Code != 200 && w.Code != 204 {
					t.Fatalf("%d %q", w.Code, w.Body.String())
				}
			})
		}
	}
}
