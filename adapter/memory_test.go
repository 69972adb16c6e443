package adapter

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/parser"
)

type fakeNsp struct {
	recovery time.Duration
	ack      uint64
}

func (f *fakeNsp) Name() string                                              { return "/" }
func (f *fakeNsp) Encode(*parser.Packet) (Encoded, error)                    { return nil, nil }
func (f *fakeNsp) NextAckID() uint64                                         { f.ack++; return f.ack }
func (f *fakeNsp) OnServerSideEmit([]json.RawMessage, func(json.RawMessage)) {}
func (f *fakeNsp) RecoveryDuration() time.Duration                           { return f.recovery }

// fakeSock is a socket handle that records what the adapter does with it.
type fakeSock struct {
	id string
	mu sync.Mutex
	// delivered: the event names of the packets delivered; acks: the ack
	// ids expected; disconnects: the close flags.
	delivered   []string
	acks        []uint64
	disconnects []bool
}

// sock returns a new handle for id.
func sock(id string) *fakeSock { return &fakeSock{id: id} }

func (s *fakeSock) ID() SocketID { return s.id }
func (s *fakeSock) Deliver(p *parser.Packet, _ Encoded, _ BroadcastFlags) {
	name, _, _ := parser.DecodeEvent(p)
	s.mu.Lock()
	s.delivered = append(s.delivered, name)
	s.mu.Unlock()
}
func (s *fakeSock) ExpectAck(id uint64, _ func(AckResponse)) {
	s.mu.Lock()
	s.acks = append(s.acks, id)
	s.mu.Unlock()
}
func (s *fakeSock) Disconnect(close bool) {
	s.mu.Lock()
	s.disconnects = append(s.disconnects, close)
	s.mu.Unlock()
}
func (s *fakeSock) Info() SocketInfo { return SocketInfo{ID: s.id} }

func (s *fakeSock) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.delivered)
}

func newMem(t testing.TB, recovery time.Duration) *Memory {
	t.Helper()
	a, err := NewMemory(&fakeNsp{recovery: recovery})
	if err != nil {
		t.Fatal(err)
	}
	return a.(*Memory)
}

func sorted(ids []SocketID) []SocketID { slices.Sort(ids); return ids }

