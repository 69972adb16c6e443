package redis

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// sender publishes the answers to other servers' requests from a bounded
// queue, in order, and runs server-side event handlers on their own
// goroutine, so that the subscription reader never waits on Redis or on
// user code.
type sender struct {
	log     *slog.Logger
	timeout time.Duration
	pub     func(ctx context.Context, channel string, payload []byte) error

	mu     sync.Mutex
	closed bool
	out    chan outMsg
	emits  chan func()
	wg     sync.WaitGroup
}

type outMsg struct {
	channel string
	payload []byte
}

func (s *sender) start() {
	s.out = make(chan outMsg, 4096)
	s.emits = make(chan func(), 1024)
	s.wg.Add(2)
	go s.publisher()
	go s.emitWorker()
}

// enqueue queues a payload; when the queue is full it is dropped (and
// logged).
func (s *sender) enqueue(channel string, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.out <- outMsg{channel, payload}:
	default:
		s.log.Warn("redis adapter: publish queue full; answer dropped", "channel", channel)
	}
}

// runEmit queues a server-side event handler call.
func (s *sender) runEmit(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.emits <- fn:
	default:
		s.log.Warn("redis adapter: server-side event queue full; event dropped")
	}
}

func (s *sender) publisher() {
	defer s.wg.Done()
	for m := range s.out {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		if err := s.pub(ctx, m.channel, m.payload); err != nil {
			s.log.Warn("redis adapter: publish failed", "channel", m.channel, "err", err)
		}
		cancel()
	}
}

func (s *sender) emitWorker() {
	defer s.wg.Done()
	for fn := range s.emits {
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("redis adapter: server-side event handler panicked", "panic", r, "stack", string(debug.Stack()))
				}
			}()
			fn()
		}()
	}
}

// stop drains the queues and waits for the goroutines.
func (s *sender) stop() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.out)
	close(s.emits)
	s.mu.Unlock()
	s.wg.Wait()
}

// receiveLoop reads a subscription until ctx is done (Close cancels it and
// closes ps). After a lost connection the next read reconnects and
// subscribes again: go-redis resubscribes every channel, pattern and shard
// channel of ps. An idle connection is checked with PING every 30 s.
func receiveLoop(ctx context.Context, ps *goredis.PubSub, log *slog.Logger, dispatch func(*goredis.Message)) {
	backoff := 50 * time.Millisecond
	down := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, 30*time.Second)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() && !down {
				if perr := ps.Ping(ctx); perr == nil {
					continue
				}
			}
			if !down {
				log.Warn("redis adapter: subscription lost; reconnecting", "err", err)
			}
			down = true
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		if down {
			log.Info("redis adapter: subscription restored")
			down = false
		}
		backoff = 50 * time.Millisecond
		if m, ok := msg.(*goredis.Message); ok {
			dispatch(m)
		}
	}
}
