package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// TestNewHandlersBeforeConnect: with New, handlers are registered before
// the socket connects, so the event the server emits on connection
// ("welcome") reaches its handler, not Receive.
func TestNewHandlersBeforeConnect(t *testing.T) {
	forMatrix(t, srvOpts{}, func(t *testing.T, srv server, md mode) {
		ctx := ctxT(t)
		s, err := client.New(srv.URL(), &client.Options{Transports: md.transports})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if s.Connected() || s.Active() {
			t.Fatal("New connected")
		}
		welcome := make(chan string, 1)
		client.On(s, "welcome", func(w struct{ ID string }) { welcome <- w.ID })
		if err := s.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-welcome:
			if id != s.ID() {
				t.Fatalf("welcome for %q, socket %q", id, s.ID())
			}
		case <-ctx.Done():
			t.Fatal("the handler registered before Connect did not get the welcome event")
		}
	})
}

// TestConnectTimeoutSaysWhy: when the context ends before the socket
// connects, the error is still the context's, and names the last
// connection error.
func TestConnectTimeoutSaysWhy(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)) // nobody listens
	for _, md := range modes {
		t.Run(md.name, func(t *testing.T) {
			t.Parallel()
			t.Run("Dial", func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer cancel()
				s, err := client.Dial(ctx, url, &client.Options{Transports: md.transports, ReconnectionDelay: 100 * time.Millisecond})
				if err == nil {
					s.Close()
					t.Fatal("Dial succeeded")
				}
				checkConnectErr(t, err)
			})
			t.Run("New", func(t *testing.T) {
				s, err := client.New(url, &client.Options{Transports: md.transports, ReconnectionDelay: 100 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				failed := make(chan struct{}, 1)
				s.OnConnectError(func(error) {
					select {
					case failed <- struct{}{}:
					default:
					}
				})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					<-failed // an attempt failed: stop waiting
					cancel()
				}()
				err = s.Connect(ctx)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Connect = %v, want context.Canceled", err)
				}
				if !strings.Contains(err.Error(), "connection refused") || !errors.Is(err, syscall.ECONNREFUSED) {
					t.Fatalf("Connect = %q: does not name the cause", err)
				}
				if !s.Active() {
					t.Fatal("the socket stopped trying")
				}
			})
		})
	}
}

func checkConnectErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v is not context.DeadlineExceeded", err)
	}
	if !strings.Contains(err.Error(), "connection refused") || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("error %q does not name the cause", err)
	}
}
