package wire

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"
)

// ErrQueueFull is returned by an emit whose message to the other servers
// could not be queued: the publish queue is full (the broker is slow or
// unreachable). The local recipients got the message; the other servers
// did not.
var ErrQueueFull = errors.New("adapter: publish queue full; message not sent to the other servers")

// Sender publishes messages to the other servers from a bounded queue, in
// order, on one goroutine, so that neither an emit nor the subscription
// reader ever waits on the broker; and runs server-side event handlers on
// a goroutine of their own, so that user code never holds up the reader.
//
// Overflow policy: a message that does not fit (more than MaxMessages
// queued, or MaxBytes of payload) is refused with ErrQueueFull, and the
// ones queued before it are kept. A message whose publication fails (after
// Timeout) is logged and dropped: pub/sub delivers at most once anyway.
type Sender struct {
	Log         *slog.Logger
	Timeout     time.Duration // bound of one publication
	MaxMessages int           // queued messages at most (4096 when zero)
	MaxBytes    int           // queued payload bytes at most (32 MiB when zero)

	mu     sync.Mutex
	cond   *sync.Cond
	closed bool
	queue  []outItem
	bytes  int
	emits  chan func()
	wg     sync.WaitGroup
	base   context.Context // canceled when Stop gives up waiting
	abort  context.CancelFunc
}

type outItem struct {
	publish func(ctx context.Context) error
	report  func(error) // nil: none
	what    string
	size    int
}

// Start starts the goroutines.
func (s *Sender) Start() {
	if s.MaxMessages <= 0 {
		s.MaxMessages = 4096
	}
	if s.MaxBytes <= 0 {
		s.MaxBytes = 32 << 20
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	s.cond = sync.NewCond(&s.mu)
	s.emits = make(chan func(), 1024)
	s.base, s.abort = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.publisher()
	go s.emitWorker()
}

// Enqueue queues a publication of size bytes (what names it in logs). It
// never blocks; see the overflow policy. report, when not nil, receives
// the error of a publication that fails once queued (it is logged too).
func (s *Sender) Enqueue(size int, what string, report func(error), publish func(ctx context.Context) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if len(s.queue) >= s.MaxMessages || (s.bytes+size > s.MaxBytes && len(s.queue) > 0) {
		return ErrQueueFull
	}
	s.queue = append(s.queue, outItem{publish: publish, report: report, what: what, size: size})
	s.bytes += size
	if len(s.queue) == 1 {
		s.cond.Signal()
	}
	return nil
}

// EnqueueAnswer queues an answer to another server's request; an answer
// that does not fit is dropped, logged and reported (nobody waits on its
// error).
func (s *Sender) EnqueueAnswer(size int, what string, report func(error), publish func(ctx context.Context) error) {
	if err := s.Enqueue(size, what, report, publish); err != nil && !errors.Is(err, ErrClosed) {
		s.Log.Warn("adapter: answer to another server dropped", "what", what, "err", err)
		if report != nil {
			report(err)
		}
	}
}

// Len returns the number of queued messages.
func (s *Sender) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// RunEmit queues a server-side event handler call.
func (s *Sender) RunEmit(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.emits <- fn:
	default:
		s.Log.Warn("adapter: server-side event queue full; event dropped")
	}
}

func (s *Sender) publisher() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.cond.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		it := s.queue[0]
		s.queue[0] = outItem{}
		s.queue = s.queue[1:]
		s.bytes -= it.size
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(s.base, s.Timeout)
		if err := it.publish(ctx); err != nil && s.base.Err() == nil {
			s.Log.Warn("adapter: publish to the other servers failed; message dropped", "what", it.what, "err", err)
			if it.report != nil {
				it.report(err)
			}
		}
		cancel()
	}
}

func (s *Sender) emitWorker() {
	defer s.wg.Done()
	for fn := range s.emits {
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.Log.Error("adapter: server-side event handler panicked", "panic", r, "stack", string(debug.Stack()))
				}
			}()
			fn()
		}()
	}
}

// Stop publishes what is queued (each publication still bounded by
// Timeout, all of them by ctx) and waits for the goroutines.
func (s *Sender) Stop(ctx context.Context) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.emits)
	s.cond.Broadcast()
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.abort()
		<-done
	}
	s.abort()
}
