package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/internal/wire"
)

// ErrTimeout is returned (with the answers received) when other servers did
// not all answer a request within RequestsTimeout or the caller's context.
var ErrTimeout = wire.ErrTimeout

// ErrClosed is returned by the operations of a closed adapter.
var ErrClosed = wire.ErrClosed

// ErrQueueFull is returned by an emit whose message to the other servers
// did not fit in the publish queue (the broker is slow or unreachable):
// the local recipients got it, the other servers did not.
var ErrQueueFull = wire.ErrQueueFull

// Options configure the cluster adapter.
type Options struct {
	// RequestsTimeout bounds the requests that wait for other servers
	// (fetchSockets, serverSideEmit with ack, broadcast acks without a
	// timeout): 5 s when zero.
	RequestsTimeout time.Duration
	// PublishTimeout bounds one publication from the queue (broadcasts,
	// answers): RequestsTimeout when zero.
	PublishTimeout time.Duration
	// MaxQueuedMessages and MaxQueuedBytes bound the publish queue: 4096
	// messages and 32 MiB when zero. A broadcast that does not fit is
	// delivered locally only and its emit returns ErrQueueFull.
	MaxQueuedMessages int
	MaxQueuedBytes    int
	// HeartbeatInterval and HeartbeatTimeout are used when the transport
	// does not count servers itself (see ServerCounter): every namespace
	// announces itself every interval, and a server not heard of for the
	// timeout is no longer counted (5 s and 10 s when zero, Node's
	// defaults).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// Logger receives the adapter's errors (dropped messages, lost
	// connections). Nil: silent.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = o.RequestsTimeout
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 5 * time.Second
	}
	if o.HeartbeatTimeout <= 0 {
		o.HeartbeatTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// NewUID returns a random server id (16 hex digits, as Node's randomId).
func NewUID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewTransport creates the transport of one server whose id is uid.
type NewTransport func(uid string) (Transport, error)

// serverKeyed is implemented by the namespaces of a socketio.Server: the
// key identifies the server, so that its namespaces share one node.
type serverKeyed interface{ ServerKey() any }

// Factory returns an adapter factory (socketio.Config.Adapter) for the
// ClusterAdapter protocol over the transports newTransport creates: one
// transport (and one broker connection, one publisher) per server, shared
// by all its namespaces, created with the first namespace and closed with
// the last.
func Factory(newTransport NewTransport, opts Options) adapter.Factory {
	opts = opts.withDefaults()
	var mu sync.Mutex
	nodes := map[any]*node{}
	return func(nsp adapter.Namespace) (adapter.Adapter, error) {
		var key any
		if k, ok := nsp.(serverKeyed); ok {
			key = k.ServerKey()
		}
		mu.Lock()
		n := nodes[key]
		if n == nil {
			uid := NewUID()
			t, err := newTransport(uid)
			if err != nil {
				mu.Unlock()
				return nil, err
			}
			n = newNode(uid, t, opts)
			n.mu = &mu
			n.release = func() { delete(nodes, key) }
			nodes[key] = n
		}
		n.refs++
		mu.Unlock()
		a, err := newNspAdapter(n, nsp)
		if err != nil {
			n.unref()
			return nil, err
		}
		return a, nil
	}
}

// node is one server's member of the cluster.
type node struct {
	uid     string
	t       Transport
	opts    Options
	log     *slog.Logger
	snd     *wire.Sender
	counter ServerCounter
	rooms   RoomSubscriber
	store   SessionStore
	mu      *sync.Mutex // the factory's
	refs    int         // guarded by mu
	release func()      // called with mu held
}

func newNode(uid string, t Transport, opts Options) *node {
	n := &node{uid: uid, t: t, opts: opts, log: opts.Logger}
	n.counter, _ = t.(ServerCounter)
	n.rooms, _ = t.(RoomSubscriber)
	n.store, _ = t.(SessionStore)
	n.snd = &wire.Sender{
		Log:         opts.Logger,
		Timeout:     opts.PublishTimeout,
		MaxMessages: opts.MaxQueuedMessages,
		MaxBytes:    opts.MaxQueuedBytes,
	}
	n.snd.Start()
	return n
}

// unref drops a namespace's reference; the last one closes the node.
func (n *node) unref() {
	n.mu.Lock()
	n.refs--
	last := n.refs == 0
	if last {
		n.release()
	}
	n.mu.Unlock()
	if !last {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.opts.PublishTimeout)
	n.snd.Stop(ctx)
	cancel()
	if err := n.t.Close(); err != nil {
		n.log.Warn("cluster adapter: closing the transport failed", "err", err)
	}
}
