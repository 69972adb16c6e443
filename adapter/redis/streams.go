package redis

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// StreamsOptions configure the Redis Streams adapter.
type StreamsOptions struct {
	// StreamName is the stream ("socket.io" when empty). Only one stream is
	// supported (Node's streamCount 1, its default).
	StreamName string
	// ChannelPrefix is the prefix of the pub/sub channels ("socket.io" when
	// empty).
	ChannelPrefix string
	// MaxLen trims the stream (approximately) to this many entries: 10000
	// when zero.
	MaxLen int64
	// ReadCount is the number of entries read at once: 100 when zero.
	ReadCount int64
	// BlockTime is how long one XREAD waits for entries (1 s when zero). It
	// also bounds how long Close waits for the reader.
	BlockTime time.Duration
	// RequestsTimeout bounds requests that wait for other servers: 5 s
	// when zero.
	RequestsTimeout time.Duration
	// MaxQueuedMessages and MaxQueuedBytes bound the queue of messages to
	// the other servers (see cluster.Options: 4096 messages and 32 MiB when
	// zero).
	MaxQueuedMessages int
	MaxQueuedBytes    int
	// Logger receives the adapter's errors. Nil: silent.
	Logger *slog.Logger
}

// NewStreamsAdapter returns a factory for the Redis Streams adapter,
// compatible with @socket.io/redis-streams-adapter 0.3.x: broadcasts and
// room changes go through a Redis stream (XADD/XREAD), so a server whose
// Redis connection dropped resumes from its last entry instead of losing
// what was published meanwhile; requests and answers go over pub/sub.
//
// With connection state recovery on (socketio.Config.ConnectionStateRecovery),
// sessions are kept in Redis and the offsets are stream ids, so a client
// recovers on any server of the cluster, Go or Node. A recovering socket
// joins its rooms before its missed broadcasts are read from the stream,
// so that none published meanwhile is lost (see adapter.SessionRestorer).
//
// client may be a *redis.Client or a *redis.ClusterClient. One server's
// namespaces share one subscription connection and one stream reader.
func NewStreamsAdapter(client goredis.UniversalClient, opts StreamsOptions) adapter.Factory {
	if opts.ChannelPrefix == "" {
		opts.ChannelPrefix = "socket.io"
	}
	if opts.StreamName == "" {
		opts.StreamName = "socket.io"
	}
	if opts.MaxLen <= 0 {
		opts.MaxLen = 10000
	}
	if opts.ReadCount <= 0 {
		opts.ReadCount = 100
	}
	if opts.BlockTime <= 0 {
		opts.BlockTime = time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return cluster.Factory(func(uid string) (cluster.Transport, error) {
		t := &streamsTransport{
			client: client,
			bus:    newBus(client, plainSub, opts.Logger),
			opts:   opts,
			uid:    uid,
			log:    opts.Logger,
			nsps:   map[string]func(*cluster.Message, string){},
		}
		t.ctx, t.cancel = context.WithCancel(context.Background())
		return t, nil
	}, cluster.Options{
		RequestsTimeout:   opts.RequestsTimeout,
		MaxQueuedMessages: opts.MaxQueuedMessages,
		MaxQueuedBytes:    opts.MaxQueuedBytes,
		Logger:            opts.Logger,
	})
}

// streamsTransport carries the ClusterAdapter protocol over one Redis
// stream (broadcasts and room changes, read by one XREAD loop per server)
// and pub/sub (requests on prefix#nsp#, answers on prefix#nsp#uid#).
type streamsTransport struct {
	client goredis.UniversalClient
	bus    *bus
	opts   StreamsOptions
	uid    string
	log    *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	nsps    map[string]func(*cluster.Message, string)
	reading bool
}

var (
	_ cluster.ServerCounter = (*streamsTransport)(nil)
	_ cluster.SessionStore  = (*streamsTransport)(nil)
)

func (t *streamsTransport) channel(nsp string) string { return t.opts.ChannelPrefix + "#" + nsp + "#" }

// ephemeral reports whether a message goes over pub/sub rather than the
// stream: broadcasts with ack, server-side emits and fetches.
func ephemeral(m *cluster.Message) bool {
	if m.Type == cluster.Broadcast {
		return m.RequestID() != ""
	}
	return m.Type == cluster.ServerSideEmit || m.Type == cluster.FetchSockets
}

// streamFields are the fields of a stream entry: uid, nsp, type (a
// string) and data (JSON, or base64 msgpack when it carries binary).
func streamFields(m *cluster.Message) ([]any, error) {
	b, binary, err := m.EncodeData()
	if err != nil {
		return nil, err
	}
	return entryFields(m.UID, m.Nsp, m.Type, b, binary), nil
}

func entryFields(uid, nsp string, typ cluster.MessageType, data []byte, binary bool) []any {
	enc := string(data)
	if binary {
		enc = base64.StdEncoding.EncodeToString(data)
	}
	return []any{"uid", uid, "nsp", nsp, "type", strconv.Itoa(int(typ)), "data", enc}
}

// streamEntry decodes the fields of a stream entry.
func streamEntry(v map[string]any) (*cluster.Message, error) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	d := str("data")
	var data []byte
	if d != "" && d[0] != '{' {
		b, err := base64.StdEncoding.DecodeString(d)
		if err != nil {
			return nil, fmt.Errorf("redis streams adapter: bad data: %w", err)
		}
		data = b
	} else {
		data = []byte(d)
	}
	m, err := cluster.DecodeData(str("type"), str("uid"), str("nsp"), data)
	if err != nil {
		return nil, fmt.Errorf("redis streams adapter: %w", err)
	}
	return m, nil
}

