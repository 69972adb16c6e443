package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	socketio "github.com/gosio/socketio"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/admin"
	"github.com/gosio/socketio/internal/testutil"
)

const redisAddr = "127.0.0.1:6379"

// node is one server of the example on a Redis adapter.
type node struct {
	io  *socketio.Server
	url string
}

// startNode runs the example's server with the Redis adapter on key and
// the server id, until the test ends.
func startNode(t *testing.T, key, id, hash, modules string) *node {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("the cluster test needs Redis at %s (apt-get install -y redis-server): %v", redisAddr, err)
	}
	io, in, h, err := newServer(settings{
		user: "admin", hash: hash, mode: admin.Development, nodeModules: modules, serverID: id,
		adapter: redisadapter.NewAdapter(rdb, redisadapter.Options{Key: key, RequestsTimeout: 3 * time.Second}),
	})
	if err != nil {
		_ = rdb.Close()
		t.Fatal(err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		_ = in.Close()
		hs.Close()
		_ = io.Close()
		_ = rdb.Close()
	})
	return &node{io: io, url: hs.URL}
}

// event waits for event name of client c whose arguments start with want
// (compared as JSON) and returns its arguments.
func event(t *testing.T, p *testutil.Proc, c, name string, want ...any) []any {
	t.Helper()
	return p.EventOf(c, name, testutil.ArgsStartWith(want...))
}

// Two servers of the example over Redis, with the official client as the
// UI on server A (logged in with the password), over WebSocket and
// polling: it gets server_stats from both server ids, sees B's sockets
// (through all_sockets and B's socket_connected), and a _disconnect sent
// to A disconnects B's socket.
func TestClusterOverRedis(t *testing.T) {
	modules := nodeModules(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range [][]string{{"websocket"}, {"polling"}} {
		t.Run(tr[0], func(t *testing.T) {
			b := make([]byte, 4)
			_, _ = rand.Read(b)
			key := "admin-example-" + hex.EncodeToString(b)
			a, bn := startNode(t, key, "srv-A", string(hash), modules), startNode(t, key, "srv-B", string(hash), modules)
			for _, n := range []*node{a, bn} {
				for _, name := range []string{"/", "/admin"} {
					nsp, err := n.io.Of(name)
					if err != nil {
						t.Fatal(err)
					}
					deadline := time.Now().Add(10 * time.Second)
					for c, _ := nsp.Adapter().ServerCount(context.Background()); c != 2; c, _ = nsp.Adapter().ServerCount(context.Background()) {
						if time.Now().After(deadline) {
							t.Fatalf("%s sees %d servers in %s", n.url, c, name)
						}
						time.Sleep(20 * time.Millisecond)
					}
				}
			}
			pa := testutil.StartNode(t, "sio-driver.mjs", a.url)
			pa.ExpectEv("ready", "")
			pb := testutil.StartNode(t, "sio-driver.mjs", bn.url)
			pb.ExpectEv("ready", "")
			pb.Send(map[string]any{"cmd": "connect", "c": "early", "transports": tr})
			early := pb.ExpectEv("connect", "early").Str("id")

			pa.Send(map[string]any{"cmd": "connect", "c": "ui", "nsp": "/admin", "transports": tr,
				"auth": map[string]any{"username": "admin", "password": "s3cret"}})
			pa.ExpectEv("connect", "ui")
			event(t, pa, "ui", "session")
			list, _ := event(t, pa, "ui", "all_sockets")[0].([]any)
			found := false
			for _, v := range list {
				s, _ := v.(map[string]any)
				found = found || (s["id"] == early && s["nsp"] == "/")
			}
			if !found {
				t.Fatalf("all_sockets on A %v lacks B's socket %s", list, early)
			}
			servers := map[any]bool{}
			for len(servers) < 2 {
				st, _ := event(t, pa, "ui", "server_stats")[0].(map[string]any)
				if id := st["serverId"]; id != "srv-A" && id != "srv-B" {
					t.Fatalf("server_stats of %v", st)
				}
				servers[st["serverId"]] = true
			}

			pb.Send(map[string]any{"cmd": "connect", "c": "late", "transports": tr})
			late := pb.ExpectEv("connect", "late").Str("id")
			conn := pa.EventOf("ui", "socket_connected", func(args []any) bool {
				s, _ := args[0].(map[string]any)
				return s["id"] == late
			})
			if s, _ := conn[0].(map[string]any); s["nsp"] != "/" || s["transport"] != tr[0] || !testutil.JSONEqual(s["rooms"], []string{late}) {
				t.Errorf("socket_connected from B: %v", s)
			}
			pa.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "_disconnect", "args": []any{"/", false, late}})
			if r := pb.ExpectEv("disconnect", "late").Str("reason"); r != "io server disconnect" {
				t.Errorf("B's socket disconnected from A's UI with %q", r)
			}
			event(t, pa, "ui", "socket_disconnected", "/", late, "server namespace disconnect")
			if bn.io.MainNamespace().Socket(early) == nil {
				t.Error("B's other socket was disconnected too")
			}
		})
	}
}
