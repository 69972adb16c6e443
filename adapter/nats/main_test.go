package nats_test

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
)

// natsURL is the NATS server (with JetStream) of the tests: $NATS_URL, or
// 127.0.0.1:4222, or a nats-server the tests start.
var natsURL string

func TestMain(m *testing.M) {
	code := func() int {
		url := os.Getenv("NATS_URL")
		if url == "" {
			url = "nats://127.0.0.1:4222"
		}
		if err := pingJetStream(url); err == nil {
			natsURL = url
		} else {
			srv, serr := startNATS("")
			if serr != nil {
				fmt.Fprintf(os.Stderr, "nats adapter tests: no NATS with JetStream at %s (%v) and nats-server could not be started: %v\n",
					url, err, serr)
				return 1
			}
			defer srv.stop()
			natsURL = srv.url
		}
		return m.Run()
	}()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// pingJetStream checks that url answers and has JetStream.
func pingJetStream(url string) error {
	nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect())
	if err != nil {
		return err
	}
	defer nc.Close()
	if _, err := nc.Request("$JS.API.INFO", nil, 2*time.Second); err != nil {
		return fmt.Errorf("no JetStream: %w", err)
	}
	return nil
}

// natsServer is a nats-server of a test's own.
type natsServer struct {
	url, port, dir string
	cmd            *exec.Cmd
}

// startNATS starts nats-server -js on port (a free one when empty) with
// its store in a new temporary directory, and waits until it answers.
func startNATS(port string) (*natsServer, error) { return startNATSWith(port, true) }

// startNATSWith starts nats-server, with JetStream when js.
func startNATSWith(port string, js bool) (*natsServer, error) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		return nil, fmt.Errorf("nats-server not found (Debian package nats-server): %w", err)
	}
	if port == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		_ = ln.Close()
	}
	dir, err := os.MkdirTemp("", "nats-adapter-test-")
	if err != nil {
		return nil, err
	}
	args := []string{"-a", "127.0.0.1", "-p", port}
	if js {
		args = append(args, "-js", "-sd", dir)
	}
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &natsServer{url: "nats://127.0.0.1:" + port, port: port, dir: dir, cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := pingJetStream(s.url)
		if !js && err != nil && strings.HasPrefix(err.Error(), "no JetStream") {
			err = nil
		}
		if err == nil {
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("nats-server on %s did not answer: %w", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop kills the server (as a crash would) and removes its store.
func (s *natsServer) stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	_ = os.RemoveAll(s.dir)
}

// connect opens a connection to url that reconnects fast and for ever,
// closed by the test's cleanup.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectJitter(0, 0), nats.Timeout(5*time.Second), nats.PingInterval(time.Second))
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func testLogger() *slog.Logger {
	if os.Getenv("NATS_ADAPTER_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
