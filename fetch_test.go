package socketio_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
)

// Fetching sockets, joining, leaving and disconnecting in bulk, each
// composed with To/In/Except, and the adapter's room events, with the
// official client.
func TestInteropFetchAndBulk(t *testing.T) {
	forModes(t, func(t *testing.T, tr []string) {
		io, url, _ := newTestServer(t, socketio.Config{})
		var evMu sync.Mutex
		var events []string
		note := func(s string) { evMu.Lock(); events = append(events, s); evMu.Unlock() }
		if err := io.MainNamespace().OnRoomEvents(adapter.RoomEvents{
			CreateRoom: func(r string) { note("create " + r) },
			DeleteRoom: func(r string) { note("delete " + r) },
			JoinRoom:   func(r, id string) { note("join " + r) },
			LeaveRoom:  func(r, id string) { note("leave " + r) },
		}); err != nil {
			t.Fatal(err)
		}
		p := driver(t, url)
		ids := map[string]string{}
		for _, c := range []string{"a", "b", "c"} {
			ids[c] = connect(t, p, c, tr, map[string]any{"query": map[string]any{"who": c}})
		}
		for i, c := range []string{"a", "b"} {
			p.Send(map[string]any{"cmd": "emit", "c": c, "event": "join", "args": []any{"r1"}, "ack": true, "seq": i})
			ackOf(t, p, c, i)
		}
		ctx := context.Background()

		fetched, err := io.In("r1").FetchSockets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, rs := range fetched {
			got = append(got, rs.ID)
			if !rs.Rooms.Has("r1") || rs.Handshake.Query.Get("who") == "" || rs.Handshake.Query.Get("EIO") != "4" {
				t.Fatalf("fetched socket %+v", rs)
			}
		}
		sort.Strings(got)
		want := []string{ids["a"], ids["b"]}
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Fatalf("fetched %v, want %v", got, want)
		}

		// Bulk join with a filter, then a broadcast to the new room.
		if err := io.In("r1").SocketsJoin(ctx, "r2"); err != nil {
			t.Fatal(err)
		}
		if err := io.Except("r1").SocketsJoin(ctx, "r3"); err != nil {
			t.Fatal(err)
		}
		_ = io.To("r2").Emit("to-r2")
		_ = io.To("r3").Emit("to-r3")
		eventOf(t, p, "a", "to-r2")
		eventOf(t, p, "b", "to-r2")
		eventOf(t, p, "c", "to-r3")
		if err := io.In("r2").SocketsLeave(ctx, "r2"); err != nil {
			t.Fatal(err)
		}
		if n := len(io.In("r2").SocketIDs()); n != 0 {
			t.Fatalf("%d sockets still in r2", n)
		}

		// A fetched socket is reachable directly.
		var a *socketio.RemoteSocket
		for _, rs := range fetched {
			if rs.ID == ids["a"] {
				a = rs
			}
		}
		if err := a.Emit("direct", 1); err != nil {
			t.Fatal(err)
		}
		jsonEq(t, "direct", eventOf(t, p, "a", "direct")["args"], `[1]`)
		p.Send(map[string]any{"cmd": "reply", "c": "a", "event": "vote", "args": []any{"yes"}})
		p.ExpectEv("replying", "a")
		res, err := a.Timeout(3*time.Second).EmitWithAck(ctx, "vote")
		if err != nil {
			t.Fatal(err)
		}
		var answer string
		if err := res.Bind(&answer); err != nil || answer != "yes" {
			t.Fatalf("answer %q %v", answer, err)
		}
		if err := a.Join(ctx, "solo"); err != nil || len(io.In("solo").SocketIDs()) != 1 {
			t.Fatalf("remote join: %v", err)
		}
		if err := a.Leave(ctx, "solo"); err != nil || len(io.In("solo").SocketIDs()) != 0 {
			t.Fatalf("remote leave: %v", err)
		}
		if err := a.Disconnect(ctx, false); err != nil {
			t.Fatal(err)
		}
		if r := p.ExpectEv("disconnect", "a").Str("reason"); r != "io server disconnect" {
			t.Fatalf("reason %q", r)
		}
		// Bulk disconnect with a filter.
		if err := io.In("r3").DisconnectSockets(ctx, true); err != nil {
			t.Fatal(err)
		}
		if r := p.ExpectEv("disconnect", "c").Str("reason"); r != "io server disconnect" {
			t.Fatalf("reason %q", r)
		}
		p.Send(map[string]any{"cmd": "emit", "c": "b", "event": "sum", "args": []any{[]int{1}}, "ack": true, "seq": 7})
		ackOf(t, p, "b", 7) // b is untouched

		evMu.Lock()
		defer evMu.Unlock()
		all := strings.Join(events, ",")
		for _, w := range []string{"create r1", "join r1", "create r2", "join r2", "leave r2", "delete r2", "create solo", "delete solo"} {
			if !strings.Contains(all, w) {
				t.Fatalf("room events %s: missing %q", all, w)
			}
		}
	})
}

// bus links the adapters of several servers in one process, to test what
// travels between servers without a network adapter.
type bus struct {
	mu    sync.Mutex
	nodes []*busAdapter
}

type busAdapter struct {
	adapter.Adapter
	nsp adapter.Namespace
	bus *bus
}

func (b *bus) factory(nsp adapter.Namespace) (adapter.Adapter, error) {
	m, err := adapter.NewMemory(nsp)
	if err != nil {
		return nil, err
	}
	ba := &busAdapter{Adapter: m, nsp: nsp, bus: b}
	b.mu.Lock()
	b.nodes = append(b.nodes, ba)
	b.mu.Unlock()
	return ba, nil
}

