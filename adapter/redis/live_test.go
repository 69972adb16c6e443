package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	socketio "github.com/gosio/socketio"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/internal/testutil"
)

// redisAddr is the Redis the live tests share: $REDIS_ADDR (default
// 127.0.0.1:6379) when it answers, else a redis-server started by TestMain
// on a free port. Every test uses its own random key prefix.
var redisAddr string

func TestMain(m *testing.M) {
	code := func() int {
		addr := os.Getenv("REDIS_ADDR")
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		if ping(addr) == nil {
			redisAddr = addr
		} else {
			srv, err := startRedis("")
			if err != nil {
				fmt.Fprintf(os.Stderr, "redis adapter tests: no Redis at %s and redis-server could not be started: %v\n", addr, err)
				return 1
			}
			defer srv.stop()
			redisAddr = srv.addr
		}
		defer stopRedisCluster()
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

func ping(addr string) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// redisServer is a redis-server process started by a test.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// startRedis starts redis-server on port (a free one when empty) and waits
// until it answers.
func startRedis(port string) (*redisServer, error) {
	if port == "" {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &redisServer{addr: "127.0.0.1:" + port, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for ping(s.addr) != nil {
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("redis-server on %s did not answer", s.addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s, nil
}

func (s *redisServer) stop() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// testLogger shows the adapter's diagnostics when REDIS_ADAPTER_DEBUG is
// set.
func testLogger() *slog.Logger {
	if os.Getenv("REDIS_ADAPTER_DEBUG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func randomKey(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "sio-test-" + hex.EncodeToString(b)
}

func newClient(t *testing.T, addr string) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// goNode is a Go server on the Redis adapter with the handlers the tests
// use.
type goNode struct {
	name string
	io   *socketio.Server
	url  string
	side chan sideEvent
}

type sideEvent struct {
	args    []any
	withAck bool
}

// newGoNode starts a Go server on the classic ("classic"), sharded
// ("sharded") or Streams ("streams") adapter; key is the prefix of every
// channel and the stream name. A "+csr" suffix turns on connection state
// recovery.
func newGoNode(t *testing.T, client goredis.UniversalClient, key, name, proto string) *goNode {
	t.Helper()
	return newGoNodeCfg(t, client, key, name, proto, nil)
}

// newGoNodeCfg is newGoNode with a change to the server's configuration.
func newGoNodeCfg(t *testing.T, client goredis.UniversalClient, key, name, proto string, change func(*socketio.Config)) *goNode {
	t.Helper()
	csr := strings.HasSuffix(proto, "+csr")
	proto = strings.TrimSuffix(proto, "+csr")
	factory := redisadapter.NewAdapter(client, redisadapter.Options{Key: key, RequestsTimeout: 3 * time.Second, Logger: testLogger()})
	switch proto {
	case "sharded":
		factory = redisadapter.NewShardedAdapter(client, redisadapter.ShardedOptions{ChannelPrefix: key, RequestsTimeout: 3 * time.Second, Logger: testLogger()})
	case "sharded-private":
		factory = redisadapter.NewShardedAdapter(client, redisadapter.ShardedOptions{ChannelPrefix: key, SubscriptionMode: redisadapter.DynamicPrivate,
			RequestsTimeout: 3 * time.Second, Logger: testLogger()})
	case "streams":
		factory = redisadapter.NewStreamsAdapter(client, redisadapter.StreamsOptions{StreamName: key, ChannelPrefix: key,
			RequestsTimeout: 3 * time.Second, BlockTime: 200 * time.Millisecond, Logger: testLogger()})
	}
	cfg := socketio.Config{Adapter: factory}
	if csr {
		cfg.ConnectionStateRecovery = &socketio.RecoveryConfig{MaxDisconnectionDuration: time.Minute}
	}
	if change != nil {
		change(&cfg)
	}
	io, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := &goNode{name: name, io: io, side: make(chan sideEvent, 64)}
	io.OnConnection(func(s *socketio.Socket) {
		// []byte in socket.data crosses the cluster as a Node Buffer does.
		s.SetData(map[string]any{"server": name, "bin": []byte{1, 2, 3}})
		socketio.OnAck(s, "join", func(room string) (string, error) {
			s.Join(room)
			return "joined " + room, nil
		})
	})
	admin, err := io.Of("/admin")
	if err != nil {
		t.Fatal(err)
	}
	admin.OnConnection(func(*socketio.Socket) {})
	io.OnServerSideEmit("ping-server", func(e *socketio.ServerEvent) {
		vals, _ := e.Args().Values()
		n.side <- sideEvent{vals, e.HasAck()}
		if e.HasAck() {
			_ = e.Ack(map[string]any{"from": name, "ok": true})
		}
	})
	hs := httptest.NewServer(io)
	n.url = hs.URL
	t.Cleanup(func() {
		hs.Close()
		_ = io.Close()
	})
	return n
}

func (n *goNode) expectSide(t *testing.T, want string) sideEvent {
	t.Helper()
	select {
	case e := <-n.side:
		if b, _ := json.Marshal(e.args); string(b) != want {
			t.Fatalf("%s: server-side args %s, want %s", n.name, b, want)
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no server-side event %s", n.name, want)
	}
	return sideEvent{}
}

// clients drives official socket.io-client sockets on one server.
type clients struct {
	t *testing.T
	p *testutil.Proc
}

func newClients(t *testing.T, url string) *clients {
	t.Helper()
	p := testutil.StartNode(t, "sio-driver.mjs", url)
	p.ExpectEv("ready", "")
	return &clients{t, p}
}

// connect connects client c over WebSocket and returns its id.
func (c *clients) connect(name string) string {
	c.t.Helper()
	return c.connectNsp(name, "/")
}

func (c *clients) connectNsp(name, nsp string) string {
	c.t.Helper()
	c.p.Send(map[string]any{"cmd": "connect", "c": name, "nsp": nsp, "transports": []string{"websocket"}})
	return c.p.ExpectEv("connect", name).Str("id")
}

var seq int
var seqMu sync.Mutex

// join makes client name join room (through its server's handler).
func (c *clients) join(name, room string) {
	c.t.Helper()
	seqMu.Lock()
	seq++
	s := seq
	seqMu.Unlock()
	c.p.Send(map[string]any{"cmd": "emit", "c": name, "event": "join", "args": []any{room}, "ack": true, "seq": s})
	c.p.Expect(5*time.Second, "join ack", func(e testutil.Event) bool {
		n, _ := e["seq"].(float64)
		return e.Name() == "ack" && e.Str("c") == name && int(n) == s
	})
}

// event waits for event ev on client name and returns its args as JSON.
func (c *clients) event(name, ev string) string {
	c.t.Helper()
	e := c.p.Expect(5*time.Second, name+" gets "+ev, func(e testutil.Event) bool {
		return e.Name() == "event" && e.Str("c") == name && e.Str("name") == ev
	})
	b, _ := json.Marshal(e["args"])
	return string(b)
}

func (c *clients) eventIs(name, ev, want string) {
	c.t.Helper()
	if got := c.event(name, ev); got != want {
		c.t.Fatalf("%s got %s%s, want %s", name, ev, got, want)
	}
}

// none checks that client name gets no event ev for a while.
func (c *clients) none(name, ev string) {
	c.t.Helper()
	c.p.ExpectNone(300*time.Millisecond, name+" gets no "+ev, func(e testutil.Event) bool {
		return e.Name() == "event" && e.Str("c") == name && e.Str("name") == ev
	})
}

func (c *clients) reply(name, ev string, args ...any) {
	c.t.Helper()
	c.p.Send(map[string]any{"cmd": "reply", "c": name, "event": ev, "args": args})
	c.p.ExpectEv("replying", name)
}

func (c *clients) disconnected(name string) string {
	c.t.Helper()
	return c.p.ExpectEv("disconnect", name).Str("reason")
}

func waitCount(t *testing.T, io *socketio.Server, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := io.MainNamespace().Adapter().ServerCount(context.Background())
		if err == nil && n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server count %d (%v), want %d", n, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var protocols = []string{"classic", "sharded", "streams"}

// forProtocols runs fn for each adapter protocol, in parallel.
func forProtocols(t *testing.T, fn func(t *testing.T, proto string)) {
	for _, p := range protocols {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			fn(t, p)
		})
	}
}