func TestMemoryRooms(t *testing.T) {
	m := newMem(t, 0)
	var events []string
	m.SetRoomEvents(RoomEvents{
		CreateRoom: func(r Room) { events = append(events, "create "+r) },
		DeleteRoom: func(r Room) { events = append(events, "delete "+r) },
		JoinRoom:   func(r Room, id SocketID) { events = append(events, "join "+r+" "+id) },
		LeaveRoom:  func(r Room, id SocketID) { events = append(events, "leave "+r+" "+id) },
	})
	m.AddAll(sock("a"), "a")
	m.AddAll(sock("b"), "b", "r1", "r1")
	m.AddAll(sock("a"), "r1", "r2")
	m.AddAll(sock("c"), "c")

	if got := m.SocketRooms("a"); !slices.Equal(got, []Room{"a", "r1", "r2"}) {
		t.Fatalf("rooms of a: %v", got)
	}
	if got := m.Rooms(); !slices.Equal(got, []Room{"a", "b", "c", "r1", "r2"}) {
		t.Fatalf("rooms: %v", got)
	}
	tests := []struct {
		name string
		opts BroadcastOptions
		want []SocketID
	}{
		{"all", BroadcastOptions{}, []SocketID{"a", "b", "c"}},
		{"one room", BroadcastOptions{Rooms: []Room{"r1"}}, []SocketID{"a", "b"}},
		{"two rooms, once each", BroadcastOptions{Rooms: []Room{"r1", "r2"}}, []SocketID{"a", "b"}},
		{"own room", BroadcastOptions{Rooms: []Room{"c"}}, []SocketID{"c"}},
		{"except a room", BroadcastOptions{Except: []Room{"r1"}}, []SocketID{"c"}},
		{"except a socket", BroadcastOptions{Rooms: []Room{"r1"}, Except: []Room{"a"}}, []SocketID{"b"}},
		{"own rooms mixed", BroadcastOptions{Rooms: []Room{"a", "c", "r2"}}, []SocketID{"a", "c"}},
		{"unknown room", BroadcastOptions{Rooms: []Room{"nope"}}, []SocketID{}},
	}
	for _, tt := range tests {
		if got := sorted(m.Sockets(tt.opts)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}

	m.Del("a", "r2")
	m.Del("a", "a") // a socket cannot leave its own room
	if got := m.SocketRooms("a"); !slices.Equal(got, []Room{"a", "r1"}) {
		t.Fatalf("after Del: %v", got)
	}
	m.DelAll("b")
	if m.SocketRooms("b") != nil || len(m.Sockets(BroadcastOptions{Rooms: []Room{"b"}})) != 0 {
		t.Fatal("b still known")
	}
	want := "create a,join a a,create b,join b b,create r1,join r1 b,join r1 a,create r2,join r2 a,create c,join c c," +
		"leave r2 a,delete r2,leave r1 b,leave b b,delete b"
	if got := strings.Join(events, ","); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
}

func event(t *testing.T, args ...any) *parser.Packet {
	t.Helper()
	p, err := parser.NewEvent("/", "ev", args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMemoryRecovery(t *testing.T) {
	m := newMem(t, time.Minute)
	ctx := context.Background()
	first := event(t, 0)
	_ = m.Broadcast(first, BroadcastOptions{})
	_, args, _ := parser.DecodeEvent(first)
	var offset string
	if err := json.Unmarshal(args[len(args)-1], &offset); err != nil || offset == "" {
		t.Fatalf("no offset appended: %s", first.Data)
	}
	_ = m.Broadcast(event(t, 1), BroadcastOptions{Rooms: []Room{"r1"}})
	_ = m.Broadcast(event(t, 2), BroadcastOptions{Rooms: []Room{"r2"}})
	_ = m.Broadcast(event(t, 3), BroadcastOptions{Except: []Room{"r1"}})
	_ = m.Broadcast(event(t, 4), BroadcastOptions{Flags: BroadcastFlags{Volatile: true}})
	withAck := event(t, 5)
	withAck.SetID(1)
	_ = m.Broadcast(withAck, BroadcastOptions{})
	_ = m.Broadcast(event(t, 6), BroadcastOptions{Rooms: []Room{"sid1"}})

	if err := m.PersistSession(ctx, &Session{SID: "sid1", PID: "p1", Rooms: []Room{"sid1", "r1"}, Data: "d"}); err != nil {
		t.Fatal(err)
	}
	s, err := m.RestoreSession(ctx, "p1", offset)
	if err != nil || s == nil {
		t.Fatalf("restore: %v %v", s, err)
	}
	var got []string
	for _, p := range s.MissedPackets {
		_, a, _ := parser.DecodeEvent(p)
		got = append(got, string(a[0]))
	}
	if !slices.Equal(got, []string{"1", "6"}) || s.SID != "sid1" || s.Data != "d" {
		t.Fatalf("missed %v (session %+v)", got, s)
	}
	if s, _ := m.RestoreSession(ctx, "p1", offset); s != nil {
		t.Fatal("a session restored twice")
	}
	_ = m.PersistSession(ctx, &Session{SID: "sid2", PID: "p2"})
	if s, _ := m.RestoreSession(ctx, "p2", "unknown-offset"); s != nil {
		t.Fatal("restored with an unknown offset")
	}
	short := newMem(t, 10*time.Millisecond)
	_ = short.PersistSession(ctx, &Session{SID: "x", PID: "p"})
	time.Sleep(30 * time.Millisecond)
	if s, _ := short.RestoreSession(ctx, "p", "any"); s != nil {
		t.Fatal("restored an expired session")
	}
}

// RestoreSession follows Node's in-memory adapter: an unknown offset
// leaves the session in place for a later attempt, an expired session is
// dropped; a restored session is used once.
func TestMemoryRestoreKeepsSession(t *testing.T) {
	ctx := context.Background()
	type attempt struct {
		offset string // "known" stands for the stored packet's offset
		ok     bool
	}
	for _, tc := range []struct {
		name     string
		recovery time.Duration
		wait     time.Duration
		attempts []attempt
	}{
		{"unknown offset, then the known one", time.Minute, 0, []attempt{{"nope", false}, {"", false}, {"known", true}}},
		{"restored once only", time.Minute, 0, []attempt{{"known", true}, {"known", false}}},
		{"expired", 10 * time.Millisecond, 30 * time.Millisecond, []attempt{{"known", false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMem(t, tc.recovery)
			p := event(t, 1)
			_ = m.Broadcast(p, BroadcastOptions{})
			_, args, _ := parser.DecodeEvent(p)
			var known string
			_ = json.Unmarshal(args[len(args)-1], &known)
			if err := m.PersistSession(ctx, &Session{SID: "sid", PID: "pid", Rooms: []Room{"sid"}}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.wait)
			for i, a := range tc.attempts {
				off := a.offset
				if off == "known" {
					off = known
				}
				s, err := m.RestoreSession(ctx, "pid", off)
				if err != nil || (s != nil) != a.ok {
					t.Fatalf("attempt %d with offset %q: session %v, err %v; want restored %v", i, a.offset, s, err, a.ok)
				}
				if s != nil && s.SID != "sid" {
					t.Fatalf("restored %+v", s)
				}
			}
		})
	}
}

// Broadcasts reach the handles the sockets registered, each matched socket
// once; acks are expected from every recipient; operations by options
// (what other servers send) resolve to the same handles; a socket that
// left is not reached any more.
func TestMemoryDeliversToHandles(t *testing.T) {
	m := newMem(t, 0)
	a, b, c := sock("a"), sock("b"), sock("c")
	m.AddAll(a, "a", "r1", "r2")
	m.AddAll(b, "b", "r1")
	m.AddAll(c, "c")
	m.AddAll(sock("a"), "r3") // a second handle for a registered id is not kept
	ev := func(name string) *parser.Packet {
		p, err := parser.NewEvent("/", name)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		opts BroadcastOptions
	}{
		{"all", BroadcastOptions{}},
		{"r1", BroadcastOptions{Rooms: []Room{"r1"}}},
		{"r1+r2", BroadcastOptions{Rooms: []Room{"r1", "r2"}}},
		{"r3", BroadcastOptions{Rooms: []Room{"r3"}}},
		{"own", BroadcastOptions{Rooms: []Room{"c", "b"}}},
		{"except", BroadcastOptions{Except: []Room{"r2"}}},
		{"r1-except-b", BroadcastOptions{Rooms: []Room{"r1"}, Except: []Room{"b"}}},
	} {
		if err := m.Broadcast(ev(tc.name), tc.opts); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []struct {
		s    *fakeSock
		want []string
	}{
		{a, []string{"all", "r1", "r1+r2", "r3", "r1-except-b"}},
		{b, []string{"all", "r1", "r1+r2", "own", "except"}},
		{c, []string{"all", "own", "except"}},
	} {
		if got := want.s.got(); !slices.Equal(got, want.want) {
			t.Errorf("%s got %v, want %v", want.s.id, got, want.want)
		}
	}

	var counts []int
	if err := m.BroadcastWithAck(ev("ack"), BroadcastOptions{Rooms: []Room{"r1"}}, func(n int) { counts = append(counts, n) }, func(AckResponse) {}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(counts, []int{2}) || len(a.acks) != 1 || len(b.acks) != 1 || len(c.acks) != 0 || a.acks[0] != b.acks[0] {
		t.Fatalf("client counts %v, acks a %v b %v c %v", counts, a.acks, b.acks, c.acks)
	}

	ctx := context.Background()
	if err := m.AddSockets(ctx, BroadcastOptions{Except: []Room{"r1"}}, []Room{"joined"}); err != nil {
		t.Fatal(err)
	}
	if err := m.DelSockets(ctx, BroadcastOptions{Rooms: []Room{"a"}}, []Room{"r2"}); err != nil {
		t.Fatal(err)
	}
	if got := m.SocketRooms("c"); !slices.Equal(got, []Room{"c", "joined"}) {
		t.Fatalf("rooms of c after a remote join: %v", got)
	}
	if got := m.SocketRooms("a"); !slices.Equal(got, []Room{"a", "r1", "r3"}) {
		t.Fatalf("rooms of a after a remote leave: %v", got)
	}
	_ = m.Broadcast(ev("joined"), BroadcastOptions{Rooms: []Room{"joined"}})
	if got := c.got(); got[len(got)-1] != "joined" {
		t.Fatalf("c got %v", got)
	}
	if err := m.DisconnectSockets(ctx, BroadcastOptions{Rooms: []Room{"r1"}}, true); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.disconnects, []bool{true}) || !slices.Equal(b.disconnects, []bool{true}) || len(c.disconnects) != 0 {
		t.Fatalf("disconnects a %v b %v c %v", a.disconnects, b.disconnects, c.disconnects)
	}
	infos, _ := m.FetchSockets(ctx, BroadcastOptions{Rooms: []Room{"joined", "a"}})
	var ids []string
	for _, in := range infos {
		ids = append(ids, in.ID)
	}
	if slices.Sort(ids); !slices.Equal(ids, []string{"a", "c"}) {
		t.Fatalf("fetched %v", ids)
	}
	if m.Socket("b") != Socket(b) || m.Socket("nobody") != nil {
		t.Fatal("Socket(id) does not return the registered handle")
	}

	m.DelAll("b")
	n := len(b.got())
	_ = m.Broadcast(ev("after"), BroadcastOptions{})
	_ = m.Broadcast(ev("after-r1"), BroadcastOptions{Rooms: []Room{"r1"}})
	if len(b.got()) != n || m.Socket("b") != nil {
		t.Fatalf("a socket that left still gets packets: %v", b.got())
	}
	if got := a.got(); !slices.Equal(got[len(got)-2:], []string{"after", "after-r1"}) {
		t.Fatalf("a got %v", got)
	}
}

// benchSock counts deliveries; it is a pointer, as the server's handles
// are pointer-shaped, so that a broadcast allocates nothing per recipient.
type benchSock struct {
	id string
	n  int
}

func (s *benchSock) ID() SocketID                                    { return s.id }
func (s *benchSock) Deliver(*parser.Packet, Encoded, BroadcastFlags) { s.n++ }
func (s *benchSock) ExpectAck(uint64, func(AckResponse))             {}
func (s *benchSock) Disconnect(bool)                                 {}
func (s *benchSock) Info() SocketInfo                                { return SocketInfo{ID: s.id} }

// BenchmarkMemoryBroadcast measures the adapter's part of a broadcast to
// 1,000 sockets: matching the recipients and walking their handles (the
// packet is not encoded: the namespace's Encode is a no-op here).
func BenchmarkMemoryBroadcast(b *testing.B) {
	m := newMem(b, 0)
	for i := range 1000 {
		id := "socket-id-" + strconv.Itoa(i) + "-xxxxxxxx"
		rooms := []Room{id}
		if i%2 == 0 {
			rooms = append(rooms, "even")
		}
		if i%10 == 0 {
			rooms = append(rooms, "tenth")
		}
		m.AddAll(&benchSock{id: id}, rooms...)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: "/", Data: []byte(`["e"]`)}
	for _, c := range []struct {
		name string
		opts BroadcastOptions
	}{
		{"all-1k", BroadcastOptions{}},
		{"room-500", BroadcastOptions{Rooms: []Room{"even"}}},
		{"two-rooms-except", BroadcastOptions{Rooms: []Room{"even", "tenth"}, Except: []Room{"tenth"}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = m.Broadcast(p, c.opts)
			}
		})
	}
}
