package nats

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
)

// Options configure the NATS adapter.
type Options struct {
	// Prefix is the first token(s) of every subject ("socket.io" when
	// empty). The servers of one cluster share it; clusters on one NATS
	// server differ by it.
	Prefix string
	// JetStream selects the JetStream mode: broadcasts and room changes go
	// through a stream (so a server whose connection dropped resumes where
	// it was, and connection state recovery works across servers), sessions
	// into a KV bucket. Off: core NATS only, at most once.
	JetStream bool
	// Stream is the JetStream stream (Prefix with '.' replaced by '_' when
	// empty). It is created if absent, with the subjects Prefix.*.broadcast.
	Stream string
	// MaxMsgs and MaxAge bound the stream: 10000 messages and one hour when
	// zero. They bound how long a client can be away and still recover.
	MaxMsgs int64
	MaxAge  time.Duration
	// MemoryStorage keeps the stream and the bucket in memory rather than
	// on disk.
	MemoryStorage bool
	// SessionBucket is the KV bucket of the sessions (Stream + "_sessions"
	// when empty), created if absent.
	SessionBucket string
	// SessionTTL is the bucket's TTL when the adapter creates it: the
	// recovery's MaxDisconnectionDuration when zero. Each session also
	// carries its own expiry, checked when it is restored.
	SessionTTL time.Duration
	// PendingMessages is the number of received messages a server buffers
	// before NATS drops new ones as a slow consumer (65536 when zero).
	PendingMessages int
	// RequestsTimeout bounds requests that wait for other servers: 5 s
	// when zero.
	RequestsTimeout time.Duration
	// HeartbeatInterval and HeartbeatTimeout count the servers (see
	// cluster.Options: 5 s and 10 s when zero).
	HeartbeatInterval time.Duration
	HeartbeatTimeout  time.Duration
	// MaxQueuedMessages and MaxQueuedBytes bound the queue of messages to
	// the other servers (see cluster.Options: 4096 messages and 32 MiB when
	// zero).
	MaxQueuedMessages int
	MaxQueuedBytes    int
	// Logger receives the adapter's errors. Nil: silent.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = "socket.io"
	}
	if o.Stream == "" {
		o.Stream = nameFromPrefix(o.Prefix)
	}
	if o.SessionBucket == "" {
		o.SessionBucket = o.Stream + "_sessions"
	}
	if o.MaxMsgs <= 0 {
		o.MaxMsgs = 10000
	}
	if o.MaxAge <= 0 {
		o.MaxAge = time.Hour
	}
	if o.PendingMessages <= 0 {
		o.PendingMessages = 1 << 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (o Options) validate() error {
	if err := validPrefix(o.Prefix); err != nil {
		return err
	}
	if o.JetStream {
		if err := validName("stream", o.Stream); err != nil {
			return err
		}
		if err := validName("bucket", o.SessionBucket); err != nil {
			return err
		}
	}
	return nil
}

// NewAdapter returns a factory (socketio.Config.Adapter) for the NATS
// adapter: socket.io-adapter's ClusterAdapter protocol (adapter/cluster)
// over NATS subjects, servers counted with heartbeats.
//
// Every server of a process shares nc's connection; each server's
// namespaces share its subscriptions. Reconnection is nc's: set its
// MaxReconnects to -1 (nats.MaxReconnects(-1)) for a server that must
// survive any outage. The connection is the caller's to close, after the
// servers.
//
// Subjects, for namespace token T (Token of the name):
//
//	Prefix.T.broadcast  broadcasts and room changes (the stream's subjects in JetStream mode)
//	Prefix.T.request    requests, server-side emits, broadcasts with acks, heartbeats
//	Prefix.T.<uid>      answers to the server uid
//
// Messages are cluster.Message.Encode bytes (JSON, or msgpack when they
// carry binary).
func NewAdapter(nc *nats.Conn, opts Options) adapter.Factory {
	opts = opts.withDefaults()
	return cluster.Factory(func(uid string) (cluster.Transport, error) {
		if nc == nil {
			return nil, fmt.Errorf("nats adapter: nil connection")
		}
		if err := opts.validate(); err != nil {
			return nil, err
		}
		return newTransport(nc, uid, opts)
	}, cluster.Options{
		RequestsTimeout:   opts.RequestsTimeout,
		HeartbeatInterval: opts.HeartbeatInterval,
		HeartbeatTimeout:  opts.HeartbeatTimeout,
		MaxQueuedMessages: opts.MaxQueuedMessages,
		MaxQueuedBytes:    opts.MaxQueuedBytes,
		Logger:            opts.Logger,
	})
}

// nspSub is one subscribed namespace of a transport.
type nspSub struct {
	name    string
	mu      sync.Mutex // held while delivering; closed under it
	closed  bool
	deliver func(*cluster.Message, string)
	subs    []*nats.Subscription
}

// transport is one server's member of the cluster: its subscriptions
// all feed one channel, read by one goroutine, so that the messages of
// one publisher arrive in the order it sent them whatever their subject.
type transport struct {
	nc   *nats.Conn
	uid  string
	opts Options
	log  *slog.Logger
	in   chan *nats.Msg
	done chan struct{}
	wg   sync.WaitGroup

	mu   sync.Mutex
	nsps map[string]*nspSub // by subject of the subscription
	byNs map[string]*nspSub // by namespace

	js *jsState // nil in core mode
}

func newTransport(nc *nats.Conn, uid string, opts Options) (cluster.Transport, error) {
	t := &transport{
		nc:   nc,
		uid:  uid,
		opts: opts,
		log:  opts.Logger,
		in:   make(chan *nats.Msg, opts.PendingMessages),
		done: make(chan struct{}),
		nsps: map[string]*nspSub{},
		byNs: map[string]*nspSub{},
	}
	if opts.JetStream {
		js, err := jetstream.New(nc)
		if err != nil {
			return nil, fmt.Errorf("nats adapter: jetstream: %w", err)
		}
		t.js = newJSState(t, js)
	}
	t.wg.Add(1)
	go t.dispatch()
	if t.js != nil {
		return jsTransport{t}, nil
	}
	return t, nil
}

func (t *transport) subject(nsp, kind string) string {
	return t.opts.Prefix + "." + Token(nsp) + "." + kind
}

// stored reports whether m goes through the stream in JetStream mode:
// broadcasts without acks and room changes, the messages whose loss
// changes what clients receive.
func stored(m *cluster.Message) bool {
	switch m.Type {
	case cluster.Broadcast:
		return m.RequestID() == ""
	case cluster.SocketsJoin, cluster.SocketsLeave, cluster.DisconnectSockets:
		return true
	}
	return false
}

func (t *transport) Publish(ctx context.Context, m *cluster.Message) (string, error) {
	b, err := m.Encode()
	if err != nil {
		return "", err
	}
	if !stored(m) {
		return "", t.publishCore(t.subject(m.Nsp, "request"), b)
	}
	if t.js == nil {
		return "", t.publishCore(t.subject(m.Nsp, "broadcast"), b)
	}
	seq, err := t.js.publish(ctx, t.subject(m.Nsp, "broadcast"), b)
	if err != nil || m.Type != cluster.Broadcast {
		return "", err
	}
	return seq, nil
}

func (t *transport) publishCore(subj string, b []byte) error {
	if err := t.nc.Publish(subj, b); err != nil {
		return fmt.Errorf("nats adapter: publish %s: %w", subj, err)
	}
	return nil
}

func (t *transport) PublishResponse(_ context.Context, to string, m *cluster.Message) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	return t.publishCore(t.subject(m.Nsp, to), b)
}

