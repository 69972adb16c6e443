package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// subKind is the kind of Redis subscription a bus makes.
type subKind int

const (
	plainSub   subKind = iota // SUBSCRIBE / PSUBSCRIBE
	shardedSub                // SSUBSCRIBE (Redis 7)
)

// bus is the subscription side of one server: every namespace's channels
// on one Redis connection (one per shard for sharded pub/sub on a Redis
// Cluster, whose shard channels live on the node owning their slot), read
// by one goroutine per connection that routes each message to its
// channel's (or pattern's) handler.
//
// Subscriptions made with subscribe wait for Redis's confirmation; those
// made with subscribeAsync (rooms) are sent by a worker goroutine, so that
// the caller (Socket.Join) never waits on the network.
type bus struct {
	client goredis.UniversalClient
	kind   subKind
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[string]*busConn // by shard address ("" without a cluster)
	handlers map[string]func(*goredis.Message)
	patterns map[string]func(*goredis.Message)
	waiters  map[string][]chan struct{} // confirmations awaited, by channel
	ops      []busOp                    // async subscriptions to send
	opsCond  *sync.Cond
	down     int // connections whose subscription is lost

	// sendMu orders the subscription changes sent by subscribeAsync
	// itself and by the worker.
	sendMu sync.Mutex
}

type busConn struct {
	ps *goredis.PubSub
}

type busOp struct {
	channel string
	sub     bool
}

func newBus(client goredis.UniversalClient, kind subKind, log *slog.Logger) *bus {
	b := &bus{
		client:   client,
		kind:     kind,
		log:      log,
		conns:    map[string]*busConn{},
		handlers: map[string]func(*goredis.Message){},
		patterns: map[string]func(*goredis.Message){},
		waiters:  map[string][]chan struct{}{},
	}
	b.opsCond = sync.NewCond(&b.mu)
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.wg.Add(1)
	go b.worker()
	if cc, ok := client.(*goredis.ClusterClient); ok && kind == shardedSub {
		b.wg.Add(1)
		go b.prime(cc)
	}
	return b
}

// prime opens the subscription connection to every master of a Redis
// Cluster ahead of need (sharded pub/sub: a room's channel may live on
// any of them), so that a room's first subscription is written on an open
// connection instead of waiting for a dial.
func (b *bus) prime(cc *goredis.ClusterClient) {
	defer b.wg.Done()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
		addr := node.Options().Addr
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			return nil
		}
		c := b.conns[addr]
		if c == nil {
			c = &busConn{ps: node.SSubscribe(b.ctx)}
			b.conns[addr] = c
			b.wg.Add(1)
			go b.receive(c)
		}
		b.mu.Unlock()
		return c.ps.Ping(ctx)
	})
	if err != nil && b.ctx.Err() == nil {
		b.log.Warn("redis adapter: opening the shard connections failed; they open on first use", "err", err)
	}
}

// conn returns the connection that subscribes channel (creating it).
// Called with b.mu held.
func (b *bus) conn(ctx context.Context, channel string) (*busConn, error) {
	addr := ""
	var sub goredis.UniversalClient = b.client
	if cc, ok := b.client.(*goredis.ClusterClient); ok && b.kind == shardedSub {
		node, err := cc.MasterForKey(ctx, channel)
		if err != nil {
			return nil, fmt.Errorf("redis adapter: shard of %q: %w", channel, err)
		}
		addr = node.Options().Addr
		sub = node
	}
	if c := b.conns[addr]; c != nil {
		return c, nil
	}
	c := &busConn{}
	if b.kind == shardedSub {
		c.ps = sub.SSubscribe(b.ctx)
	} else {
		c.ps = sub.Subscribe(b.ctx)
	}
	b.conns[addr] = c
	b.wg.Add(1)
	go b.receive(c)
	return c, nil
}

func (b *bus) send(ctx context.Context, c *busConn, channel string, pattern, sub bool) error {
	switch {
	case pattern && sub:
		return c.ps.PSubscribe(ctx, channel)
	case pattern:
		return c.ps.PUnsubscribe(ctx, channel)
	case b.kind == shardedSub && sub:
		return c.ps.SSubscribe(ctx, channel)
	case b.kind == shardedSub:
		return c.ps.SUnsubscribe(ctx, channel)
	case sub:
		return c.ps.Subscribe(ctx, channel)
	}
	return c.ps.Unsubscribe(ctx, channel)
}

