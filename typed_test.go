package socketio_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// Typed handler failures are not silent, with the official client: an
// argument that does not decode is reported to OnError and answered with
// {"error": ...} at once (no ack timeout), a handler's error reaches the
// client the same way, and a missing argument is the zero value.
func TestInteropTypedHandlerFailures(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		_, url, rec := newTestServer(t, socketio.Config{})
		p := driver(t, url)
		id := connect(t, p, "a", tr, nil)
		start := time.Now()
		for i, c := range []struct {
			event string
			args  []any
			want  string
		}{
			{"sum", []any{"not an array"}, `[{"error":"invalid argument 0: json: cannot unmarshal string into Go value of type []int"}]`},
			{"sum", []any{[]int{}}, `[{"error":"nothing to add"}]`},
			{"sum", nil, `[{"error":"nothing to add"}]`}, // missing: the zero value, a nil slice
			{"sum", []any{[]int{2, 3}}, `[5]`},
			{"mensaje", []any{42}, `[{"error":"invalid argument 0: json: cannot unmarshal number into Go value of type string"}]`},
		} {
			p.Send(map[string]any{"cmd": "emit", "c": "a", "event": c.event, "args": c.args, "ack": true, "seq": i, "timeout": 4000})
			ack := ackOf(t, p, "a", i)
			if e := ack.Str("error"); e != "" {
				t.Fatalf("%s %v: ack error %q (the server never answered)", c.event, c.args, e)
			}
			jsonEq(t, c.event, ack["args"], c.want)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("answers took %v: some waited for a timeout", d)
		}
		// Without an ack: OnError only.
		p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "mensaje", "args": []any{true}})
		deadline := time.Now().Add(10 * time.Second)
		for {
			rec.mu.Lock()
			errs := append([]string(nil), rec.errors[id]...)
			rec.mu.Unlock()
			if len(errs) == 3 {
				for _, e := range errs {
					if !strings.HasPrefix(e, `socketio: event "`) || !strings.Contains(e, "invalid argument 0") {
						t.Fatalf("OnError got %q", e)
					}
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("OnError got %q, want 3 argument errors", errs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// logRecords is a slog handler that keeps the records.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecords) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *logRecords) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecords) WithGroup(string) slog.Handler      { return h }

// find returns the first record at level whose "err" attribute holds an
// error matching match.
func (h *logRecords) find(level slog.Level, match func(error) bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.recs {
		if r.Level != level {
			continue
		}
		found := false
		r.Attrs(func(a slog.Attr) bool {
			if err, ok := a.Value.Any().(error); ok && a.Key == "err" && match(err) {
				found = true
				return false
			}
			return true
		})
		if found {
			return true
		}
	}
	return false
}

// Without OnError handlers a typed handler's argument error is logged at
// Warn, as an *ArgumentError naming the event and the argument.
func TestTypedHandlerFailureLoggedAtWarn(t *testing.T) {
	logs := &logRecords{}
	io, err := socketio.NewServer(socketio.Config{Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	io.OnConnection(func(s *socketio.Socket) { socketio.On(s, "num", func(n int) { got <- n }) })
	c, _ := rawSocket(t, serve(t, io), "/")
	c.Send(`42["num","seven"]`)
	c.Send(`421["num",{}]`) // with an ack id: answered with the error
	c.Expect(`431[{"error":"invalid argument 0: json: cannot unmarshal object into Go value of type int"}]`)
	c.Send(`42["num",7]`)
	if n := <-got; n != 7 {
		t.Fatalf("handler got %d", n)
	}
	if !logs.find(slog.LevelWarn, func(err error) bool {
		var ae *socketio.ArgumentError
		return errors.As(err, &ae) && ae.Event == "num" && ae.Index == 0
	}) {
		t.Fatal("no Warn record with the *ArgumentError")
	}
}

// An Event handler answers with an error through Event.AckError; an
// *AckError keeps its data.
func TestEventAckError(t *testing.T) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		s.On("plain", func(e *socketio.Event) { _ = e.AckError(errors.New("no luck")) })
		s.On("data", func(e *socketio.Event) {
			_ = e.AckError(&socketio.AckError{Message: "quota", Data: map[string]int{"left": 0}})
		})
		socketio.OnAck(s, "typed", func(string) (int, error) {
			return 0, &socketio.AckError{Message: "typed", Data: 1}
		})
	})
	c, _ := rawSocket(t, serve(t, io), "/")
	c.Send(`421["plain"]`)
	c.Expect(`431[{"error":"no luck"}]`)
	c.Send(`422["data"]`)
	c.Expect(`432[{"error":"quota","data":{"left":0}}]`)
	c.Send(`423["typed","x"]`)
	c.Expect(`433[{"error":"typed","data":1}]`)
}