func (t *streamsTransport) Publish(ctx context.Context, m *cluster.Message) (string, error) {
	if ephemeral(m) {
		b, err := m.EncodeMsgpack()
		if err != nil {
			return "", err
		}
		if err := t.client.Publish(ctx, t.channel(m.Nsp), b).Err(); err != nil {
			return "", fmt.Errorf("redis streams adapter: publish: %w", err)
		}
		return "", nil
	}
	fields, err := streamFields(m)
	if err != nil {
		return "", err
	}
	id, err := t.client.XAdd(ctx, &goredis.XAddArgs{
		Stream: t.opts.StreamName,
		MaxLen: t.opts.MaxLen,
		Approx: true,
		ID:     "*",
		Values: fields,
	}).Result()
	if err != nil {
		return "", fmt.Errorf("redis streams adapter: XADD: %w", err)
	}
	if m.Type != cluster.Broadcast {
		return "", nil
	}
	return id, nil
}

func (t *streamsTransport) PublishResponse(ctx context.Context, to string, m *cluster.Message) error {
	b, err := m.EncodeMsgpack()
	if err != nil {
		return err
	}
	if err := t.client.Publish(ctx, t.channel(m.Nsp)+to+"#", b).Err(); err != nil {
		return fmt.Errorf("redis streams adapter: publish: %w", err)
	}
	return nil
}

func (t *streamsTransport) Subscribe(ctx context.Context, nsp string, deliver func(*cluster.Message, string)) error {
	ch := t.channel(nsp)
	h := func(rm *goredis.Message) {
		m, err := cluster.Decode([]byte(rm.Payload))
		if err != nil {
			t.log.Warn("redis streams adapter: malformed message dropped", "channel", rm.Channel, "err", err)
			return
		}
		if m.Nsp == nsp {
			deliver(m, "")
		}
	}
	if err := t.bus.subscribe(ctx, []string{ch, ch + t.uid + "#"}, nil, h); err != nil {
		return err
	}
	t.mu.Lock()
	t.nsps[nsp] = deliver
	start := !t.reading
	t.reading = true
	if start {
		t.wg.Add(1)
	}
	t.mu.Unlock()
	if start {
		go t.readStream(t.streamEnd(ctx))
	}
	return nil
}

// streamEnd returns the id of the stream's last entry ("0-0" when it has
// none), so that reading starts right after what is there now: an entry
// added between this call and the first XREAD is read too, where "$"
// would skip it (a server that has just started would miss the emits of
// its first moments). "$" only when Redis does not answer.
func (t *streamsTransport) streamEnd(ctx context.Context) string {
	last, err := t.client.XRevRangeN(ctx, t.opts.StreamName, "+", "-", 1).Result()
	switch {
	case err != nil:
		return "$"
	case len(last) == 0:
		return "0-0"
	}
	return last[0].ID
}

func (t *streamsTransport) Unsubscribe(nsp string) {
	t.mu.Lock()
	delete(t.nsps, nsp)
	t.mu.Unlock()
	ch := t.channel(nsp)
	t.bus.unsubscribe([]string{ch, ch + t.uid + "#"}, nil)
}

// ServerCount is PUBSUB NUMSUB of the namespace channel, summed over the
// nodes of a Redis Cluster (a subscriber is counted by the node it is
// connected to).
func (t *streamsTransport) ServerCount(ctx context.Context, nsp string) (int, error) {
	return numSub(ctx, t.client, t.channel(nsp))
}

func (t *streamsTransport) Close() error {
	t.cancel()
	err := t.bus.close()
	t.wg.Wait()
	return err
}

// sessionKey is where Node's Streams adapter keeps a session.
const sessionKeyPrefix = "sio:session:"

var offsetPattern = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// PersistSession stores a disconnected socket's state in Redis, as Node
// does: base64 of the msgpack {sid, pid, rooms, data}, expiring after ttl.
func (t *streamsTransport) PersistSession(ctx context.Context, nsp string, s *adapter.Session, ttl time.Duration) error {
	var data any = &wire.Object{}
	if s.Data != nil {
		if v, err := wire.FromGo(s.Data); err == nil && v != nil {
			data = v
		}
	}
	b, err := wire.EncodeMsgpack(wire.Obj("sid", s.SID, "pid", s.PID, "rooms", wire.RoomList(s.Rooms), "data", data))
	if err != nil {
		return err
	}
	return t.client.Set(ctx, sessionKeyPrefix+s.PID, base64.StdEncoding.EncodeToString(b), ttl).Err()
}

