package testutil

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proc is a running interop script that takes JSON commands on stdin and
// reports JSON events on stdout.
type Proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan Event
	done   chan struct{}

	mu     sync.Mutex
	stderr bytes.Buffer
	seen   []Event // every event, in order
	unread []Event // events not yet returned by Expect
}

// StartNode starts `node script args...` in the interop folder. The process
// is stopped when the test ends.
func StartNode(t testing.TB, script string, args ...string) *Proc {
	t.Helper()
	dir := InteropDir(t)
	return start(t, dir, "node", append([]string{script}, args...)...)
}

func start(t testing.TB, dir, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	p := &Proc{t: t, cmd: cmd, events: make(chan Event, 1024), done: make(chan struct{})}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = lockedBuf{&p.mu, &p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p.stdin = stdin
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var e Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				e = Event{"ev": "non-json", "line": sc.Text()}
			}
			p.mu.Lock()
			p.seen = append(p.seen, e)
			p.mu.Unlock()
			p.events <- e
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		_ = cmd.Wait()
	})
	return p
}

type lockedBuf struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Send writes one command.
func (p *Proc) Send(cmd map[string]any) {
	p.t.Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("send %s: %v\n%s", b, err, p.Log())
	}
}

// Seen returns every event the process has printed so far, in order
// (read or not).
func (p *Proc) Seen() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.seen...)
}

// Log returns what the process printed, for failure messages.
func (p *Proc) Log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, e := range p.seen {
		j, _ := json.Marshal(e)
		b.Write(j)
		b.WriteByte('\n')
	}
	if p.stderr.Len() > 0 {
		b.WriteString("stderr:\n")
		b.Write(p.stderr.Bytes())
	}
	return b.String()
}

// Expect returns the first unread event that match accepts, waiting up to
// timeout; other events stay unread for later calls.
func (p *Proc) Expect(timeout time.Duration, what string, match func(Event) bool) Event {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		for i, e := range p.unread {
			if match(e) {
				p.unread = append(p.unread[:i], p.unread[i+1:]...)
				p.mu.Unlock()
				return e
			}
		}
		p.mu.Unlock()
		select {
		case e := <-p.events:
			p.mu.Lock()
			p.unread = append(p.unread, e)
			p.mu.Unlock()
		case <-p.done:
			// Drain what is left, then give up.
			select {
			case e := <-p.events:
				p.mu.Lock()
				p.unread = append(p.unread, e)
				p.mu.Unlock()
				continue
			default:
			}
			p.t.Fatalf("process ended while waiting for %s\n%s", what, p.Log())
		case <-deadline:
			p.t.Fatalf("no %s within %v\n%s", what, timeout, p.Log())
		}
	}
}

// ExpectEv waits for the event named ev of client c (c may be "").
func (p *Proc) ExpectEv(ev, c string) Event {
	p.t.Helper()
	timeout := 15 * time.Second
	if ev == "ready" { // a loaded machine can take long to start Node
		timeout = 45 * time.Second
	}
	return p.Expect(timeout, fmt.Sprintf("%s of %q", ev, c), func(e Event) bool {
		return e.Name() == ev && (c == "" || e.Str("c") == c)
	})
}

// ExpectNone fails if an event accepted by match arrives within d.
func (p *Proc) ExpectNone(d time.Duration, what string, match func(Event) bool) {
	p.t.Helper()
	deadline := time.After(d)
	for {
		p.mu.Lock()
		for _, e := range p.unread {
			if match(e) {
				p.mu.Unlock()
				p.t.Fatalf("unexpected %s: %v\n%s", what, e, p.Log())
			}
		}
		p.mu.Unlock()
		select {
		case e := <-p.events:
			p.mu.Lock()
			p.unread = append(p.unread, e)
			p.mu.Unlock()
		case <-deadline:
			return
		case <-p.done:
			return
		}
	}
}
