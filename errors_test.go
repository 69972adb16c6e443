package socketio_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// logCapture is a slog.Handler that keeps every record, for assertions on
// what the library logs.
type logCapture struct {
	mu      sync.Mutex
	records []capturedRecord
	changed chan struct{}
}

type capturedRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newLogCapture() *logCapture { return &logCapture{changed: make(chan struct{}, 1)} }

func (l *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (l *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := capturedRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return nil
}

func (l *logCapture) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logCapture) WithGroup(string) slog.Handler      { return l }

// wait returns the first record whose message contains msg, waiting up to
// 10 s for it.
func (l *logCapture) wait(t *testing.T, msg string) capturedRecord {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		l.mu.Lock()
		for _, r := range l.records {
			if strings.Contains(r.msg, msg) {
				l.mu.Unlock()
				return r
			}
		}
		l.mu.Unlock()
		select {
		case <-l.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no log record %q", msg)
		}
	}
}

// A broadcast ack timeout wraps the context's error, so errors.Is finds
// both ErrAckTimeout and the context's reason.
func TestAckTimeoutWrapsContextError(t *testing.T) {
	io, url, _ := newTestServer(t, socketio.Config{})
	rawSocket(t, url, "/") // a client that never answers
	for _, tc := range []struct {
		name string
		emit func() error
		want error
	}{
		{"operator timeout", func() error {
			_, err := io.Timeout(50*time.Millisecond).EmitWithAck(context.Background(), "question")
			return err
		}, context.DeadlineExceeded},
		{"ctx deadline", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := io.EmitWithAck(ctx, "question")
			return err
		}, context.DeadlineExceeded},
		{"ctx cancelled", func() error {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			_, err := io.EmitWithAck(ctx, "question")
			return err
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.emit()
			if !errors.Is(err, socketio.ErrAckTimeout) || !errors.Is(err, tc.want) {
				t.Fatalf("err %v: want ErrAckTimeout wrapping %v", err, tc.want)
			}
		})
	}
}

// Every recover that logs a panic logs its stack too.
func TestRecoveredPanicsLogStack(t *testing.T) {
	for _, tc := range []struct {
		name  string
		msg   string
		setup func(t *testing.T, logger *slog.Logger)
	}{
		{"server-side event handler", "server-side event handler panicked", func(t *testing.T, logger *slog.Logger) {
			b := &bus{}
			var servers []*socketio.Server
			for range 2 {
				s, err := socketio.NewServer(socketio.Config{Adapter: b.factory, Logger: logger})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = s.Close() })
				s.OnServerSideEmit("boom", func(*socketio.ServerEvent) { panic("boom") })
				servers = append(servers, s)
			}
			if err := servers[0].ServerSideEmit(context.Background(), "boom"); err != nil {
				t.Fatal(err)
			}
		}},
		{"namespace matcher", "namespace matcher panicked", func(t *testing.T, logger *slog.Logger) {
			io, url := panicServer(t, logger)
			io.OfFunc(func(string, map[string]any) bool { panic("boom") })
			c, _ := rawSocket(t, url, "")
			c.Send("40/dyn,")
		}},
		{"new namespace handler", "new namespace handler panicked", func(t *testing.T, logger *slog.Logger) {
			io, url := panicServer(t, logger)
			io.OfFunc(func(string, map[string]any) bool { return true })
			io.OnNewNamespace(func(*socketio.Namespace) { panic("boom") })
			c, _ := rawSocket(t, url, "")
			c.Send("40/dyn,")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := newLogCapture()
			tc.setup(t, slog.New(logs))
			r := logs.wait(t, tc.msg)
			if r.level != slog.LevelError || !strings.Contains(r.attrs["stack"], "goroutine") {
				t.Fatalf("record %+v: want an error with the stack", r)
			}
		})
	}
}

// panicServer serves a bare server logging to logger.
func panicServer(t *testing.T, logger *slog.Logger) (*socketio.Server, string) {
	t.Helper()
	io, err := socketio.NewServer(socketio.Config{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(io)
	t.Cleanup(func() {
		hs.Close()
		_ = io.Close()
	})
	return io, hs.URL
}
