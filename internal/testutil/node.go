// Package testutil holds helpers shared by the module's tests: running the
// official JavaScript peers and reading what they report.
package testutil

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// InteropDir returns the absolute path of the interop folder (the npm
// project holding the official clients), failing the test with a clear
// message when Node or the npm packages are missing.
func InteropDir(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "interop")
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("interop tests need Node.js 20+ on PATH (node not found): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		t.Fatalf("interop tests need the npm packages: run `npm ci --prefix interop` (or `make deps`): %v", err)
	}
	return dir
}

// Event is one JSON line printed by an interop script.
type Event map[string]any

// Name returns the "ev" field.
func (e Event) Name() string { s, _ := e["ev"].(string); return s }

// Str returns a string field.
func (e Event) Str(k string) string { s, _ := e[k].(string); return s }

// RunNode runs `node script args...` in the interop folder, waits for it
// (at most timeout) and returns the events it printed. A non-zero exit or a
// line that is not JSON fails the test.
func RunNode(t testing.TB, timeout time.Duration, script string, args ...string) []Event {
	t.Helper()
	return RunNodeEnv(t, timeout, nil, script, args...)
}

// RunNodeEnv is RunNode with extra environment variables ("K=V").
func RunNodeEnv(t testing.TB, timeout time.Duration, env []string, script string, args ...string) []Event {
	t.Helper()
	dir := InteropDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	evs := ParseEvents(t, stdout.Bytes())
	if err != nil {
		t.Fatalf("node %s %s: %v\nstdout:\n%s\nstderr:\n%s", script, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return evs
}

// ParseEvents decodes JSON lines.
func ParseEvents(t testing.TB, b []byte) []Event {
	t.Helper()
	var evs []Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var e Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("interop script printed a non-JSON line %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// Filter returns the events with the given name.
func Filter(evs []Event, name string) []Event {
	var r []Event
	for _, e := range evs {
		if e.Name() == name {
			r = append(r, e)
		}
	}
	return r
}

// RunPython runs `/usr/bin/python3 script args...` from the interop folder
// (Debian's python3-socketio lives there, not in other Pythons on PATH) and
// returns the events it printed; a non-zero exit fails the test.
func RunPython(t testing.TB, timeout time.Duration, script string, args ...string) []Event {
	t.Helper()
	dir := InteropDir(t)
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import socketio, websocket, requests").Run(); err != nil {
		t.Fatalf("the Python interop test needs Debian's python3-socketio, python3-websocket and python3-requests "+
			"(apt-get install -y python3-socketio python3-websocket python3-requests): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{script}, args...)...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	evs := ParseEvents(t, stdout.Bytes())
	if err != nil {
		t.Fatalf("python3 %s %s: %v\nstdout:\n%s\nstderr:\n%s", script, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return evs
}
