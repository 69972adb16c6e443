package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The socketio binary the tests run, as a user would, built on first use
// (with -race when the tests have it: the binary is checked for races
// too).
var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		path := filepath.Join(binDir, "socketio")
		args := []string{"build", "-o", path}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
		if err != nil {
			binError = fmt.Errorf("go build of the socketio binary: %v\n%s", err, out)
			return
		}
		binPath = path
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "socketio-cli-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	_ = os.RemoveAll(binDir)
	os.Exit(code)
}

// cliEnv is the environment of the binary: no NO_COLOR from the caller,
// and, for a -race binary, no second of sleep at exit (the race detector's
// default) and a failing exit code when it finds a race.
func cliEnv() []string {
	return append(os.Environ(), "NO_COLOR=", "GORACE=atexit_sleep_ms=0 exitcode=66")
}

// result is what a finished run of the binary left.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// runCLI runs the binary to its end (at most 30 s) with stdin as input.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = cliEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("socketio %s: %v\n%s", strings.Join(args, " "), err, r)
	}
	return r
}

// want fails the test unless the run ended with code.
func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit code %d, got:\n%s", code, r)
	}
	return r
}

// proc is a running socketio binary: its stdout lines are read as they
// come; stdin stays open until closeStdin.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}

	mu     sync.Mutex
	out    []string // every stdout line
	unread []string
	stderr bytes.Buffer
	exited bool
	code   int
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startCLI starts the binary; it is killed when the test ends if still
// running.
func startCLI(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = cliEnv()
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.exited = true
		p.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// log returns what the process printed, for failure messages.
func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return "stdout:\n" + strings.Join(p.out, "\n") + "\nstderr:\n" + p.stderr.String()
}

// Stderr returns what the process wrote on stderr so far.
func (p *proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stderrContains reports whether stderr holds s, waiting up to 10 s: its
// bytes are copied by a goroutine of exec, so a line the process wrote
// before a stdout line may be seen after it.
func (p *proc) stderrContains(s string) bool {
	for deadline := time.Now().Add(10 * time.Second); ; {
		if strings.Contains(p.Stderr(), s) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expect returns the first unread stdout line that match accepts, waiting
// up to 20 s; other lines stay unread.
func (p *proc) expect(what string, match func(string) bool) string {
	p.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		p.mu.Lock()
		for i, l := range p.unread {
			if match(l) {
				p.unread = append(p.unread[:i], p.unread[i+1:]...)
				p.mu.Unlock()
				return l
			}
		}
		p.mu.Unlock()
		select {
		case l := <-p.lines:
			p.mu.Lock()
			p.unread = append(p.unread, l)
			p.mu.Unlock()
		case <-p.done:
			select {
			case l := <-p.lines:
				p.mu.Lock()
				p.unread = append(p.unread, l)
				p.mu.Unlock()
				continue
			default:
			}
			p.t.Fatalf("socketio ended while waiting for %s\n%s", what, p.log())
		case <-deadline:
			p.t.Fatalf("no %s within 20s\n%s", what, p.log())
		}
	}
}

// expectContains waits for a stdout line holding every part.
func (p *proc) expectContains(parts ...string) string {
	p.t.Helper()
	return p.expect(fmt.Sprintf("a line with %q", parts), func(l string) bool {
		for _, s := range parts {
			if !strings.Contains(l, s) {
				return false
			}
		}
		return true
	})
}

func (p *proc) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		p.t.Fatalf("write %q: %v\n%s", line, err, p.log())
	}
}

func (p *proc) closeStdin() { _ = p.stdin.Close() }

func (p *proc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits (at most 20 s) for the process to end and returns its exit
// code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("socketio still running after 20s\n%s", p.log())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

// waitCode fails the test unless the process ends with code.
func (p *proc) waitCode(code int) {
	p.t.Helper()
	if got := p.wait(); got != code {
		p.t.Fatalf("want exit code %d, got %d\n%s", code, got, p.log())
	}
}
