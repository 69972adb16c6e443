package redis

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
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
// recovers on any server of the cluster, Go or Node.
func NewStreamsAdapter(client *goredis.Client, opts StreamsOptions) adapter.Factory {
	cfg := clusterConfig{
		proto:           protoStreams,
		prefix:          opts.ChannelPrefix,
		requestsTimeout: opts.RequestsTimeout,
		logger:          opts.Logger,
		streamName:      opts.StreamName,
		maxLen:          opts.MaxLen,
		readCount:       opts.ReadCount,
		block:           opts.BlockTime,
	}
	if cfg.prefix == "" {
		cfg.prefix = "socket.io"
	}
	if cfg.streamName == "" {
		cfg.streamName = "socket.io"
	}
	if cfg.maxLen <= 0 {
		cfg.maxLen = 10000
	}
	if cfg.readCount <= 0 {
		cfg.readCount = 100
	}
	if cfg.block <= 0 {
		cfg.block = time.Second
	}
	if cfg.requestsTimeout <= 0 {
		cfg.requestsTimeout = 5 * time.Second
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	return func(nsp adapter.Namespace) (adapter.Adapter, error) {
		return newCluster(client, cfg, nsp)
	}
}

// ephemeral reports whether a message goes over pub/sub rather than the
// stream: broadcasts with ack, server-side emits and fetches.
func ephemeral(typ int, data *object) bool {
	if typ == msgBroadcast {
		_, ok := data.get("requestId")
		return ok
	}
	return typ == msgServerSideEmit || typ == msgFetchSockets
}

// streamFields are the fields of a stream entry: uid, nsp, type (a
// string) and data (JSON, or base64 msgpack when it carries binary).
func streamFields(uid, nsp string, typ int, data *object) ([]any, error) {
	var enc string
	switch typ {
	case msgBroadcast, msgFetchSocketsResponse, msgServerSideEmit, msgServerSideEmitResponse, msgBroadcastAck:
		if hasBinary(data) {
			b, err := encodeMsgpack(data)
			if err != nil {
				return nil, err
			}
			enc = base64.StdEncoding.EncodeToString(b)
		}
	}
	if enc == "" {
		raw, _, err := encodeJSON(data, nodeBuffers)
		if err != nil {
			return nil, err
		}
		enc = string(raw)
	}
	return []any{"uid", uid, "nsp", nsp, "type", strconv.Itoa(typ), "data", enc}, nil
}

// streamEntry decodes the fields of a stream entry.
func streamEntry(v map[string]any) (typ int64, data *object, uid, nsp string, err error) {
	str := func(k string) string { s, _ := v[k].(string); return s }
	uid, nsp = str("uid"), str("nsp")
	typ, err = strconv.ParseInt(str("type"), 10, 64)
	if err != nil {
		return 0, nil, "", "", fmt.Errorf("redis streams adapter: bad type: %w", err)
	}
	d := str("data")
	if d == "" {
		return typ, nil, uid, nsp, nil
	}
	var tree any
	if d[0] == '{' {
		tree, err = decodeJSON([]byte(d), nil)
	} else {
		var b []byte
		b, err = base64.StdEncoding.DecodeString(d)
		if err == nil {
			tree, err = decodeMsgpack(b)
		}
	}
	if err != nil {
		return 0, nil, "", "", err
	}
	data, ok := tree.(*object)
	if !ok {
		return 0, nil, "", "", errors.New("redis streams adapter: data is not an object")
	}
	return typ, data, uid, nsp, nil
}

func (a *ClusterAdapter) publishStreams(ctx context.Context, typ int, data *object) error {
	if ephemeral(typ, data) {
		b, err := a.encode(typ, data)
		if err != nil {
			return err
		}
		if err := a.client.Publish(ctx, a.channel, b).Err(); err != nil {
			return fmt.Errorf("redis streams adapter: publish: %w", err)
		}
		return nil
	}
	_, err := a.xadd(ctx, typ, data)
	return err
}

// xadd appends a message to the stream and returns its id.
func (a *ClusterAdapter) xadd(ctx context.Context, typ int, data *object) (string, error) {
	fields, err := streamFields(a.uid, a.nsp.Name(), typ, data)
	if err != nil {
		return "", err
	}
	id, err := a.client.XAdd(ctx, &goredis.XAddArgs{
		Stream: a.opts.streamName,
		MaxLen: a.opts.maxLen,
		Approx: true,
		ID:     "*",
		Values: fields,
	}).Result()
	if err != nil {
		return "", fmt.Errorf("redis streams adapter: XADD: %w", err)
	}
	return id, nil
}

// noRecovery hides the recovery duration from the local layer: with
// Streams the offsets are stream ids and sessions live in Redis.
type noRecovery struct{ adapter.Namespace }

// RecoveryDuration is 0 for the local layer.
func (noRecovery) RecoveryDuration() time.Duration { return 0 }

// addOffset appends the stream id to an event a recovering client may
// have missed (an event without ack, not volatile), as Node does.
func (a *ClusterAdapter) addOffset(p *parser.Packet, opts adapter.BroadcastOptions, offset string) {
	if a.nsp.RecoveryDuration() <= 0 || p.HasID || opts.Flags.Volatile ||
		(p.Type != parser.Event && p.Type != parser.BinaryEvent) {
		return
	}
	if d, err := parser.AppendArg(p.Data, offset); err == nil {
		p.Data = d
	}
}

// sessionKey is where Node's Streams adapter keeps a session.
const sessionKeyPrefix = "sio:session:"

var offsetPattern = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// PersistSession stores a disconnected socket's state in Redis (Streams;
// the other protocols keep it locally), as Node does: base64 of the
// msgpack {sid, pid, rooms, data}, expiring after the recovery duration.
func (a *ClusterAdapter) PersistSession(ctx context.Context, s *adapter.Session) error {
	if a.opts.proto != protoStreams {
		return a.mem.PersistSession(ctx, s)
	}
	d := a.nsp.RecoveryDuration()
	if d <= 0 {
		return nil
	}
	var data any = &object{}
	if s.Data != nil {
		if raw, err := json.Marshal(s.Data); err == nil {
			if v, err := decodeJSON(raw, nil); err == nil {
				data = v
			}
		}
	}
	b, err := encodeMsgpack(obj("sid", s.SID, "pid", s.PID, "rooms", roomList(s.Rooms), "data", data))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.requestsTimeout)
	defer cancel()
	return a.client.Set(ctx, sessionKeyPrefix+s.PID, base64.StdEncoding.EncodeToString(b), d).Err()
}

