package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
)

// shardedSocketIDLength is Node's "looks like a socket id" test of the
// dynamic subscription mode.
const shardedSocketIDLength = 20

// SubscriptionMode selects the channels of the sharded adapter, as Node's
// subscriptionMode option.
type SubscriptionMode int

const (
	// Dynamic (the default) gives every room that is not a socket id its
	// own channel, subscribed while the room has local members.
	Dynamic SubscriptionMode = iota
	// Static uses only the namespace channel.
	Static
	// DynamicPrivate gives every room its own channel, socket ids included.
	DynamicPrivate
)

// ShardedOptions configure the sharded adapter.
type ShardedOptions struct {
	// ChannelPrefix is the prefix of the channels ("socket.io" when empty).
	ChannelPrefix string
	// SubscriptionMode must match the Node servers' subscriptionMode.
	SubscriptionMode SubscriptionMode
	// RequestsTimeout bounds requests that wait for other servers when the
	// broadcast sets no timeout: 5 s when zero.
	RequestsTimeout time.Duration
	// MaxQueuedMessages and MaxQueuedBytes bound the queue of messages to
	// the other servers (see cluster.Options: 4096 messages and 32 MiB when
	// zero).
	MaxQueuedMessages int
	MaxQueuedBytes    int
	// Logger receives the adapter's errors. Nil: silent.
	Logger *slog.Logger
}