// subscribe routes the messages of channels and patterns to h and returns
// once Redis confirmed every subscription.
func (b *bus) subscribe(ctx context.Context, channels, patterns []string, h func(*goredis.Message)) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	var waits []chan struct{}
	type pending struct {
		c       *busConn
		name    string
		pattern bool
	}
	var sends []pending
	add := func(name string, pattern bool) error {
		c, err := b.conn(ctx, name)
		if err != nil {
			return err
		}
		if pattern {
			b.patterns[name] = h
		} else {
			b.handlers[name] = h
		}
		w := make(chan struct{})
		b.waiters[name] = append(b.waiters[name], w)
		waits = append(waits, w)
		sends = append(sends, pending{c, name, pattern})
		return nil
	}
	for _, ch := range channels {
		if err := add(ch, false); err != nil {
			b.mu.Unlock()
			return err
		}
	}
	for _, p := range patterns {
		if err := add(p, true); err != nil {
			b.mu.Unlock()
			return err
		}
	}
	b.mu.Unlock()
	for _, p := range sends {
		if err := b.send(ctx, p.c, p.name, p.pattern, true); err != nil {
			b.unsubscribe(channels, patterns)
			return fmt.Errorf("redis adapter: subscribe %q: %w", p.name, err)
		}
	}
	for _, w := range waits {
		select {
		case <-w:
		case <-ctx.Done():
			b.unsubscribe(channels, patterns)
			return fmt.Errorf("redis adapter: subscribing: %w", ctx.Err())
		}
	}
	return nil
}

// unsubscribe stops the routing of channels and patterns and unsubscribes
// them in the background.
func (b *bus) unsubscribe(channels, patterns []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	for _, ch := range channels {
		delete(b.handlers, ch)
		b.ops = append(b.ops, busOp{channel: ch})
	}
	for _, p := range patterns {
		delete(b.patterns, p)
		b.ops = append(b.ops, busOp{channel: "\x00" + p})
	}
	b.opsCond.Signal()
}

// subscribeAsync routes channel to h at once and subscribes it (room
// channels) without waiting for Redis's confirmation: when the connection
// is up and no change is pending, the command is written at once (so that
// the subscription is in place by the time a broadcast published after
// Join reaches Redis, as in Node); else the worker sends it, in order.
// It waits on the network for a command write at most.
func (b *bus) subscribeAsync(channel string, h func(*goredis.Message)) {
	b.sendMu.Lock()
	defer b.sendMu.Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.handlers[channel] = h
	var c *busConn
	if len(b.ops) == 0 && b.down == 0 {
		c = b.conns[b.connKey(channel)]
	}
	if c == nil {
		b.ops = append(b.ops, busOp{channel: channel, sub: true})
		b.opsCond.Signal()
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, time.Second)
	defer cancel()
	if err := b.send(ctx, c, channel, false, true); err != nil && b.ctx.Err() == nil {
		b.log.Warn("redis adapter: subscription change failed", "channel", channel, "subscribe", true, "err", err)
	}
}

// connKey is the key of the connection that subscribes channel when it
// exists already ("" without a cluster; the shard's address on a Redis
// Cluster, from the client's cached slot map). Called with b.mu held.
func (b *bus) connKey(channel string) string {
	cc, ok := b.client.(*goredis.ClusterClient)
	if !ok || b.kind != shardedSub {
		return ""
	}
	node, err := cc.MasterForKey(context.Background(), channel)
	if err != nil {
		return "\x00" // no such connection
	}
	return node.Options().Addr
}

// unsubscribeAsync is unsubscribe for one channel.
func (b *bus) unsubscribeAsync(channel string) { b.unsubscribe([]string{channel}, nil) }

// worker sends the background subscriptions in order.
func (b *bus) worker() {
	defer b.wg.Done()
	for {
		b.mu.Lock()
		for len(b.ops) == 0 && !b.closed {
			b.opsCond.Wait()
		}
		if b.closed {
			b.mu.Unlock()
			return
		}
		// Pop under sendMu, so that subscribeAsync never writes before a
		// change popped earlier.
		b.mu.Unlock()
		b.sendMu.Lock()
		b.mu.Lock()
		if len(b.ops) == 0 || b.closed {
			b.mu.Unlock()
			b.sendMu.Unlock()
			continue
		}
		op := b.ops[0]
		b.ops = b.ops[1:]
		name, pattern := op.channel, false
		if len(name) > 0 && name[0] == 0 {
			name, pattern = name[1:], true
		}
		// A channel subscribed again after it was dropped (a room emptied
		// and filled again) keeps its subscription.
		if !op.sub && b.handlers[name] != nil && !pattern {
			b.mu.Unlock()
			b.sendMu.Unlock()
			continue
		}
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		c, err := b.conn(ctx, name)
		b.mu.Unlock()
		if err == nil {
			err = b.send(ctx, c, name, pattern, op.sub)
		}
		cancel()
		b.sendMu.Unlock()
		if err != nil && b.ctx.Err() == nil {
			b.log.Warn("redis adapter: subscription change failed", "channel", name, "subscribe", op.sub, "err", err)
		}
	}
}

