package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// jsTransport is the transport of the JetStream mode: the core transport,
// whose broadcasts go through the stream, and the session store.
type jsTransport struct{ *transport }

var _ cluster.SessionStore = jsTransport{}

// jsState is the JetStream side of a transport: the stream reader (one
// consumer per server for every namespace) and the session bucket.
type jsState struct {
	t  *transport
	js jetstream.JetStream

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	reading bool
	next    uint64    // the next stream sequence to read
	created time.Time // the stream's creation time, to notice a new stream
	kv      jetstream.KeyValue
}

func newJSState(t *transport, js jetstream.JetStream) *jsState {
	s := &jsState{t: t, js: js}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// ensureStream returns the stream, created if absent.
func (s *jsState) ensureStream(ctx context.Context) (jetstream.Stream, error) {
	o := s.t.opts
	st, err := s.js.Stream(ctx, o.Stream)
	if err == nil {
		return st, nil
	}
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) {
		return nil, fmt.Errorf("nats adapter: stream %s: is JetStream enabled on the NATS server (nats-server -js)? %w", o.Stream, err)
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("nats adapter: stream %s: %w", o.Stream, err)
	}
	storage := jetstream.FileStorage
	if o.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	st, err = s.js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      o.Stream,
		Subjects:  []string{o.Prefix + ".*.broadcast"},
		Retention: jetstream.LimitsPolicy,
		MaxMsgs:   o.MaxMsgs,
		MaxAge:    o.MaxAge,
		Discard:   jetstream.DiscardOld,
		Storage:   storage,
	})
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		st, err = s.js.Stream(ctx, o.Stream) // another server created it
	}
	if err != nil {
		return nil, fmt.Errorf("nats adapter: create stream %s: %w", o.Stream, err)
	}
	return st, nil
}

// publish stores a message in the stream and returns its sequence. When
// the stream is gone (a broker that restarted empty) it is created again.
func (s *jsState) publish(ctx context.Context, subj string, b []byte) (string, error) {
	ack, err := s.js.Publish(ctx, subj, b)
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
		if _, err = s.ensureStream(ctx); err == nil {
			ack, err = s.js.Publish(ctx, subj, b)
		}
	}
	if err != nil {
		return "", fmt.Errorf("nats adapter: publish %s: %w", subj, err)
	}
	return strconv.FormatUint(ack.Sequence, 10), nil
}

// start starts the stream reader with the first namespace: it reads what
// is stored from now on (the stream exists and its position is known when
// start returns).
func (s *jsState) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reading {
		return nil
	}
	st, err := s.ensureStream(ctx)
	if err != nil {
		return err
	}
	info := st.CachedInfo()
	s.next = info.State.LastSeq + 1
	s.created = info.Created
	s.reading = true
	s.wg.Add(1)
	go s.read()
	return nil
}

func (s *jsState) stop() {
	s.cancel()
	s.wg.Wait()
}

// read consumes the stream from s.next with an ephemeral consumer of this
// server; when the consumer fails (lost connection, missed heartbeats, the
// broker restarted) it makes a new one from the last sequence read, or
// from the start of a stream created anew.
func (s *jsState) read() {
	defer s.wg.Done()
	backoff := 50 * time.Millisecond
	down := false
	for s.ctx.Err() == nil {
		read, err := s.consume()
		if s.ctx.Err() != nil {
			return
		}
		if read > 0 {
			// It worked for a while: a new failure, retried at once.
			down, backoff = false, 50*time.Millisecond
		}
		if !down {
			s.t.log.Warn("nats adapter: reading the stream failed; retrying", "stream", s.t.opts.Stream, "err", err)
			down = true
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Second)
	}
}

// consume reads the stream until its consumer fails, and returns how many
// messages it read.
func (s *jsState) consume() (read int, err error) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	st, err := s.ensureStream(ctx)
	if err != nil {
		cancel()
		return 0, err
	}
	info := st.CachedInfo()
	s.mu.Lock()
	if !info.Created.Equal(s.created) {
		// A new stream (the broker lost the old one): everything in it
		// was published after we last read.
		s.created = info.Created
		s.next = 1
	}
	if info.State.FirstSeq > s.next {
		s.next = info.State.FirstSeq // trimmed meanwhile: lost
	}
	next := s.next
	s.mu.Unlock()
	c, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       next,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 30 * time.Second,
		MemoryStorage:     true,
	})
	cancel()
	if err != nil {
		return 0, fmt.Errorf("nats adapter: create consumer: %w", err)
	}
	name := c.CachedInfo().Name
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = st.DeleteConsumer(ctx, name)
		cancel()
	}()
	it, err := c.Messages(jetstream.PullMaxMessages(256), jetstream.PullExpiry(5*time.Second),
		jetstream.PullHeartbeat(time.Second), jetstream.WithMessagesErrOnMissingHeartbeat(true))
	if err != nil {
		return 0, fmt.Errorf("nats adapter: consume: %w", err)
	}
	stop := context.AfterFunc(s.ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			return read, err
		}
		read++
		md, err := msg.Metadata()
		if err != nil {
			continue
		}
		seq := md.Sequence.Stream
		s.mu.Lock()
		old := seq < s.next
		if !old {
			s.next = seq + 1
		}
		s.mu.Unlock()
		if old {
			continue
		}
		s.onMessage(msg.Subject(), msg.Data(), seq)
	}
}

