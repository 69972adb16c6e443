package engineio

import (
	"container/heap"
	"sync"
	"time"
)

// hbClock is the origin of the heartbeat deadlines: a monotonic offset
// takes 8 bytes where a time.Time takes 24.
var hbClock = time.Now()

func hbNow() time.Duration { return time.Since(hbClock) }

// heartbeats runs the heartbeat timers of a server's sessions on one
// runtime timer: a min-heap of the sessions by deadline, whose earliest
// arms the timer. A session costs two words here instead of a
// time.Timer of its own (about 200 bytes per idle connection); a firing
// runs the session's heartbeat on a goroutine of its own, as
// time.AfterFunc would.
type heartbeats struct {
	mu    sync.Mutex
	conns hbHeap
	timer *time.Timer   // armed for armed, when conns is not empty
	armed time.Duration // deadline the timer is set for; 0: not armed
	run   func(*Conn)   // tests only: what a firing does instead of c.heartbeat
}

// hbHeap orders sessions by their heartbeat deadline (Conn.hbAt); each
// session knows its index (Conn.hbIdx, -1 when not scheduled).
type hbHeap []*Conn

func (h hbHeap) Len() int           { return len(h) }
func (h hbHeap) Less(i, j int) bool { return h[i].hbAt < h[j].hbAt }
func (h hbHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hbIdx, h[j].hbIdx = int32(i), int32(j)
}
func (h *hbHeap) Push(x any) {
	c := x.(*Conn)
	c.hbIdx = int32(len(*h))
	*h = append(*h, c)
}
func (h *hbHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.hbIdx = -1
	return c
}

// reset schedules c's heartbeat d from now, replacing its previous
// deadline (time.Timer.Reset).
func (hb *heartbeats) reset(c *Conn, d time.Duration) {
	at := hbNow() + d
	hb.mu.Lock()
	c.hbAt = at
	if c.hbIdx >= 0 {
		heap.Fix(&hb.conns, int(c.hbIdx))
	} else {
		heap.Push(&hb.conns, c)
	}
	hb.armLocked()
	hb.mu.Unlock()
}

// stop unschedules c (time.Timer.Stop).
func (hb *heartbeats) stop(c *Conn) {
	hb.mu.Lock()
	if c.hbIdx >= 0 {
		heap.Remove(&hb.conns, int(c.hbIdx))
	}
	hb.mu.Unlock()
}

// armLocked sets the timer for the earliest deadline, when it is not set
// for it already.
func (hb *heartbeats) armLocked() {
	if len(hb.conns) == 0 {
		return // a timer that fires for nothing finds the heap empty
	}
	next := hb.conns[0].hbAt
	if hb.armed != 0 && hb.armed <= next {
		return // it fires first; fire re-arms for the rest
	}
	hb.armed = next
	d := next - hbNow()
	if hb.timer == nil {
		hb.timer = time.AfterFunc(d, hb.fire)
		return
	}
	hb.timer.Reset(d)
}

// fire runs the heartbeats that are due and re-arms the timer.
func (hb *heartbeats) fire() {
	var due []*Conn
	hb.mu.Lock()
	now := hbNow()
	for len(hb.conns) > 0 && hb.conns[0].hbAt <= now {
		due = append(due, heap.Pop(&hb.conns).(*Conn))
	}
	hb.armed = 0
	hb.armLocked()
	hb.mu.Unlock()
	for _, c := range due {
		if hb.run != nil {
			hb.run(c)
			continue
		}
		go c.heartbeat()
	}
}