// receive reads one connection until close. After a lost connection the
// next read reconnects and subscribes again (go-redis resubscribes every
// channel, pattern and shard channel of the connection). An idle
// connection is checked with PING every 30 s.
func (b *bus) receive(c *busConn) {
	defer b.wg.Done()
	backoff := 50 * time.Millisecond
	down := false
	for {
		msg, err := c.ps.ReceiveTimeout(b.ctx, 30*time.Second)
		if b.ctx.Err() != nil {
			return
		}
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() && !down {
				if perr := c.ps.Ping(b.ctx); perr == nil {
					continue
				}
			}
			if !down {
				b.log.Warn("redis adapter: subscription lost; reconnecting", "err", err)
				b.mu.Lock()
				b.down++
				b.mu.Unlock()
			}
			down = true
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		if down {
			b.log.Info("redis adapter: subscription restored")
			down = false
			b.mu.Lock()
			b.down--
			b.mu.Unlock()
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *goredis.Subscription:
			b.mu.Lock()
			ws := b.waiters[m.Channel]
			delete(b.waiters, m.Channel)
			b.mu.Unlock()
			for _, w := range ws {
				close(w)
			}
		case *goredis.Message:
			b.dispatch(m)
		}
	}
}

func (b *bus) dispatch(m *goredis.Message) {
	b.mu.Lock()
	var h func(*goredis.Message)
	if m.Pattern != "" {
		h = b.patterns[m.Pattern]
	} else {
		h = b.handlers[m.Channel]
	}
	b.mu.Unlock()
	if h == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("redis adapter: message handler panicked; message dropped", "channel", m.Channel, "panic", r,
				"stack", string(debug.Stack()))
		}
	}()
	h(m)
}

// close unsubscribes everything and waits for the goroutines.
func (b *bus) close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.opsCond.Broadcast()
	conns := b.conns
	b.mu.Unlock()
	b.cancel()
	var err error
	for _, c := range conns {
		err = errors.Join(err, c.ps.Close())
	}
	b.wg.Wait()
	return err
}

// numSub is PUBSUB NUMSUB of channel, summed over the nodes of a Redis
// Cluster (a subscriber is counted by the node it is connected to).
func numSub(ctx context.Context, client goredis.UniversalClient, channel string) (int, error) {
	cc, ok := client.(*goredis.ClusterClient)
	if !ok {
		res, err := client.PubSubNumSub(ctx, channel).Result()
		if err != nil {
			return 0, fmt.Errorf("redis adapter: PUBSUB NUMSUB: %w", err)
		}
		return int(res[channel]), nil
	}
	var mu sync.Mutex
	total := 0
	err := cc.ForEachShard(ctx, func(ctx context.Context, c *goredis.Client) error {
		res, err := c.PubSubNumSub(ctx, channel).Result()
		if err != nil {
			return err
		}
		mu.Lock()
		total += int(res[channel])
		mu.Unlock()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("redis adapter: PUBSUB NUMSUB: %w", err)
	}
	return total, nil
}

// shared keeps one value per server (see cluster.Factory): the namespaces
// of one socketio.Server share it; it is closed with the last one.
type shared[T any] struct {
	mu    sync.Mutex
	make  func() T
	close func(T)
	vals  map[any]*sharedVal[T]
}

type sharedVal[T any] struct {
	v    T
	refs int
}

func newShared[T any](mk func() T, cl func(T)) *shared[T] {
	return &shared[T]{make: mk, close: cl, vals: map[any]*sharedVal[T]{}}
}

// get returns the value of nsp's server and the function that releases it.
func (s *shared[T]) get(nsp any) (T, func()) {
	var key any
	if k, ok := nsp.(interface{ ServerKey() any }); ok {
		key = k.ServerKey()
	}
	s.mu.Lock()
	sv := s.vals[key]
	if sv == nil {
		sv = &sharedVal[T]{v: s.make()}
		s.vals[key] = sv
	}
	sv.refs++
	s.mu.Unlock()
	var once sync.Once
	return sv.v, func() {
		once.Do(func() {
			s.mu.Lock()
			sv.refs--
			last := sv.refs == 0
			if last {
				delete(s.vals, key)
			}
			s.mu.Unlock()
			if last {
				s.close(sv.v)
			}
		})
	}
}