// TakeSession takes the session of pid out of Redis (GET and DEL in one
// transaction: only one server restores it). It returns (nil, nil) when
// the session is gone or the stream no longer has the entry at offset.
func (t *streamsTransport) TakeSession(ctx context.Context, nsp, pid, offset string) (*adapter.Session, error) {
	if !offsetPattern.MatchString(offset) {
		return nil, nil
	}
	key := sessionKeyPrefix + pid
	var get *goredis.StringCmd
	if _, err := t.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		get = p.Get(ctx, key)
		p.Del(ctx, key)
		return nil
	}); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, err
	}
	raw, err := get.Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	exists, err := t.client.XRange(ctx, t.opts.StreamName, offset, offset).Result()
	if err != nil {
		return nil, err
	}
	if len(exists) == 0 {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, err
	}
	tree, err := wire.DecodeMsgpack(b)
	if err != nil {
		return nil, err
	}
	so, ok := tree.(*wire.Object)
	if !ok {
		return nil, errors.New("redis streams adapter: session is not an object")
	}
	sess := &adapter.Session{}
	sid, _ := so.Get("sid")
	sess.SID, _ = sid.(string)
	spid, _ := so.Get("pid")
	sess.PID, _ = spid.(string)
	rv, _ := so.Get("rooms")
	sess.Rooms = wire.AsStrings(rv)
	if dv, ok := so.Get("data"); ok {
		sess.Data = wire.ToGo(dv)
	}
	if sess.SID == "" || sess.PID != pid {
		return nil, nil
	}
	return sess, nil
}

// MissedPackets reads the stream from offset on, in one XRANGE: the
// events of nsp broadcast to rooms after it, each with its stream id
// appended. What is added later reaches the socket live (it is in its
// rooms by now). The entry at offset must still be there
// (adapter.ErrOffsetGone otherwise): the stream is trimmed from its oldest
// end.
func (t *streamsTransport) MissedPackets(ctx context.Context, nsp string, rooms []string, offset string) ([]adapter.MissedPacket, error) {
	if !offsetPattern.MatchString(offset) {
		return nil, adapter.ErrOffsetGone
	}
	entries, err := t.client.XRange(ctx, t.opts.StreamName, offset, "+").Result()
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 || entries[0].ID != offset {
		return nil, adapter.ErrOffsetGone
	}
	var out []adapter.MissedPacket
	for _, e := range entries[1:] {
		if n, _ := e.Values["nsp"].(string); n != nsp {
			continue
		}
		if typ, _ := e.Values["type"].(string); typ != "3" {
			continue
		}
		m, err := streamEntry(e.Values)
		if err != nil {
			continue
		}
		p, opts, err := m.BroadcastPacket()
		if err != nil || !cluster.Includes(rooms, opts) {
			continue
		}
		if d, err := parser.AppendArg(p.Data, e.ID); err == nil {
			p.Data = d
			out = append(out, adapter.MissedPacket{Offset: e.ID, Packet: p})
		}
	}
	return out, nil
}

// readStream reads the stream from the entries added after last (the end
// of the stream when the first namespace subscribed), routes each to its
// namespace, and after a lost connection resumes from the last entry read.
func (t *streamsTransport) readStream(last string) {
	defer t.wg.Done()
	backoff := 50 * time.Millisecond
	down := false
	for t.ctx.Err() == nil {
		res, err := t.client.XRead(t.ctx, &goredis.XReadArgs{
			Streams: []string{t.opts.StreamName, last},
			Count:   t.opts.ReadCount,
			Block:   t.opts.BlockTime,
		}).Result()
		if t.ctx.Err() != nil {
			return
		}
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			if !down {
				t.log.Warn("redis streams adapter: reading the stream failed; retrying", "err", err)
			}
			down = true
			select {
			case <-t.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		if down {
			t.log.Info("redis streams adapter: reading the stream again", "from", last)
			down = false
		}
		backoff = 50 * time.Millisecond
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				t.onEntry(m)
			}
		}
	}
}

func (t *streamsTransport) onEntry(e goredis.XMessage) {
	defer func() {
		if r := recover(); r != nil {
			t.log.Error("redis streams adapter: entry handler panicked; entry dropped", "id", e.ID, "panic", r,
				"stack", string(debug.Stack()))
		}
	}()
	nsp, _ := e.Values["nsp"].(string)
	t.mu.Lock()
	deliver := t.nsps[nsp]
	t.mu.Unlock()
	if deliver == nil {
		return
	}
	m, err := streamEntry(e.Values)
	if err != nil {
		t.log.Warn("redis streams adapter: malformed entry dropped", "id", e.ID, "err", err)
		return
	}
	deliver(m, e.ID)
}