// RestoreSession takes the session of pid out of Redis and reads the
// events broadcast to its rooms after offset from the stream (Streams; the
// other protocols restore locally). It returns (nil, nil) when the session
// or the offset is gone.
func (a *ClusterAdapter) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	if a.opts.proto != protoStreams {
		return a.mem.RestoreSession(ctx, pid, offset)
	}
	if !offsetPattern.MatchString(offset) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.opts.requestsTimeout)
	defer cancel()
	key := sessionKeyPrefix + pid
	var get *goredis.StringCmd
	if _, err := a.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
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
	exists, err := a.client.XRange(ctx, a.opts.streamName, offset, offset).Result()
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
	tree, err := decodeMsgpack(b)
	if err != nil {
		return nil, err
	}
	so, ok := tree.(*object)
	if !ok {
		return nil, errors.New("redis streams adapter: session is not an object")
	}
	sess := &adapter.Session{}
	sid, _ := so.get("sid")
	sess.SID, _ = sid.(string)
	spid, _ := so.get("pid")
	sess.PID, _ = spid.(string)
	rv, _ := so.get("rooms")
	sess.Rooms = asStrings(rv)
	if dv, ok := so.get("data"); ok {
		var x any
		if json.Unmarshal(jsonOf(dv), &x) == nil {
			sess.Data = x
		}
	}
	if sess.SID == "" || sess.PID != pid {
		return nil, nil
	}
	for range 100 {
		entries, err := a.client.XRange(ctx, a.opts.streamName, nextOffset(offset), "+").Result()
		if err != nil {
			return nil, err
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			offset = e.ID
			if nsp, _ := e.Values["nsp"].(string); nsp != a.nsp.Name() {
				continue
			}
			if t, _ := e.Values["type"].(string); t != "3" {
				continue
			}
			_, data, _, _, err := streamEntry(e.Values)
			if err != nil {
				continue
			}
			ov, _ := data.get("opts")
			opts := treeOpts(ov)
			if !includesRooms(sess.Rooms, opts) {
				continue
			}
			pv, _ := data.get("packet")
			if po, ok := pv.(*object); ok {
				po.set("nsp", a.nsp.Name())
			}
			p, err := treePacket(pv, a.nsp.Name())
			if err != nil {
				continue
			}
			if d, err := parser.AppendArg(p.Data, e.ID); err == nil {
				p.Data = d
				sess.MissedPackets = append(sess.MissedPackets, p)
			}
		}
	}
	return sess, nil
}

