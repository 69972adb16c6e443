package client_test

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
)

// requestLog records the requests a server receives.
type requestLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Clone(r.Context()))
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []*http.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*http.Request(nil), l.reqs...)
}

// TestHTTPOptions: TLS (https and wss), query, extra headers, the cookie
// jar (the sid cookie of a sticky load balancer comes back on every later
// request, the WebSocket upgrade included) and a proxy for WebSocket
// connections (HTTP CONNECT).
func TestHTTPOptions(t *testing.T) {
	sio, err := socketio.NewServer(socketio.Config{Engine: engineio.Config{Cookie: &http.Cookie{Name: "lb"}}})
	if err != nil {
		t.Fatal(err)
	}
	sio.OnConnection(func(s *socketio.Socket) { goApp(sio.MainNamespace(), s) })
	var log requestLog
	srv := httptest.NewTLSServer(log.wrap(sio))
	defer srv.Close()
	defer sio.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	var proxied sync.Map
	px := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		proxied.Store(r.Host, true)
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			up.Close()
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		_, _ = io.Copy(c, up)
		c.Close()
	}))
	defer px.Close()
	pxURL, _ := url.Parse(px.URL)

	tests := []struct {
		name       string
		transports []string
		proxy      bool
		final      string
	}{
		{"upgrade", nil, false, "websocket"},
		{"polling", []string{client.Polling}, false, "polling"},
		{"websocket through a proxy", []string{client.WebSocket}, true, "websocket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			opts := &client.Options{
				Transports: tt.transports,
				TLSConfig:  &tls.Config{RootCAs: pool},
				Query:      url.Values{"room": {"a&b"}},
				Header:     http.Header{"X-Test": {"yes"}},
			}
			if tt.proxy {
				opts.Proxy = http.ProxyURL(pxURL)
			}
			start := len(log.all())
			s, err := client.Dial(ctx, srv.URL+"/?v=2", opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			deadline := time.Now().Add(wait)
			for s.Manager().Transport() != tt.final && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if _, err := s.EmitWithAck(ctx, "ack", 1); err != nil {
				t.Fatal(err)
			}
			reqs := log.all()[start:]
			var sawWS bool
			for i, r := range reqs {
				q := r.URL.Query()
				if q.Get("room") != "a&b" || q.Get("v") != "2" || q.Get("EIO") != "4" || r.Header.Get("X-Test") != "yes" {
					t.Errorf("request %d %s: query %v, X-Test %q", i, r.URL, q, r.Header.Get("X-Test"))
				}
				if q.Get("transport") == "websocket" {
					sawWS = true
				}
				// Every request after a polling handshake carries the cookie.
				if i > 0 && q.Get("sid") != "" && !strings.Contains(r.Header.Get("Cookie"), "lb=") {
					t.Errorf("request %d %s without the cookie (%q)", i, r.URL, r.Header.Get("Cookie"))
				}
			}
			if sawWS != (tt.final == "websocket") {
				t.Errorf("websocket request seen: %v", sawWS)
			}
			_, viaProxy := proxied.Load(strings.TrimPrefix(srv.URL, "https://"))
			if viaProxy != tt.proxy {
				t.Errorf("through the proxy: %v, want %v", viaProxy, tt.proxy)
			}
		})
	}
}
