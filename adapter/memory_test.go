package adapter

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/parser"
)

type fakeNsp struct {
	recovery time.Duration
	ack      uint64
}

func (f *fakeNsp) Name() string                                              { return "/" }
func (f *fakeNsp) Socket(SocketID) Socket                                    { return nil }
func (f *fakeNsp) Encode(*parser.Packet) (Encoded, error)                    { return nil, nil }
func (f *fakeNsp) NextAckID() uint64                                         { f.ack++; return f.ack }
func (f *fakeNsp) OnServerSideEmit([]json.RawMessage, func(json.RawMessage)) {}
func (f *fakeNsp) RecoveryDuration() time.Duration                           { return f.recovery }

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
	m.AddAll("a", "a")
	m.AddAll("b", "b", "r1", "r1")
	m.AddAll("a", "r1", "r2")
	m.AddAll("c", "c")

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
