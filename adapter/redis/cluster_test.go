package redis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/adapter"
)

// Two Go servers on one Redis, official clients on each: every cluster
// operation crosses from one server to the other.
func TestTwoGoNodes(t *testing.T) {
	t.Parallel()
	forProtocols(t, testTwoGoNodes)
	t.Run("sharded-private", func(t *testing.T) {
		t.Parallel()
		testTwoGoNodes(t, "sharded-private")
	})
}

func testTwoGoNodes(t *testing.T, proto string) { testTwoGoNodesOn(t, singleRedis(t), proto) }

// testTwoGoNodesOn runs the two-server test on a Redis backend (one
// server or a Redis Cluster).
func testTwoGoNodesOn(t *testing.T, be backend, proto string) {
	key := randomKey(t)
	client := be.client
	a := newGoNode(t, client, key, "A", proto)
	b := newGoNode(t, client, key, "B", proto)
	// The application's room events and the adapter's own (sharded room
	// subscriptions) both work.
	var evMu sync.Mutex
	var created []string
	if err := b.io.MainNamespace().OnRoomEvents(adapter.RoomEvents{CreateRoom: func(r string) {
		evMu.Lock()
		created = append(created, r)
		evMu.Unlock()
	}}); err != nil {
		t.Fatal(err)
	}
	ca, cb := newClients(t, a.url), newClients(t, b.url)
	a1 := ca.connect("a1")
	b1 := cb.connect("b1")
	b2 := cb.connect("b2")
	cb.join("b1", "room1")
	ca.join("a1", "room1")
	cb.join("b2", "room2")
	waitCount(t, a.io, 2)
	ctx := context.Background()

	// Broadcast to all, with binary, from A.
	if err := a.io.Emit("hello", "world", 1, 2.5, map[string]any{"bin": []byte{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	want := `["world",1,2.5,{"bin":{"$bin":"AQID"}}]`
	ca.eventIs("a1", "hello", want)
	cb.eventIs("b1", "hello", want)
	cb.eventIs("b2", "hello", want)

	// To a room, and except a room, from B.
	_ = b.io.To("room1").Emit("r1", "x")
	ca.eventIs("a1", "r1", `["x"]`)
	cb.eventIs("b1", "r1", `["x"]`)
	cb.none("b2", "r1")
	_ = b.io.Except("room1").Emit("not-r1")
	cb.eventIs("b2", "not-r1", `[]`)
	ca.none("a1", "not-r1")
	// To a socket id on the other server; local stays local.
	_ = a.io.To(b2).Emit("private", 7)
	cb.eventIs("b2", "private", `[7]`)
	_ = a.io.MainNamespace().Local().Emit("local-only")
	ca.eventIs("a1", "local-only", `[]`)
	cb.none("b1", "local-only")

	// Remote socketsJoin / socketsLeave.
	if err := a.io.In("room2").SocketsJoin(ctx, "room3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "b2 in room3", func() bool { return slices.Contains(b.io.In("room3").SocketIDs(), b2) })
	_ = a.io.To("room3").Emit("r3")
	cb.eventIs("b2", "r3", `[]`)
	if err := a.io.In("room3").SocketsLeave(ctx, "room3"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "room3 empty", func() bool { return len(b.io.In("room3").SocketIDs()) == 0 })
	_ = a.io.To("room3").Emit("r3-again")
	cb.none("b2", "r3-again")

	// fetchSockets across both servers.
	socks, err := a.io.FetchSockets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range socks {
		ids = append(ids, s.ID)
		if s.Handshake.Query.Get("EIO") != "4" {
			t.Fatalf("handshake %+v", s.Handshake)
		}
	}
	sort.Strings(ids)
	wantIDs := []string{a1, b1, b2}
	sort.Strings(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("fetched %v, want %v", ids, wantIDs)
	}
	socks, err = b.io.In("room1").FetchSockets(ctx)
	if err != nil || len(socks) != 2 {
		t.Fatalf("room1: %d sockets, %v", len(socks), err)
	}
	for _, s := range socks {
		if !s.Rooms.Has("room1") {
			t.Fatalf("rooms %v", s.Rooms)
		}
		d, _ := json.Marshal(s.Data)
		if s.ID == a1 && (string(d) != `{"bin":"AQID","server":"A"}` || !bytes.Equal(s.Data.(map[string]any)["bin"].([]byte), []byte{1, 2, 3})) {
			t.Fatalf("data %s", d)
		}
	}
	// A fetched remote socket can be addressed.
	for _, s := range socks {
		if s.ID == a1 {
			if err := s.Emit("direct", "hi"); err != nil {
				t.Fatal(err)
			}
		}
	}
	ca.eventIs("a1", "direct", `["hi"]`)

	// serverSideEmit without and with ack.
	if err := a.io.ServerSideEmit(ctx, "ping-server", "no-ack", 1); err != nil {
		t.Fatal(err)
	}
	if e := b.expectSide(t, `["no-ack",1]`); e.withAck {
		t.Fatal("ack expected")
	}
	res, err := b.io.ServerSideEmitWithAck(ctx, "ping-server", "with-ack")
	if err != nil || len(res) != 1 {
		t.Fatalf("answers %v %v", res, err)
	}
	a.expectSide(t, `["with-ack"]`)
	var ans struct {
		From string `json:"from"`
		OK   bool   `json:"ok"`
	}
	if err := res[0].Bind(&ans); err != nil || ans.From != "A" || !ans.OK {
		t.Fatalf("answer %+v %v", ans, err)
	}

	// Broadcast with ack gathered across servers.
	ca.reply("a1", "vote", "a1-yes")
	cb.reply("b1", "vote", map[string]any{"who": "b1", "bin": map[string]any{"$bin": "AQI="}})
	cb.reply("b2", "vote", "b2-yes")
	answers, err := a.io.Timeout(3*time.Second).EmitWithAck(ctx, "vote", 1)
	if err != nil || len(answers) != 3 {
		t.Fatalf("answers %d %v", len(answers), err)
	}
	var got []string
	for _, r := range answers {
		var v any
		if err := r.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		if m, ok := v.(map[string]any); ok {
			if bin, ok := m["bin"].([]byte); !ok || len(bin) != 2 {
				t.Fatalf("binary ack %#v", m)
			}
			got = append(got, m["who"].(string))
		} else {
			got = append(got, v.(string))
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, []string{"a1-yes", "b1", "b2-yes"}) {
		t.Fatalf("answers %v", got)
	}
	// Nobody in the room: every server still reports its count (0).
	start := time.Now()
	answers, err = a.io.To("nobody").Timeout(3*time.Second).EmitWithAck(ctx, "vote")
	if err != nil || len(answers) != 0 || time.Since(start) > 2*time.Second {
		t.Fatalf("empty room: %v %v after %v", answers, err, time.Since(start))
	}

	// Remote disconnect.
	if err := a.io.In("room2").DisconnectSockets(ctx, true); err != nil {
		t.Fatal(err)
	}
	if r := cb.disconnected("b2"); r != "io server disconnect" {
		t.Fatalf("reason %q", r)
	}
	evMu.Lock()
	defer evMu.Unlock()
	if !slices.Contains(created, "room1") || !slices.Contains(created, "room3") {
		t.Fatalf("room events %v", created)
	}
}
