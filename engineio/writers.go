package engineio

import (
	"runtime"
	"sync"

	"github.com/gosio/socketio/internal/ws"
)

// writerPool writes the queues of polled WebSocket sessions with a few
// goroutines that take many sessions per pass, instead of a goroutine per
// busy session: a broadcast to N sessions wakes at most max goroutines, and
// a session's messages that piled up while the writers served the others
// leave in one write. A write never waits: when a peer's socket buffer is
// full, that session gets a goroutine of its own (writeLoop) until it has
// caught up, so a slow reader never holds up the pool.
//
// The goroutines exist only while sessions wait: a writer ends when the
// ready list is empty.
type writerPool struct {
	mu      sync.Mutex
	ready   []*Conn // FIFO: ready[head:]
	head    int
	running int
	max     int
	run     func() // a writer's loop, made once (see newWriterPool)
}

// schedule puts c at the back of the ready list. c.writing is set by the
// caller, so a session is in the list at most once.
func (p *writerPool) schedule(s *Server, c *Conn) {
	p.mu.Lock()
	p.ready = append(p.ready, c)
	start := p.running < p.max
	if start {
		p.running++
	}
	p.mu.Unlock()
	// The caller holds c.mu (kickLocked): nothing here may close c. The
	// engine's tracker is never closed, so Go does not refuse; were it to,
	// the session would stay listed and the next writer would take it.
	if start && !s.track.Go(p.run) {
		p.mu.Lock()
		p.running--
		p.mu.Unlock()
	}
}

// popBatch moves up to len(dst) sessions from the ready list into dst and
// returns how many; 0 ends the writer (running is decremented).
func (p *writerPool) popBatch(dst []*Conn) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := copy(dst, p.ready[p.head:])
	clear(p.ready[p.head : p.head+n])
	p.head += n
	if p.head == len(p.ready) {
		p.ready, p.head = p.ready[:0], 0
		if cap(p.ready) > 4096 {
			p.ready = nil // do not keep a burst's array forever
		}
	}
	if n == 0 {
		p.running--
	}
	return n
}

// writerBatch is how many sessions a writer takes from the ready list at
// once (one lock for all of them).
const writerBatch = 32

func (p *writerPool) work(s *Server) {
	// Let the goroutine that scheduled the first session go on: in a
	// burst (a loop of broadcasts) more messages join the queues first.
	runtime.Gosched()
	var batch [writerBatch]*Conn
	for {
		n := p.popBatch(batch[:])
		if n == 0 {
			return
		}
		for i, c := range batch[:n] {
			batch[i] = nil
			c.flushPooled()
		}
	}
}

// initWriterPool readies s's writer pool.
func initWriterPool(s *Server) {
	p := &s.writers
	p.max = max(1, runtime.GOMAXPROCS(0))
	p.run = func() { p.work(s) }
}

// flushPooled writes what the session has queued, once, for the writer
// pool: then it goes to the back of the list if more came meanwhile, or
// leaves it.
func (c *Conn) flushPooled() {
	batch, wsc, b64 := c.takeBatch(nil)
	if batch == nil {
		return
	}
	c.tryWrite(wsc, b64, batch)
}

// tryWrite writes batch without waiting, for a session whose writing flag
// the caller holds, then hands the flag on: to the back of the writer pool
// when more was queued meanwhile, to a goroutine of the session's own when
// the peer's socket buffer is full, or back to idle (the batch's array may
// then be kept for the next one).
func (c *Conn) tryWrite(wsc *ws.Conn, b64 bool, batch []*Message) {
	fp := framesPool.Get().(*[]ws.Frame)
	frames := appendFrames((*fp)[:0], batch, b64)
	done, err := wsc.TryWriteFrames(frames)
	clear(frames)
	*fp = frames[:0]
	framesPool.Put(fp)
	if err != nil {
		c.finish(ReasonTransportError, err, nil)
		return
	}
	if !done {
		// The peer reads slowly: a goroutine of its own waits for it.
		if !c.srv.track.Go(func() {
			if err := wsc.FlushPending(); err != nil {
				c.finish(ReasonTransportError, err, nil)
				return
			}
			c.writeLoop()
		}) {
			c.finish(ReasonTransportError, ErrClosed, nil)
		}
		return
	}
	c.mu.Lock()
	if len(c.queue) > 0 && c.transport == WebSocket && c.state != stateClosed {
		c.mu.Unlock()
		c.srv.writers.schedule(c.srv, c)
		return
	}
	c.stopWritingLocked(batch)
}