// onMessage routes a stream message to its namespace.
func (s *jsState) onMessage(subj string, data []byte, seq uint64) {
	nsp, ok := s.namespaceOf(subj)
	if !ok {
		return
	}
	ns := s.t.namespace(nsp)
	if ns == nil {
		return
	}
	s.t.deliver(ns, data, strconv.FormatUint(seq, 10))
}

// namespaceOf reads the namespace from a subject Prefix.T.broadcast.
func (s *jsState) namespaceOf(subj string) (string, bool) {
	p := s.t.opts.Prefix + "."
	const suffix = ".broadcast"
	if len(subj) <= len(p)+len(suffix) || subj[:len(p)] != p || subj[len(subj)-len(suffix):] != suffix {
		return "", false
	}
	nsp, err := ParseToken(subj[len(p) : len(subj)-len(suffix)])
	return nsp, err == nil
}

// bucket returns the session bucket; create makes it when absent (with
// ttl unless Options.SessionTTL is set).
func (s *jsState) bucket(ctx context.Context, create bool, ttl time.Duration) (jetstream.KeyValue, error) {
	s.mu.Lock()
	kv := s.kv
	s.mu.Unlock()
	if kv != nil {
		return kv, nil
	}
	o := s.t.opts
	kv, err := s.js.KeyValue(ctx, o.SessionBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) && create {
		if o.SessionTTL > 0 {
			ttl = o.SessionTTL
		}
		storage := jetstream.FileStorage
		if o.MemoryStorage {
			storage = jetstream.MemoryStorage
		}
		kv, err = s.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: o.SessionBucket, TTL: ttl, Storage: storage})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = s.js.KeyValue(ctx, o.SessionBucket)
		}
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.kv = kv
	s.mu.Unlock()
	return kv, nil
}

// forgetBucket drops the cached bucket after an error that may mean it is
// gone (a broker that restarted empty).
func (s *jsState) forgetBucket() {
	s.mu.Lock()
	s.kv = nil
	s.mu.Unlock()
}

// PersistSession stores a disconnected socket's session in the KV bucket
// (key: Token of the private id; value: msgpack {sid, pid, rooms, data,
// expires}), for ttl.
func (t jsTransport) PersistSession(ctx context.Context, nsp string, sess *adapter.Session, ttl time.Duration) error {
	var data any = &wire.Object{}
	if sess.Data != nil {
		if v, err := wire.FromGo(sess.Data); err == nil && v != nil {
			data = v
		}
	}
	b, err := wire.EncodeMsgpack(wire.Obj("sid", sess.SID, "pid", sess.PID, "nsp", nsp, "rooms", wire.RoomList(sess.Rooms),
		"data", data, "expires", time.Now().Add(ttl).UnixMilli()))
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		kv, err := t.js.bucket(ctx, true, ttl)
		if err == nil {
			_, err = kv.Put(ctx, Token(sess.PID), b)
		}
		if err == nil {
			return nil
		}
		t.js.forgetBucket()
		if attempt == 1 {
			return fmt.Errorf("nats adapter: persist session: %w", err)
		}
	}
}