// nextOffset is the stream id right after id.
func nextOffset(id string) string {
	i := strings.IndexByte(id, '-')
	seq, _ := strconv.ParseUint(id[i+1:], 10, 64)
	return id[:i+1] + strconv.FormatUint(seq+1, 10)
}

// includesRooms is socket.io-adapter's shouldIncludePacket.
func includesRooms(rooms []string, opts adapter.BroadcastOptions) bool {
	included := len(opts.Rooms) == 0
	for _, r := range opts.Rooms {
		if slices.Contains(rooms, r) {
			included = true
			break
		}
	}
	if !included {
		return false
	}
	for _, r := range opts.Except {
		if slices.Contains(rooms, r) {
			return false
		}
	}
	return true
}

// readStream reads the stream from the entries added after the adapter
// started, and after a lost connection resumes from the last entry read.
func (a *ClusterAdapter) readStream() {
	defer a.readWG.Done()
	last := "$"
	backoff := 50 * time.Millisecond
	down := false
	for a.ctx.Err() == nil {
		res, err := a.client.XRead(a.ctx, &goredis.XReadArgs{
			Streams: []string{a.opts.streamName, last},
			Count:   a.opts.readCount,
			Block:   a.opts.block,
		}).Result()
		if a.ctx.Err() != nil {
			return
		}
		if errors.Is(err, goredis.Nil) {
			continue
		}
		if err != nil {
			if !down {
				a.log.Warn("redis streams adapter: reading the stream failed; retrying", "err", err)
			}
			down = true
			select {
			case <-a.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, time.Second)
			continue
		}
		if down {
			a.log.Info("redis streams adapter: reading the stream again", "from", last)
			down = false
		}
		backoff = 50 * time.Millisecond
		for _, s := range res {
			for _, m := range s.Messages {
				last = m.ID
				a.onEntry(m)
			}
		}
	}
}

func (a *ClusterAdapter) onEntry(m goredis.XMessage) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("redis streams adapter: entry handler panicked; entry dropped", "id", m.ID, "panic", r,
				"stack", string(debug.Stack()))
		}
	}()
	if nsp, _ := m.Values["nsp"].(string); nsp != a.nsp.Name() {
		return
	}
	typ, data, uid, nsp, err := streamEntry(m.Values)
	if err == nil {
		err = a.handle(false, typ, data, uid, nsp, m.ID)
	}
	if err != nil && !errors.Is(err, errWrongNsp) {
		a.log.Warn("redis streams adapter: malformed entry dropped", "id", m.ID, "err", err)
	}
}
