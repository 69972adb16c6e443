package adapter

import (
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// A socket's rooms stay right across the move from the small slice to the
// map, in both directions of membership.
func TestMemoryRoomSetSizes(t *testing.T) {
	for _, n := range []int{1, smallRooms - 1, smallRooms, smallRooms + 1, 5 * smallRooms} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			m := newMem(t, 0)
			m.AddAll(sock("s"), "s")
			var want []Room
			for i := range n {
				r := "r" + strconv.Itoa(i)
				m.AddAll(sock("s"), r, r) // duplicates are ignored
				m.AddAll(sock("s"), r)
				want = append(want, r)
			}
			m.Del("s", "r0")
			m.Del("s", "not-a-member")
			want = append(want[1:], "s")
			slices.Sort(want)
			if got := m.SocketRooms("s"); !slices.Equal(got, want) {
				t.Fatalf("rooms %v, want %v", got, want)
			}
			if n > 1 {
				if got := m.Sockets(BroadcastOptions{Rooms: []Room{"r1"}}); !slices.Equal(got, []SocketID{"s"}) {
					t.Fatalf("members of r1: %v", got)
				}
			}
			if got := m.Sockets(BroadcastOptions{Rooms: []Room{"r0"}}); len(got) != 0 {
				t.Fatalf("members of r0 after Del: %v", got)
			}
			m.DelAll("s")
			if rooms := m.Rooms(); len(rooms) != 0 {
				t.Fatalf("rooms left after DelAll: %v", rooms)
			}
		})
	}
}

// One socket joins 100k rooms one at a time and then leaves them all:
// each join and leave costs O(1), so this takes well under the bound (the
// quadratic version took about 30 s of CPU), and another socket's joins
// are not held up for long while the big one leaves.
func TestMemoryManyRooms(t *testing.T) {
	const n = 100_000
	const budget = 10 * time.Second
	m := newMem(t, 0)
	var events atomic.Int64
	m.SetRoomEvents(RoomEvents{
		CreateRoom: func(Room) { events.Add(1) },
		DeleteRoom: func(Room) { events.Add(1) },
	})
	start := time.Now()
	m.AddAll(sock("big"), "big")
	for i := range n {
		m.AddAll(sock("big"), "r"+strconv.Itoa(i))
		if i%1000 == 0 && time.Since(start) > budget {
			t.Fatalf("%d joins took over %v", i, budget)
		}
	}
	if got := len(m.SocketRooms("big")); got != n+1 {
		t.Fatalf("%d rooms, want %d", got, n+1)
	}

	m.AddAll(sock("other"), "other")
	stop, done := make(chan struct{}), make(chan time.Duration)
	go func() {
		var longest time.Duration
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- longest
				return
			default:
			}
			t0 := time.Now()
			m.AddAll(sock("other"), "o"+strconv.Itoa(i%64))
			longest = max(longest, time.Since(t0))
		}
	}()
	m.DelAll("big")
	close(stop)
	longest := <-done
	if el := time.Since(start); el > budget {
		t.Fatalf("100k joins and a leave-all took %v", el)
	}
	if longest > budget/4 {
		t.Fatalf("another socket's join waited %v during the leave-all", longest)
	}
	if m.SocketRooms("big") != nil || len(m.Sockets(BroadcastOptions{Rooms: []Room{"r7"}})) != 0 {
		t.Fatal("the socket is still in its rooms")
	}
	if e := events.Load(); e < 2*n {
		t.Fatalf("%d create/delete events, want at least %d", e, 2*n)
	}
}

// BenchmarkMemoryRooms measures a join and a leave by a socket already in
// many rooms, and a leave-all.
func BenchmarkMemoryRooms(b *testing.B) {
	rooms := make([]Room, 20_000)
	for i := range rooms {
		rooms[i] = "room-" + strconv.Itoa(i)
	}
	b.Run("join+leave", func(b *testing.B) {
		m := newMem(b, 0)
		s := sock("s")
		m.AddAll(s, rooms[:10_000]...)
		i := 0
		for b.Loop() {
			r := rooms[10_000+i%10_000]
			m.AddAll(s, r)
			m.Del("s", r)
			i++
		}
	})
	b.Run("leave-all-1k", func(b *testing.B) {
		m := newMem(b, 0)
		s := sock("s")
		for b.Loop() {
			b.StopTimer()
			m.AddAll(s, rooms[:1000]...)
			b.StartTimer()
			m.DelAll("s")
		}
	})
}