// TakeSession takes the session of pid out of the bucket (a delete at
// its revision: only one server restores a session). It returns (nil,
// nil) when the session, or the message at offset (a stream sequence), is
// gone.
func (t jsTransport) TakeSession(ctx context.Context, nsp, pid, offset string) (*adapter.Session, error) {
	seq, err := strconv.ParseUint(offset, 10, 64)
	if err != nil || seq == 0 {
		return nil, nil
	}
	kv, err := t.js.bucket(ctx, false, 0)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, nil
	}
	if err != nil {
		t.js.forgetBucket()
		return nil, fmt.Errorf("nats adapter: session bucket: %w", err)
	}
	key := Token(pid)
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		t.js.forgetBucket()
		return nil, fmt.Errorf("nats adapter: get session: %w", err)
	}
	// Take it: only one server restores a session.
	if err := kv.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err != nil {
		return nil, nil
	}
	sess, ok := decodeSession(e.Value(), pid, nsp)
	if !ok {
		return nil, nil
	}
	st, err := t.js.js.Stream(ctx, t.opts.Stream)
	if err != nil {
		return nil, nil
	}
	if _, err := st.GetMsg(ctx, seq); err != nil {
		return nil, nil // the offset is gone: a full reconnect
	}
	return sess, nil
}

// MissedPackets reads the broadcasts of nsp stored after offset (a
// stream sequence) that reach a socket in rooms, up to the last message
// of the stream when the read starts: what is stored later reaches the
// socket live (it is in its rooms by now).
func (t jsTransport) MissedPackets(ctx context.Context, nsp string, rooms []string, offset string) ([]adapter.MissedPacket, error) {
	seq, err := strconv.ParseUint(offset, 10, 64)
	if err != nil || seq == 0 {
		return nil, adapter.ErrOffsetGone
	}
	st, err := t.js.js.Stream(ctx, t.opts.Stream)
	if err != nil {
		return nil, fmt.Errorf("nats adapter: read missed broadcasts: %w", err)
	}
	state := st.CachedInfo().State
	if state.FirstSeq > seq || state.LastSeq < seq {
		return nil, adapter.ErrOffsetGone // trimmed meanwhile, or a new stream
	}
	last := state.LastSeq
	if last == seq {
		return nil, nil
	}
	c, err := st.CreateConsumer(ctx, jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       seq + 1,
		FilterSubject:     t.subject(nsp, "broadcast"),
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: 10 * time.Second,
		MemoryStorage:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("nats adapter: read missed broadcasts: %w", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = st.DeleteConsumer(ctx, c.CachedInfo().Name)
		cancel()
	}()
	var out []adapter.MissedPacket
	if c.CachedInfo().NumPending == 0 {
		return nil, nil
	}
	for {
		batch, err := c.Fetch(256, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return nil, fmt.Errorf("nats adapter: read missed broadcasts: %w", err)
		}
		n := 0
		pending := uint64(1)
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				continue
			}
			pending = md.NumPending
			if md.Sequence.Stream > last {
				pending = 0
				break
			}
			if mp, ok := missedPacket(nsp, rooms, msg.Data(), md.Sequence.Stream); ok {
				out = append(out, mp)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("nats adapter: read missed broadcasts: %w", err)
		}
		if n == 0 || pending == 0 {
			return out, nil
		}
	}
}

// missedPacket decodes a stored broadcast for a socket in rooms: false
// when it is not one for it.
func missedPacket(nsp string, rooms []string, data []byte, seq uint64) (adapter.MissedPacket, bool) {
	m, err := cluster.Decode(data)
	if err != nil || m.Type != cluster.Broadcast || m.Nsp != nsp {
		return adapter.MissedPacket{}, false
	}
	p, opts, err := m.BroadcastPacket()
	if err != nil || !cluster.Includes(rooms, opts) {
		return adapter.MissedPacket{}, false
	}
	off := strconv.FormatUint(seq, 10)
	d, err := parser.AppendArg(p.Data, off)
	if err != nil {
		return adapter.MissedPacket{}, false
	}
	p.Data = d
	return adapter.MissedPacket{Offset: off, Packet: p}, true
}

// decodeSession reads a stored session; false when it is malformed,
// expired or not pid's.
func decodeSession(b []byte, pid, nsp string) (*adapter.Session, bool) {
	tree, err := wire.DecodeMsgpack(b)
	if err != nil {
		return nil, false
	}
	so, ok := tree.(*wire.Object)
	if !ok {
		return nil, false
	}
	str := func(k string) string { v, _ := so.Get(k); s, _ := v.(string); return s }
	ev, _ := so.Get("expires")
	if exp, ok := wire.AsInt(ev); !ok || time.Now().UnixMilli() > int64(exp) {
		return nil, false
	}
	sess := &adapter.Session{SID: str("sid"), PID: str("pid")}
	if sess.SID == "" || sess.PID != pid || str("nsp") != nsp {
		return nil, false
	}
	rv, _ := so.Get("rooms")
	sess.Rooms = wire.AsStrings(rv)
	if dv, ok := so.Get("data"); ok {
		sess.Data = wire.ToGo(dv)
	}
	return sess, true
}
