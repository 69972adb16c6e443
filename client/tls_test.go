package client_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
)

// logRecorder is a slog.Handler that keeps the records, for tests that
// wait for a diagnostic.
type logRecorder struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
}

func newLogRecorder() *logRecorder { return &logRecorder{changed: make(chan struct{}, 1)} }

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.lines = append(l.lines, b.String())
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return nil
}

// find returns the first line containing sub, or "".
func (l *logRecorder) find(sub string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, sub) {
			return line
		}
	}
	return ""
}

// waitTransport waits until the Manager is on want, failing early when the
// client logs a failed upgrade.
func waitTransport(t *testing.T, m *client.Manager, want string, logs *logRecorder) {
	t.Helper()
	deadline := time.After(wait)
	for m.Transport() != want {
		if line := logs.find("upgrade"); line != "" {
			t.Fatalf("transport %q, want %q; logged: %s", m.Transport(), want, line)
		}
		select {
		case <-logs.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("transport %q after %v, want %q", m.Transport(), wait, want)
		}
	}
}

// TestTLSWithHTTP2Server: against a TLS server that offers HTTP/2 (ALPN
// "h2"), polling may use HTTP/2 but the WebSocket needs HTTP/1.1: the
// client ends on websocket, and the caller's tls.Config is left as it was
// (net/http adds "h2" to the NextProtos of the configs it is given).
func TestTLSWithHTTP2Server(t *testing.T) {
	sio, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sio.OnConnection(func(s *socketio.Socket) { goApp(sio.MainNamespace(), s) })
	srv := httptest.NewUnstartedServer(sio)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	defer sio.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	tests := []struct {
		name       string
		transports []string
		nextProtos []string
	}{
		{"upgrade", nil, nil},
		{"upgrade, config with h2", nil, []string{"h2", "http/1.1"}},
		{"websocket, config with h2", []string{client.WebSocket}, []string{"h2", "http/1.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			tc := &tls.Config{RootCAs: pool, NextProtos: slices.Clone(tt.nextProtos)}
			logs := newLogRecorder()
			s, err := client.Dial(ctx, srv.URL, &client.Options{
				Transports: tt.transports,
				TLSConfig:  tc,
				Logger:     slog.New(logs),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			waitTransport(t, s.Manager(), client.WebSocket, logs)
			a, err := s.EmitWithAck(ctx, "whoami")
			var who struct{ Transport string }
			if err != nil || a.Bind(&who) != nil || who.Transport != client.WebSocket {
				t.Fatalf("the server sees transport %q (%v)", who.Transport, err)
			}
			if !slices.Equal(tc.NextProtos, tt.nextProtos) {
				t.Errorf("the caller's TLSConfig.NextProtos became %q, was %q", tc.NextProtos, tt.nextProtos)
			}
		})
	}
}

// TestUpgradeFailureLogged: a server that offers the WebSocket upgrade but
// refuses it: the client stays on polling, and says why in its log.
func TestUpgradeFailureLogged(t *testing.T) {
	sio, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sio.OnConnection(func(s *socketio.Socket) { goApp(sio.MainNamespace(), s) })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") == "websocket" {
			http.Error(w, "no websocket here", http.StatusForbidden)
			return
		}
		sio.ServeHTTP(w, r)
	}))
	defer srv.Close()
	defer sio.Close()
	ctx := ctxT(t)
	logs := newLogRecorder()
	s, err := client.Dial(ctx, srv.URL, &client.Options{Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.After(wait)
	for logs.find("upgrade") == "" {
		select {
		case <-logs.changed:
		case <-deadline:
			t.Fatalf("no upgrade failure logged within %v", wait)
		}
	}
	line := logs.find("upgrade")
	if !strings.Contains(line, "403") || !strings.Contains(line, "no websocket here") {
		t.Errorf("the log does not say why: %s", line)
	}
	if _, err := s.EmitWithAck(ctx, "ack", 1); err != nil {
		t.Fatal(err)
	}
	if got := s.Manager().Transport(); got != client.Polling {
		t.Errorf("transport %q, want polling", got)
	}
}