func (a *busAdapter) others() []*busAdapter {
	a.bus.mu.Lock()
	defer a.bus.mu.Unlock()
	var out []*busAdapter
	for _, n := range a.bus.nodes {
		if n != a && n.nsp.Name() == a.nsp.Name() {
			out = append(out, n)
		}
	}
	return out
}

func (a *busAdapter) ServerCount(context.Context) (int, error) { return len(a.others()) + 1, nil }

func (a *busAdapter) ServerSideEmit(_ context.Context, args []json.RawMessage) error {
	for _, o := range a.others() {
		o.nsp.OnServerSideEmit(args, nil)
	}
	return nil
}

func (a *busAdapter) ServerSideEmitWithAck(ctx context.Context, args []json.RawMessage) ([]json.RawMessage, error) {
	others := a.others()
	ch := make(chan json.RawMessage, len(others))
	for _, o := range others {
		o.nsp.OnServerSideEmit(args, func(r json.RawMessage) { ch <- r })
	}
	var out []json.RawMessage
	for range others {
		select {
		case r := <-ch:
			out = append(out, r)
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	return out, nil
}

// ServerSideEmit reaches the other servers' handlers, with and without
// acks; alone, a server reaches nobody and gets no answers.
func TestServerSideEmit(t *testing.T) {
	alone, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer alone.Close()
	alone.OnServerSideEmit("hello", func(*socketio.ServerEvent) { t.Error("a server got its own server-side event") })
	if err := alone.ServerSideEmit(context.Background(), "hello", 1); err != nil {
		t.Fatal(err)
	}
	if res, err := alone.ServerSideEmitWithAck(context.Background(), "hello"); err != nil || len(res) != 0 {
		t.Fatalf("alone: %v %v", res, err)
	}
	if err := alone.ServerSideEmit(context.Background(), "connect"); err == nil {
		t.Fatal("reserved event name accepted")
	}

	b := &bus{}
	var servers []*socketio.Server
	got := make(chan string, 8)
	for i := range 3 {
		s, err := socketio.NewServer(socketio.Config{Adapter: b.factory})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.OnServerSideEmit("hello", func(e *socketio.ServerEvent) {
			var who string
			_ = e.Bind(&who)
			got <- who
			if e.HasAck() {
				_ = e.Ack(map[string]int{"server": i})
			}
		})
		servers = append(servers, s)
	}
	if err := servers[0].ServerSideEmit(context.Background(), "hello", "from 0"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if w := <-got; w != "from 0" {
			t.Fatalf("got %q", w)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := servers[1].ServerSideEmitWithAck(ctx, "hello", "from 1")
	if err != nil || len(res) != 2 {
		t.Fatalf("answers %v %v", res, err)
	}
	var servs []int
	for _, r := range res {
		var v struct{ Server int }
		if err := r.Decode(0, &v); err != nil {
			t.Fatal(err)
		}
		servs = append(servs, v.Server)
	}
	sort.Ints(servs)
	if !slices.Equal(servs, []int{0, 2}) {
		t.Fatalf("answers from %v", servs)
	}
}

// remoteData is an in-memory adapter whose FetchSockets also returns a
// socket of "another server", its data decoded from JSON as it arrives
// from the cluster's wire.
type remoteData struct {
	adapter.Adapter
	data any
}

func (a *remoteData) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	infos, err := a.Adapter.FetchSockets(ctx, opts)
	b, _ := json.Marshal(a.data)
	var wire any
	if err := json.Unmarshal(b, &wire); err != nil {
		return nil, err
	}
	return append(infos, adapter.SocketInfo{ID: "remote", Data: wire}), err
}

// DataAs gives the same typed value for a socket of this server (whose
// Data is the Go value) and of another server (whose Data is decoded JSON).
func TestRemoteSocketDataAs(t *testing.T) {
	type profile struct {
		Name   string         `json:"name"`
		Age    int            `json:"age"`
		Tags   []string       `json:"tags"`
		Avatar []byte         `json:"avatar"`
		Extra  map[string]int `json:"extra"`
		secret string
	}
	want := profile{Name: "ana", Age: 7, Tags: []string{"a"}, Avatar: []byte{1, 2}, Extra: map[string]int{"x": 1}, secret: "kept locally only"}
	io, err := socketio.NewServer(socketio.Config{Adapter: func(nsp adapter.Namespace) (adapter.Adapter, error) {
		m, err := adapter.NewMemory(nsp)
		return &remoteData{Adapter: m, data: want}, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		s.SetData(want)
		pingHandler(s)
	})
	url := serve(t, io)
	c, err := dialNsp(t, url, "/", []string{"websocket"})
	if err != nil {
		t.Fatal(err)
	}
	echoOnce(t, c)
	socks, err := io.FetchSockets(context.Background())
	if err != nil || len(socks) != 2 {
		t.Fatalf("fetch: %v, %v", socks, err)
	}
	if _, local := socks[0].Data.(profile); !local {
		t.Fatalf("local Data is %T, want the Go value", socks[0].Data)
	}
	if _, wire := socks[1].Data.(map[string]any); !wire {
		t.Fatalf("remote Data is %T, want decoded JSON", socks[1].Data)
	}
	want.secret = "" // JSON drops it, on one server as on many
	for _, r := range socks {
		got, err := socketio.DataAs[profile](r)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("DataAs of %s: %+v, %v; want %+v", r.ID, got, err, want)
		}
		if _, err := socketio.DataAs[[]int](r); err == nil {
			t.Fatalf("DataAs of %s into the wrong type: no error", r.ID)
		}
	}
	if n, err := socketio.DataAs[*profile](&socketio.RemoteSocket{ID: "none"}); err != nil || n != nil {
		t.Fatalf("no data: %v, %v", n, err)
	}
}
