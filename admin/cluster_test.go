package admin_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	socketio "github.com/gosio/socketio"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/admin"
)

const redisAddr = "127.0.0.1:6379"

// redisClient returns a client of the test Redis, failing the test with a
// clear message when none answers.
func redisClient(t *testing.T) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: redisAddr, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("the cluster test needs Redis at %s (apt-get install -y redis-server): %v", redisAddr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Two servers over the Redis adapter: a UI connected to server A gets the
// statistics of both, sees the sockets of B (connected before it, through
// all_sockets, and after, through B's socket_connected), and its commands
// sent to A reach B's sockets.
func TestClusterOverRedis(t *testing.T) {
	forTransports(t, func(t *testing.T, tr []string) {
		key := func() string {
			b := make([]byte, 4)
			_, _ = rand.Read(b)
			return "admin-test-" + hex.EncodeToString(b)
		}()
		node := func(id string) *app {
			rdb := redisClient(t)
			return newApp(t, admin.Options{Auth: admin.NoAuth, ServerID: id, StatsInterval: 300 * time.Millisecond},
				socketio.Config{Adapter: redisadapter.NewAdapter(rdb, redisadapter.Options{Key: key, RequestsTimeout: 3 * time.Second})})
		}
		a, b := node("srv-A"), node("srv-B")
		for _, n := range []*app{a, b} {
			for _, nsp := range []*socketio.Namespace{n.io.MainNamespace(), n.in.Namespace()} {
				waitFor(t, "both servers in "+nsp.Name(), func() bool {
					c, err := nsp.Adapter().ServerCount(context.Background())
					return err == nil && c == 2
				})
			}
		}
		pa, pb := driver(t, a.url), driver(t, b.url)
		early := connectApp(t, pb, "early", []string{"websocket"})
		pb.Send(map[string]any{"cmd": "emit", "c": "early", "event": "join-room", "args": []any{"on-b"}, "ack": true, "seq": 1})
		pb.ExpectEv("ack", "early")

		ui := connectUI(t, pa, "ui", tr, nil)
		list, _ := event(t, pa, "ui", "all_sockets", nil)[0].([]any)
		found := map[string]map[string]any{}
		for _, v := range list {
			s := obj(t, v)
			found[fmt.Sprint(s["nsp"], " ", s["id"])] = s
		}
		if len(found) != 2 || found["/admin "+ui] == nil || found["/ "+early] == nil {
			t.Fatalf("all_sockets on A %v, want the UI and B's socket %s", list, early)
		}
		s := found["/ "+early]
		if !slices.Equal(sortedStrings(s["rooms"]), sorted(early, "on-b")) || s["transport"] != "websocket" || len(s["clientId"].(string)) != 12 {
			t.Errorf("B's socket in A's all_sockets: %v", s)
		}

		servers := map[string]bool{}
		for len(servers) < 2 {
			st := obj(t, event(t, pa, "ui", "server_stats", nil)[0])
			id, _ := st["serverId"].(string)
			if id != "srv-A" && id != "srv-B" {
				t.Fatalf("server_stats from %q: %v", id, st)
			}
			servers[id] = true
		}

		late := connectApp(t, pb, "late", tr)
		event(t, pa, "ui", "socket_connected", func(args []any) bool { return obj(t, args[0])["id"] == late })
		pa.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "join", "args": []any{"/", "from-a", late}})
		event(t, pa, "ui", "room_joined", argsAre("/", "from-a", late))
		pa.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "emit", "args": []any{"/", "on-b", "fromAdmin", "hi"}})
		event(t, pb, "early", "fromAdmin", argsAre("hi"))
		pa.Send(map[string]any{"cmd": "emit", "c": "ui", "event": "_disconnect", "args": []any{"/", false, late}})
		if r := b.reason(t, late); r != socketio.ReasonServerNamespaceDisconnect {
			t.Errorf("B's socket disconnected from A's UI with %q", r)
		}
		pb.ExpectEv("disconnect", "late")
		event(t, pa, "ui", "socket_disconnected", argsAre("/", late, "server namespace disconnect"))
		event(t, pa, "ui", "room_left", argsAre("/", late, late))
		if !b.connected(early) {
			t.Error("B's other socket was disconnected too")
		}
	})
}
