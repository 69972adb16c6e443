package admin_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/adapter/cluster/clustertest"
	"github.com/gosio/socketio/admin"
)

// Two servers on a cluster adapter (the in-process broker of
// adapter/cluster/clustertest, under the ClusterAdapter protocol the Redis,
// PostgreSQL and NATS adapters share; examples/admin runs the same over
// Redis): a UI connected to server A gets the statistics of both, sees the
// sockets of B (connected before it, through all_sockets, and after,
// through B's socket_connected), and its commands sent to A reach B's
// sockets.
func TestCluster(t *testing.T) {
	forTransports(t, func(t *testing.T, tr []string) {
		broker := clustertest.New()
		node := func(id string) *app {
			return newApp(t, admin.Options{Auth: admin.NoAuth, ServerID: id, StatsInterval: 300 * time.Millisecond},
				socketio.Config{Adapter: broker.Factory(cluster.Options{RequestsTimeout: 3 * time.Second})})
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
