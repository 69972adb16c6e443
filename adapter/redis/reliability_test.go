package redis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// goReceiver is a Go client that records the numbered events ("n", i) it
// gets, and its disconnections.
type goReceiver struct {
	s           *client.Socket
	mu          sync.Mutex
	got         []int
	disconnects int
}

func newGoReceiver(t *testing.T, url string) *goReceiver {
	t.Helper()
	s, err := client.New(url, &client.Options{Transports: []string{client.WebSocket}})
	if err != nil {
		t.Fatal(err)
	}
	r := &goReceiver{s: s}
	s.On("n", func(e *client.Event) {
		var n int
		_ = e.Bind(&n)
		r.mu.Lock()
		r.got = append(r.got, n)
		r.mu.Unlock()
	})
	s.OnDisconnect(func(string) {
		r.mu.Lock()
		r.disconnects++
		r.mu.Unlock()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return r
}

func (r *goReceiver) snapshot() ([]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.got...), r.disconnects
}

// emitted is what the broadcaster did for one event.
type emitted struct {
	start, end time.Time
	err        error
}

// Two Go servers share one Redis (a redis-server of the test's own, no
// persistence) while server A broadcasts numbered events every 10 ms, and
// Redis is killed and restarted on the same port a second later. Both
// servers keep running and their clients stay connected; A's own client
// gets every event, once and in order; B's client gets every event
// published before the kill and every event published after the adapters
// have reconnected, none twice, in order. What B missed, and how long an
// Emit took during the outage, is logged (docs/reliability.md has the
// numbers).
func TestReliabilityRedisRestartDuringBroadcasts(t *testing.T) {
	t.Parallel()
	forProtocols(t, testReliabilityRedisRestart)
}

func testReliabilityRedisRestart(t *testing.T, proto string) {
	pair := newOwnRedisPair(t, proto)
	a, b := pair.a, pair.b
	ra, rb := newGoReceiver(t, a.url), newGoReceiver(t, b.url)
	waitCount(t, a.io, 2)
	waitCount(t, b.io, 2)

	var mu sync.Mutex
	var log []emitted
	stop := make(chan struct{})
	done := make(chan struct{})
	var haltOnce sync.Once
	halt := func() {
		haltOnce.Do(func() { close(stop) })
		<-done
	}
	defer halt() // also when the test fails early
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			err := a.io.Emit("n", i)
			mu.Lock()
			log = append(log, emitted{start, time.Now(), err})
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	emittedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(log)
	}
	waitGot := func(r *goReceiver, n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; {
			if got, _ := r.snapshot(); len(got) >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("fewer than %d events within 10s", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitGot(rb, 30)

	killedAt := time.Now()
	pair.kill()
	t.Logf("redis-server killed after %d broadcasts", emittedCount())
	time.Sleep(time.Second)
	restartedAt := time.Now()
	pair.restart()
	recoveredAt := time.Now()
	t.Logf("redis-server restarted after %v; adapters back %v after the restart", restartedAt.Sub(killedAt).Round(time.Millisecond),
		recoveredAt.Sub(restartedAt).Round(time.Millisecond))
	for n := emittedCount(); emittedCount() < n+50; {
		time.Sleep(10 * time.Millisecond)
	}
	halt()
	mu.Lock()
	total := len(log)
	mu.Unlock()
	waitGot(ra, total)
	time.Sleep(300 * time.Millisecond) // room for late or duplicate events

	// A's own client: everything, once, in order.
	gotA, discA := ra.snapshot()
	if fmt.Sprint(gotA) != fmt.Sprint(upTo(total)) {
		t.Fatalf("A's local client got %d of %d events (or out of order)", len(gotA), total)
	}
	gotB, discB := rb.snapshot()
	if discA+discB > 0 {
		t.Fatalf("clients disconnected during the Redis outage: A %d, B %d", discA, discB)
	}
	seen := map[int]bool{}
	for k, n := range gotB {
		if seen[n] {
			t.Fatalf("B's client got event %d twice", n)
		}
		seen[n] = true
		if k > 0 && n < gotB[k-1] {
			t.Fatalf("B's client got %d after %d", n, gotB[k-1])
		}
	}
	var lost []int
	failed := 0
	var longest time.Duration
	for i, e := range log {
		if e.err != nil {
			failed++
		}
		longest = max(longest, e.end.Sub(e.start))
		if seen[i] {
			continue
		}
		lost = append(lost, i)
		switch {
		case e.err == nil && e.end.Before(killedAt.Add(-100*time.Millisecond)):
			t.Errorf("event %d, published well before the kill, never reached B", i)
		case e.start.After(recoveredAt):
			t.Errorf("event %d, published after the adapters recovered, never reached B", i)
		}
	}
	t.Logf("%s: %d broadcasts, %d returned an error, the longest Emit took %v; B's client lost %d (%s), got %d; A's client got all",
		proto, total, failed, longest.Round(time.Millisecond), len(lost), span(lost), len(gotB))
}

func upTo(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// span describes a sorted list of event numbers as its first and last.
func span(l []int) string {
	if len(l) == 0 {
		return "none"
	}
	return fmt.Sprintf("events %d..%d", l[0], l[len(l)-1])
}
