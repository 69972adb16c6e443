package adapter

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/parser"
)

func TestCompareOffsets(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1", "1", 0},
		{"1", "2", -1},
		{"9", "10", -1},        // longer is larger
		{"z", "10", -1},        // base 36: one digit below two
		{"a", "9", 1},          // base 36: a follows 9
		{"lz3k0", "lz3k1", -1}, // the in-memory adapter's form
		{"1700000000000-9", "1700000000000-10", -1}, // Redis stream ids
		{"1700000000001-0", "1700000000000-99", 1},
		{"5-0", "5", 1}, // more parts after an equal one
		{"", "0", -1},
		{"", "", 0},
		{"-", "-", 0},
	} {
		if got := CompareOffsets(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareOffsets(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareOffsets(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareOffsets(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}

// offsetSock records the offsets packets are delivered with, and the last
// argument of each.
type offsetSock struct {
	id   string
	mu   sync.Mutex
	flag []string
	last []string
}

func (s *offsetSock) ID() SocketID { return s.id }
func (s *offsetSock) Deliver(p *parser.Packet, _ Encoded, f BroadcastFlags) {
	_, args, _ := parser.DecodeEvent(p)
	last, _ := strconv.Unquote(string(args[len(args)-1]))
	s.mu.Lock()
	s.flag = append(s.flag, f.Offset)
	s.last = append(s.last, last)
	s.mu.Unlock()
}
func (s *offsetSock) ExpectAck(uint64, func(AckResponse)) {}
func (s *offsetSock) Disconnect(bool)                     {}
func (s *offsetSock) Info() SocketInfo                    { return SocketInfo{ID: s.id} }

// The two steps of a restore (SessionRestorer): TakeSession follows
// RestoreSession's rules for the session, MissedPackets reads what was
// stored after the offset for the rooms it is given, with the offsets the
// packets were delivered with.
func TestMemoryTwoStepRestore(t *testing.T) {
	ctx := context.Background()
	m := newMem(t, time.Minute)
	defer m.Close()
	s := &offsetSock{id: "s"}
	m.AddAll(s, "s", "r")
	first := event(t, 0)
	_ = m.Broadcast(first, BroadcastOptions{Rooms: []Room{"r"}})
	from := offsetOf(t, first)
	_ = m.PersistSession(ctx, &Session{SID: "s", PID: "p", Rooms: []Room{"s", "r"}})
	for i, opts := range []BroadcastOptions{
		{Rooms: []Room{"r"}},
		{Rooms: []Room{"elsewhere"}},
		{},
		{Rooms: []Room{"r"}, Except: []Room{"s"}},
		{Rooms: []Room{"s"}},
	} {
		_ = m.Broadcast(event(t, i+1), opts)
	}

	for _, tc := range []struct {
		name, pid, offset string
	}{
		{"unknown session", "nobody", from},
		{"unknown offset", "p", "not-an-offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if sess, err := m.TakeSession(ctx, tc.pid, tc.offset); sess != nil || err != nil {
				t.Fatalf("took %+v, %v", sess, err)
			}
		})
	}
	sess, err := m.TakeSession(ctx, "p", from) // kept after the unknown offset, as RestoreSession
	if err != nil || sess == nil || sess.SID != "s" || sess.MissedPackets != nil {
		t.Fatalf("take: %+v, %v", sess, err)
	}
	if again, _ := m.TakeSession(ctx, "p", from); again != nil {
		t.Fatal("a session was taken twice")
	}
	missed, err := m.MissedPackets(ctx, sess.Rooms, from)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for i, mp := range missed {
		var n int
		_, args, err := parser.DecodeEvent(mp.Packet)
		if err != nil || json.Unmarshal(args[0], &n) != nil {
			t.Fatalf("missed %d: %v", i, err)
		}
		got = append(got, n)
		if off := offsetOf(t, mp.Packet); off != mp.Offset {
			t.Errorf("missed %d: offset %q, last argument %q", i, mp.Offset, off)
		}
		if i > 0 && CompareOffsets(missed[i-1].Offset, mp.Offset) >= 0 {
			t.Errorf("missed %d: offset %q not after %q", i, mp.Offset, missed[i-1].Offset)
		}
	}
	if want := []int{1, 3, 5}; len(got) != len(want) || got[0] != 1 || got[1] != 3 || got[2] != 5 {
		t.Fatalf("missed %v, want %v", got, want)
	}
	// Every delivered packet carried its offset in the flags.
	s.mu.Lock()
	for i := range s.flag {
		if s.flag[i] == "" || s.flag[i] != s.last[i] {
			t.Errorf("delivery %d: flags offset %q, last argument %q", i, s.flag[i], s.last[i])
		}
	}
	s.mu.Unlock()

	// An offset pruned after the session was taken.
	short := newMem(t, 50*time.Millisecond)
	defer short.Close()
	p := event(t, 1)
	_ = short.Broadcast(p, BroadcastOptions{})
	time.Sleep(100 * time.Millisecond)
	_ = short.Broadcast(event(t, 2), BroadcastOptions{}) // prunes the first
	if _, err := short.MissedPackets(ctx, nil, offsetOf(t, p)); !errors.Is(err, ErrOffsetGone) {
		t.Fatalf("missed packets after a pruned offset: %v, want ErrOffsetGone", err)
	}
}

// Offsets are given in the order the packets are stored, even when many
// goroutines broadcast at once: a socket that catches up relies on it.
func TestMemoryOffsetsInStoreOrder(t *testing.T) {
	ctx := context.Background()
	m := newMem(t, time.Minute)
	defer m.Close()
	first := event(t, -1)
	_ = m.Broadcast(first, BroadcastOptions{})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				_ = m.Broadcast(event(t, g*1000+i), BroadcastOptions{})
			}
		})
	}
	wg.Wait()
	missed, err := m.MissedPackets(ctx, nil, offsetOf(t, first))
	if err != nil {
		t.Fatal(err)
	}
	if len(missed) != 8*200 {
		t.Fatalf("%d missed packets, want %d", len(missed), 8*200)
	}
	for i := 1; i < len(missed); i++ {
		if CompareOffsets(missed[i-1].Offset, missed[i].Offset) >= 0 {
			t.Fatalf("packet %d: offset %q stored after %q", i, missed[i].Offset, missed[i-1].Offset)
		}
	}
}
