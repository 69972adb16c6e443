package adapter

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/parser"
)

// recoveryStats returns what is stored for recovery.
func (m *Memory) recoveryStats() (packets, bytes, sessions int, timer bool) {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	return len(m.packets), m.storedBytes, len(m.sessions), m.pruneTimer != nil
}

// limitedNsp bounds the recovery store.
type limitedNsp struct {
	fakeNsp
	max int
}

func (l *limitedNsp) RecoveryMaxBytes() int { return l.max }

func offsetOf(t *testing.T, p *parser.Packet) string {
	t.Helper()
	_, args, _ := parser.DecodeEvent(p)
	var off string
	if err := json.Unmarshal(args[len(args)-1], &off); err != nil {
		t.Fatal(err)
	}
	return off
}

// What is kept for recovery is pruned on a timer too, with no traffic:
// packets and sessions are gone shortly after their window, and the timer
// stops once nothing is left (and on Close).
func TestMemoryRecoveryPrunedOnTimer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		packets int
		session bool
	}{
		{"packets", 50, false},
		{"sessions", 0, true},
		{"both", 50, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMem(t, 200*time.Millisecond)
			for range tc.packets {
				_ = m.Broadcast(event(t, strings.Repeat("x", 1000)), BroadcastOptions{})
			}
			if tc.session {
				_ = m.PersistSession(context.Background(), &Session{SID: "s", PID: "p"})
			}
			if _, _, _, timer := m.recoveryStats(); !timer {
				t.Fatal("no prune timer while something is stored")
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, b, sess, timer := m.recoveryStats()
				if n == 0 && b == 0 && sess == 0 && !timer {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("still stored with no traffic: %d packets (%d bytes), %d sessions, timer %v", n, b, sess, timer)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	t.Run("Close stops the timer", func(t *testing.T) {
		m := newMem(t, time.Hour)
		_ = m.Broadcast(event(t, 1), BroadcastOptions{})
		_ = m.Close()
		if n, _, _, timer := m.recoveryStats(); timer || n != 0 {
			t.Fatalf("after Close: %d packets, timer %v", n, timer)
		}
		_ = m.Broadcast(event(t, 2), BroadcastOptions{})
		if _, _, _, timer := m.recoveryStats(); timer {
			t.Fatal("a closed adapter armed its timer again")
		}
	})
}

// The packets kept for recovery are bounded in bytes: past the bound the
// oldest go first, and an offset that went cannot be recovered from.
func TestMemoryRecoveryByteBound(t *testing.T) {
	const bound = 20_000
	m, _ := NewMemory(&limitedNsp{fakeNsp{recovery: time.Minute}, bound})
	mem := m.(*Memory)
	defer mem.Close()
	var offsets []string
	for range 100 {
		p := event(t, strings.Repeat("x", 1000))
		_ = mem.Broadcast(p, BroadcastOptions{})
		offsets = append(offsets, offsetOf(t, p))
	}
	n, b, _, _ := mem.recoveryStats()
	if b > bound || n == 0 || n >= 100 {
		t.Fatalf("%d packets, %d bytes kept with a %d-byte bound", n, b, bound)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		offset string
		ok     bool
		missed int
	}{
		{"oldest offset, dropped", offsets[0], false, 0},
		{"recent offset", offsets[98], true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = mem.PersistSession(ctx, &Session{SID: "s", PID: "p"})
			s, _ := mem.RestoreSession(ctx, "p", tc.offset)
			if (s != nil) != tc.ok || (s != nil && len(s.MissedPackets) != tc.missed) {
				t.Fatalf("restore: %+v, want restored %v with %d missed", s, tc.ok, tc.missed)
			}
		})
	}
	big := event(t, strings.Repeat("y", 3*bound))
	_ = mem.Broadcast(big, BroadcastOptions{})
	if n, _, _, _ := mem.recoveryStats(); n != 1 {
		t.Fatalf("%d packets after one over the bound, want the newest only", n)
	}
}