func (t *transport) Subscribe(ctx context.Context, nsp string, deliver func(*cluster.Message, string)) error {
	ns := &nspSub{name: nsp, deliver: deliver}
	subjects := []string{t.subject(nsp, "request"), t.subject(nsp, t.uid)}
	if t.js == nil {
		subjects = append(subjects, t.subject(nsp, "broadcast"))
	}
	t.mu.Lock()
	if t.byNs[nsp] != nil {
		t.mu.Unlock()
		return fmt.Errorf("nats adapter: namespace %q subscribed twice", nsp)
	}
	t.byNs[nsp] = ns
	for _, s := range subjects {
		t.nsps[s] = ns
	}
	t.mu.Unlock()
	fail := func(err error) error {
		t.Unsubscribe(nsp)
		return err
	}
	for _, s := range subjects {
		sub, err := t.nc.ChanSubscribe(s, t.in)
		if err != nil {
			return fail(fmt.Errorf("nats adapter: subscribe %s: %w", s, err))
		}
		ns.mu.Lock()
		ns.subs = append(ns.subs, sub)
		ns.mu.Unlock()
	}
	// The subscriptions are in place once the server has processed them.
	if err := t.nc.FlushWithContext(ctx); err != nil {
		return fail(fmt.Errorf("nats adapter: subscribe: %w", err))
	}
	if t.js != nil {
		if err := t.js.start(ctx); err != nil {
			return fail(err)
		}
	}
	return nil
}

func (t *transport) Unsubscribe(nsp string) {
	t.mu.Lock()
	ns := t.byNs[nsp]
	delete(t.byNs, nsp)
	for s, n := range t.nsps {
		if n == ns {
			delete(t.nsps, s)
		}
	}
	t.mu.Unlock()
	if ns == nil {
		return
	}
	ns.mu.Lock()
	ns.closed = true
	subs := ns.subs
	ns.subs = nil
	ns.mu.Unlock()
	for _, s := range subs {
		_ = s.Unsubscribe()
	}
}

// dispatch routes what the subscriptions receive to their namespaces.
func (t *transport) dispatch() {
	defer t.wg.Done()
	for {
		select {
		case <-t.done:
			return
		case msg := <-t.in:
			t.mu.Lock()
			ns := t.nsps[msg.Subject]
			t.mu.Unlock()
			if ns != nil {
				t.deliver(ns, msg.Data, "")
			}
		}
	}
}

// deliver decodes a message and hands it to its namespace, unless the
// namespace was unsubscribed meanwhile.
func (t *transport) deliver(ns *nspSub, data []byte, offset string) {
	defer func() {
		if r := recover(); r != nil {
			t.log.Error("nats adapter: message handler panicked; message dropped", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	m, err := cluster.Decode(data)
	if err != nil {
		t.log.Warn("nats adapter: malformed message dropped", "nsp", ns.name, "err", err)
		return
	}
	if m.Nsp != ns.name {
		return
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if !ns.closed {
		ns.deliver(m, offset)
	}
}

// namespace returns the subscribed namespace nsp (nil if none).
func (t *transport) namespace(nsp string) *nspSub {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byNs[nsp]
}

func (t *transport) Close() error {
	t.mu.Lock()
	var names []string
	for n := range t.byNs {
		names = append(names, n)
	}
	t.mu.Unlock()
	for _, n := range names {
		t.Unsubscribe(n)
	}
	if t.js != nil {
		t.js.stop()
	}
	close(t.done)
	t.wg.Wait()
	return nil
}