// NewShardedAdapter returns a factory for the sharded adapter, compatible
// with @socket.io/redis-adapter's createShardedAdapter (Redis 7+: SPUBLISH
// and SSUBSCRIBE). It does not talk to classic (NewAdapter) servers.
//
// client may be a *redis.Client or a *redis.ClusterClient (Redis Cluster:
// the shard channels of a namespace live on the node owning their slot,
// and each server keeps one subscription connection per node it needs).
// One server's namespaces share its connections; closing the server closes
// them. The client itself is the caller's to close.
func NewShardedAdapter(client goredis.UniversalClient, opts ShardedOptions) adapter.Factory {
	if opts.ChannelPrefix == "" {
		opts.ChannelPrefix = "socket.io"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return cluster.Factory(func(uid string) (cluster.Transport, error) {
		return &shardedTransport{
			client: client,
			bus:    newBus(client, shardedSub, opts.Logger),
			prefix: opts.ChannelPrefix,
			mode:   opts.SubscriptionMode,
			uid:    uid,
			nsps:   map[string]func(*goredis.Message){},
			rooms:  map[string]map[string]bool{},
		}, nil
	}, cluster.Options{
		RequestsTimeout:   opts.RequestsTimeout,
		MaxQueuedMessages: opts.MaxQueuedMessages,
		MaxQueuedBytes:    opts.MaxQueuedBytes,
		Logger:            opts.Logger,
	})
}

// shardedTransport carries the ClusterAdapter protocol over sharded
// pub/sub: channel prefix#nsp# for the namespace, prefix#nsp#uid# for
// the answers to server uid, prefix#nsp#room# for a room with a channel.
type shardedTransport struct {
	client goredis.UniversalClient
	bus    *bus
	prefix string
	mode   SubscriptionMode
	uid    string

	mu    sync.Mutex
	nsps  map[string]func(*goredis.Message) // handler by namespace
	rooms map[string]map[string]bool        // room channels by namespace
}

var (
	_ cluster.ServerCounter  = (*shardedTransport)(nil)
	_ cluster.RoomSubscriber = (*shardedTransport)(nil)
)

func (t *shardedTransport) channel(nsp string) string { return t.prefix + "#" + nsp + "#" }

// RoomChannel reports whether room has its own channel.
func (t *shardedTransport) RoomChannel(room string) bool {
	switch t.mode {
	case Dynamic:
		return len(room) != shardedSocketIDLength
	case DynamicPrivate:
		return true
	}
	return false
}

// broadcastChannel is the channel of a broadcast: its room's when it goes
// to exactly one room with a channel and waits for no ack.
func (t *shardedTransport) broadcastChannel(m *cluster.Message) string {
	ch := t.channel(m.Nsp)
	if m.Type == cluster.Broadcast && m.RequestID() == "" {
		if r := m.Rooms(); len(r) == 1 && t.RoomChannel(r[0]) {
			ch += r[0] + "#"
		}
	}
	return ch
}

func (t *shardedTransport) Publish(ctx context.Context, m *cluster.Message) (string, error) {
	b, err := m.Encode()
	if err != nil {
		return "", err
	}
	if err := t.client.SPublish(ctx, t.broadcastChannel(m), b).Err(); err != nil {
		return "", fmt.Errorf("redis sharded adapter: SPUBLISH: %w", err)
	}
	return "", nil
}

func (t *shardedTransport) PublishResponse(ctx context.Context, to string, m *cluster.Message) error {
	b, err := m.Encode()
	if err != nil {
		return err
	}
	if err := t.client.SPublish(ctx, t.channel(m.Nsp)+to+"#", b).Err(); err != nil {
		return fmt.Errorf("redis sharded adapter: SPUBLISH: %w", err)
	}
	return nil
}

func (t *shardedTransport) handler(nsp string, deliver func(*cluster.Message, string)) func(*goredis.Message) {
	return func(rm *goredis.Message) {
		m, err := cluster.Decode([]byte(rm.Payload))
		if err != nil {
			t.bus.log.Warn("redis sharded adapter: malformed message dropped", "channel", rm.Channel, "err", err)
			return
		}
		if m.Nsp != nsp {
			return
		}
		deliver(m, "")
	}
}

func (t *shardedTransport) Subscribe(ctx context.Context, nsp string, deliver func(*cluster.Message, string)) error {
	ch := t.channel(nsp)
	h := t.handler(nsp, deliver)
	t.mu.Lock()
	t.nsps[nsp] = h
	t.mu.Unlock()
	return t.bus.subscribe(ctx, []string{ch, ch + t.uid + "#"}, nil, h)
}

func (t *shardedTransport) Unsubscribe(nsp string) {
	ch := t.channel(nsp)
	t.mu.Lock()
	chans := []string{ch, ch + t.uid + "#"}
	for r := range t.rooms[nsp] {
		chans = append(chans, ch+r+"#")
	}
	delete(t.rooms, nsp)
	delete(t.nsps, nsp)
	t.mu.Unlock()
	t.bus.unsubscribe(chans, nil)
}

func (t *shardedTransport) SubscribeRoom(nsp, room string) {
	t.mu.Lock()
	h := t.nsps[nsp]
	if h != nil {
		if t.rooms[nsp] == nil {
			t.rooms[nsp] = map[string]bool{}
		}
		t.rooms[nsp][room] = true
	}
	t.mu.Unlock()
	if h != nil {
		t.bus.subscribeAsync(t.channel(nsp)+room+"#", h)
	}
}

func (t *shardedTransport) UnsubscribeRoom(nsp, room string) {
	t.mu.Lock()
	delete(t.rooms[nsp], room)
	t.mu.Unlock()
	t.bus.unsubscribeAsync(t.channel(nsp) + room + "#")
}

// ServerCount is PUBSUB SHARDNUMSUB of the namespace channel, asked of
// the node that owns the channel's slot on a Redis Cluster.
func (t *shardedTransport) ServerCount(ctx context.Context, nsp string) (int, error) {
	ch := t.channel(nsp)
	var c goredis.UniversalClient = t.client
	if cc, ok := t.client.(*goredis.ClusterClient); ok {
		node, err := cc.MasterForKey(ctx, ch)
		if err != nil {
			return 0, fmt.Errorf("redis sharded adapter: shard of %q: %w", ch, err)
		}
		c = node
	}
	res, err := c.PubSubShardNumSub(ctx, ch).Result()
	if err != nil {
		return 0, fmt.Errorf("redis sharded adapter: PUBSUB SHARDNUMSUB: %w", err)
	}
	return int(res[ch]), nil
}

func (t *shardedTransport) Close() error { return t.bus.close() }
