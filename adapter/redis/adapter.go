// Package redis holds Socket.IO adapters that share broadcasts, rooms and
// cluster requests between servers through Redis, wire-compatible with the
// Node packages, so that Go and Node servers can serve one cluster:
//
//   - NewAdapter: the classic pub/sub adapter of @socket.io/redis-adapter
//     8.x (createAdapter);
//   - NewShardedAdapter: its sharded variant (createShardedAdapter, Redis 7
//     SPUBLISH/SSUBSCRIBE);
//   - NewStreamsAdapter: @socket.io/redis-streams-adapter 0.3.x (a Redis
//     stream for broadcasts, with connection state recovery across
//     servers);
//   - NewEmitter: @socket.io/redis-emitter 5.x, for processes that only
//     publish, compatible with the classic adapter; NewStreamsEmitter does
//     the same for the Streams adapter.
//
// The three protocols do not talk to each other: every server of a cluster
// must use the same one, with the same key prefix.
//
// Pub/sub (classic, sharded) delivers at most once: messages published
// while a server is cut from Redis are lost for it. With Streams the server
// resumes from the last entry it read. All adapters reconnect and subscribe
// again by themselves.
//
// Every constructor takes a redis.UniversalClient (a *redis.Client, or a
// *redis.ClusterClient for Redis Cluster). The namespaces of a server
// share one subscription connection and one publisher. Emits never wait on
// Redis: broadcasts go through a bounded queue (Options.MaxQueuedMessages)
// and an emit that does not fit returns ErrQueueFull.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// Options configure the adapter.
type Options struct {
	// Key is the prefix of the channels ("socket.io" when empty); it must
	// match the Node servers' key option.
	Key string
	// RequestsTimeout bounds the requests that wait for other servers
	// (fetchSockets, serverSideEmit with ack, ...): 5 s when zero.
	RequestsTimeout time.Duration
	// PublishOnSpecificResponseChannel sends answers to the requester's own
	// response channel instead of the shared one (Node's option of the same
	// name; all servers of a cluster should agree).
	PublishOnSpecificResponseChannel bool
	// MaxQueuedMessages and MaxQueuedBytes bound the queue of messages to
	// the other servers (broadcasts and answers): 4096 messages and 32 MiB
	// when zero. A broadcast that does not fit reaches the local sockets
	// only and its emit returns ErrQueueFull.
	MaxQueuedMessages int
	MaxQueuedBytes    int
	// Logger receives the adapter's errors (dropped messages, lost
	// connections). Nil: silent.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Key == "" {
		o.Key = "socket.io"
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// ErrTimeout is returned (with the answers received) when other servers did
// not all answer a request within RequestsTimeout or the caller's context.
var ErrTimeout = wire.ErrTimeout

// ErrQueueFull is returned by an emit whose message to the other servers
// did not fit in the publish queue (Redis is slow or unreachable): the
// local recipients got it, the other servers did not.
var ErrQueueFull = wire.ErrQueueFull

var errClosed = wire.ErrClosed

// NewAdapter returns an adapter factory for socketio.Config.Adapter. All
// the namespaces of a server share one subscription connection from client
// and one publisher; closing the server closes them. The client (a
// *redis.Client or a *redis.ClusterClient) is the caller's to close.
func NewAdapter(client goredis.UniversalClient, opts Options) adapter.Factory {
	opts = opts.withDefaults()
	shared := newShared(func() *classicNode {
		n := &classicNode{client: client, bus: newBus(client, plainSub, opts.Logger)}
		n.snd = &wire.Sender{Log: opts.Logger, Timeout: opts.RequestsTimeout,
			MaxMessages: opts.MaxQueuedMessages, MaxBytes: opts.MaxQueuedBytes}
		n.snd.Start()
		return n
	}, func(n *classicNode) {
		ctx, cancel := context.WithTimeout(context.Background(), opts.RequestsTimeout)
		n.snd.Stop(ctx)
		cancel()
		if err := n.bus.close(); err != nil {
			opts.Logger.Warn("redis adapter: closing the subscription failed", "err", err)
		}
	})
	return func(nsp adapter.Namespace) (adapter.Adapter, error) {
		n, release := shared.get(nsp)
		a, err := newAdapter(n, opts, nsp)
		if err != nil {
			release()
			return nil, err
		}
		a.release = release
		return a, nil
	}
}

// Request types of the classic protocol (@socket.io/redis-adapter's
// RequestType).
const (
	reqSockets              = 0
	reqAllRooms             = 1
	reqRemoteJoin           = 2
	reqRemoteLeave          = 3
	reqRemoteDisconnect     = 4
	reqRemoteFetch          = 5
	reqServerSideEmit       = 6
	reqBroadcast            = 7
	reqBroadcastClientCount = 8
	reqBroadcastAck         = 9
)

// classicNode is what the namespaces of one server share.
type classicNode struct {
	client goredis.UniversalClient
	bus    *bus
	snd    *wire.Sender

	pubMu sync.Mutex
	pub   *goredis.Client // on a Redis Cluster: the node this server publishes through
}

// publish sends a message. On a Redis Cluster every message of this
// server goes through one node, so that the others receive them in the
// order they were published (the cluster bus relays each node's messages
// in order; PUBLISH through the nodes of the channels' slots would not).
func (n *classicNode) publish(ctx context.Context, channel string, payload []byte) error {
	cc, ok := n.client.(*goredis.ClusterClient)
	if !ok {
		return n.client.Publish(ctx, channel, payload).Err()
	}
	n.pubMu.Lock()
	pub := n.pub
	n.pubMu.Unlock()
	if pub == nil {
		node, err := cc.MasterForKey(ctx, channel)
		if err != nil {
			return err
		}
		n.pubMu.Lock()
		if n.pub == nil {
			n.pub = node
		}
		pub = n.pub
		n.pubMu.Unlock()
	}
	err := pub.Publish(ctx, channel, payload).Err()
	if err != nil {
		// The node may be gone (failover): pick one again next time.
		n.pubMu.Lock()
		if n.pub == pub {
			n.pub = nil
		}
		n.pubMu.Unlock()
	}
	return err
}

// Adapter is the classic Redis adapter of one namespace. Room bookkeeping
// and local delivery are done by an embedded in-memory adapter.
type Adapter struct {
	adapter.Adapter
	mem     *adapter.Memory
	nsp     adapter.Namespace
	node    *classicNode
	opts    Options
	log     *slog.Logger
	uid     string
	release func()

	bcastChannel    string // key#nsp#
	requestChannel  string // key-request#nsp#
	responseChannel string // key-response#nsp#
	ownResponse     string // key-response#nsp#uid#

	ctx    context.Context
	cancel context.CancelFunc
	reqs   *wire.Requests
}

var _ adapter.Adapter = (*Adapter)(nil)

func newAdapter(n *classicNode, opts Options, nsp adapter.Namespace) (*Adapter, error) {
	m, err := adapter.NewMemory(nsp)
	if err != nil {
		return nil, err
	}
	mem, _ := m.(*adapter.Memory)
	name := nsp.Name()
	a := &Adapter{
		Adapter:         m,
		mem:             mem,
		nsp:             nsp,
		node:            n,
		opts:            opts,
		log:             opts.Logger.With("nsp", name),
		uid:             newUID(),
		bcastChannel:    opts.Key + "#" + name + "#",
		requestChannel:  opts.Key + "-request#" + name + "#",
		responseChannel: opts.Key + "-response#" + name + "#",
	}
	a.ownResponse = a.responseChannel + a.uid + "#"
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.reqs = wire.NewRequests(opts.RequestsTimeout, a.ctx.Done())

	// Returns once Redis confirmed the four subscriptions, so that this
	// server is counted (PUBSUB NUMSUB) once the factory returns.
	ctx, cancel := context.WithTimeout(a.ctx, opts.RequestsTimeout)
	defer cancel()
	if err := n.bus.subscribe(ctx, []string{a.requestChannel, a.responseChannel, a.ownResponse},
		[]string{a.bcastChannel + "*"}, a.dispatch); err != nil {
		a.cancel()
		_ = mem.Close()
		return nil, err
	}
	return a, nil
}

// newUID returns 6 URL-safe characters, like Node's uid2(6).
func newUID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[b[i]&63]
	}
	return string(b)
}

// UID returns the server's id on the wire.
func (a *Adapter) UID() string { return a.uid }

// SetRoomEvents forwards room changes of the local layer.
func (a *Adapter) SetRoomEvents(ev adapter.RoomEvents) { a.mem.SetRoomEvents(ev) }

// dispatch handles a message of the namespace's channels (on the bus's
// reader, which recovers a panic).
func (a *Adapter) dispatch(m *goredis.Message) {
	if a.ctx.Err() != nil {
		return
	}
	payload := []byte(m.Payload)
	var err error
	switch {
	case m.Pattern != "":
		err = a.onBroadcast(m.Channel, payload)
	case m.Channel == a.requestChannel:
		err = a.onRequest(payload)
	case m.Channel == a.responseChannel || m.Channel == a.ownResponse:
		err = a.onResponse(payload)
	}
	if err != nil && !errors.Is(err, wire.ErrWrongNsp) {
		a.log.Warn("redis adapter: malformed message dropped", "channel", m.Channel, "err", err)
	}
}

var _ adapter.SessionRestorer = (*Adapter)(nil)

// TakeSession takes a session kept in this server's memory (the classic
// adapter keeps sessions locally); see adapter.SessionRestorer.
func (a *Adapter) TakeSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	return a.mem.TakeSession(ctx, pid, offset)
}

// MissedPackets returns the broadcasts this server kept after offset for
// a socket in rooms; see adapter.SessionRestorer.
func (a *Adapter) MissedPackets(ctx context.Context, rooms []adapter.Room, offset string) ([]adapter.MissedPacket, error) {
	return a.mem.MissedPackets(ctx, rooms, offset)
}

// decodeBroadcast reads the tuple [uid, packet, opts].
func decodeBroadcast(payload []byte) (uid string, packet any, opts adapter.BroadcastOptions, err error) {
	v, err := wire.DecodeMsgpack(payload)
	if err != nil {
		return "", nil, opts, err
	}
	t, ok := v.([]any)
	if !ok || len(t) < 3 {
		return "", nil, opts, errors.New("redis adapter: broadcast is not [uid, packet, opts]")
	}
	uid, _ = t[0].(string)
	return uid, t[1], wire.TreeOpts(t[2]), nil
}

func (a *Adapter) onBroadcast(channel string, payload []byte) error {
	if len(channel) < len(a.bcastChannel) || channel[:len(a.bcastChannel)] != a.bcastChannel {
		return nil
	}
	uid, pt, opts, err := decodeBroadcast(payload)
	if err != nil {
		return err
	}
	if uid == a.uid {
		return nil
	}
	p, err := wire.TreePacket(pt, a.nsp.Name())
	if err != nil {
		return err
	}
	opts.Flags.Local = false
	return a.mem.Broadcast(p, opts)
}

func (a *Adapter) onRequest(payload []byte) error {
	req, err := wire.DecodePayload(payload)
	if err != nil {
		return err
	}
	tv, _ := req.Get("type")
	typ, ok := wire.AsInt(tv)
	if !ok {
		return errors.New("redis adapter: request without type")
	}
	uidV, _ := req.Get("uid")
	uid, _ := uidV.(string)
	ridV, _ := req.Get("requestId")
	rid, _ := ridV.(string)
	own := func() bool { return a.reqs.IsPending(rid) }
	switch typ {
	case reqSockets:
		if own() {
			return nil
		}
		r, _ := req.Get("rooms")
		ids := a.mem.Sockets(adapter.BroadcastOptions{Rooms: wire.AsStrings(r)})
		a.respond(uid, wire.Obj("requestId", rid, "sockets", wire.RoomList(ids)))
	case reqAllRooms:
		if own() {
			return nil
		}
		a.respond(uid, wire.Obj("requestId", rid, "rooms", wire.RoomList(a.mem.Rooms())))
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		if uid == a.uid {
			return nil
		}
		ov, hasOpts := req.Get("opts")
		if !hasOpts {
			return a.legacyRemote(int(typ), req, uid, rid)
		}
		opts := wire.TreeOpts(ov)
		opts.Flags = adapter.BroadcastFlags{}
		ctx := context.Background()
		switch typ {
		case reqRemoteJoin:
			r, _ := req.Get("rooms")
			return a.mem.AddSockets(ctx, opts, wire.AsStrings(r))
		case reqRemoteLeave:
			r, _ := req.Get("rooms")
			return a.mem.DelSockets(ctx, opts, wire.AsStrings(r))
		default:
			c, _ := req.Get("close")
			return a.mem.DisconnectSockets(ctx, opts, c == true)
		}
	case reqRemoteFetch:
		if own() {
			return nil
		}
		ov, _ := req.Get("opts")
		opts := wire.TreeOpts(ov)
		infos, _ := a.mem.FetchSockets(context.Background(), adapter.BroadcastOptions{Rooms: opts.Rooms, Except: opts.Except})
		a.respond(uid, wire.Obj("requestId", rid, "sockets", wire.SocketTrees(infos)))
	case reqServerSideEmit:
		if uid == a.uid {
			return nil
		}
		d, _ := req.Get("data")
		arr, ok := d.([]any)
		if !ok || len(arr) == 0 {
			return errors.New("redis adapter: server-side emit without data")
		}
		args := wire.JSONArgs(arr)
		var ack func(json.RawMessage)
		if rid != "" {
			var once sync.Once
			ack = func(r json.RawMessage) {
				once.Do(func() {
					if r == nil {
						r = json.RawMessage("null")
					}
					a.respond(uid, wire.Obj("type", int64(reqServerSideEmit), "requestId", rid, "data", r))
				})
			}
		}
		a.node.snd.RunEmit(func() { a.nsp.OnServerSideEmit(args, ack) })
	case reqBroadcast:
		if a.reqs.HasAck(rid) || uid == a.uid {
			return nil
		}
		pv, _ := req.Get("packet")
		p, err := wire.TreePacket(pv, a.nsp.Name())
		if err != nil {
			return err
		}
		ov, _ := req.Get("opts")
		opts := wire.TreeOpts(ov)
		opts.Flags.Local = false
		return a.mem.BroadcastWithAck(p, opts, func(n int) {
			a.respond(uid, clientCountMsg(rid, n))
		}, func(r adapter.AckResponse) {
			arg, err := wire.FirstArg(r)
			if err != nil {
				a.log.Warn("redis adapter: ack not relayed", "err", err)
				return
			}
			b, err := ackMsg(rid, arg)
			if err != nil {
				a.log.Warn("redis adapter: ack not relayed", "err", err)
				return
			}
			a.enqueue(a.responseFor(uid), b)
		})
	}
	return nil
}

// clientCountMsg is the BROADCAST_CLIENT_COUNT answer (JSON).
func clientCountMsg(rid string, n int) *wire.Object {
	return wire.Obj("type", int64(reqBroadcastClientCount), "requestId", rid, "clientCount", int64(n))
}

// ackMsg is the BROADCAST_ACK answer (msgpack): the first ack argument.
func ackMsg(rid string, arg any) ([]byte, error) {
	return wire.EncodeMsgpack(wire.Obj("type", int64(reqBroadcastAck), "requestId", rid, "packet", arg))
}

// legacyRemote answers the pre-7 single-socket join/leave/disconnect form
// {requestId, sid, room|close}.
func (a *Adapter) legacyRemote(typ int, req *wire.Object, uid, rid string) error {
	sv, _ := req.Get("sid")
	sid, _ := sv.(string)
	s := a.mem.Socket(sid)
	if sid == "" || s == nil {
		return nil
	}
	switch typ {
	case reqRemoteJoin:
		r, _ := req.Get("room")
		a.mem.AddAll(s, wire.JSString(r))
	case reqRemoteLeave:
		r, _ := req.Get("room")
		a.mem.Del(sid, wire.JSString(r))
	default:
		c, _ := req.Get("close")
		s.Disconnect(c == true)
	}
	a.respond(uid, wire.Obj("requestId", rid))
	return nil
}

func (a *Adapter) responseFor(uid string) string {
	if a.opts.PublishOnSpecificResponseChannel && uid != "" {
		return a.responseChannel + uid + "#"
	}
	return a.responseChannel
}

// respond publishes a JSON answer (asynchronously, in order).
func (a *Adapter) respond(uid string, msg *wire.Object) {
	raw, _, err := wire.EncodeJSON(msg, wire.NodeBuffers)
	if err != nil {
		a.log.Warn("redis adapter: answer not encoded", "err", err)
		return
	}
	a.enqueue(a.responseFor(uid), raw)
}

// report hands the error of a publication that failed once queued to the
// namespace (see adapter.ErrorReporter).
func (a *Adapter) report(err error) { adapter.ReportError(a.nsp, err) }

// PublishQueueLen returns the messages waiting to be published to Redis
// (the server's queue, shared by its namespaces).
func (a *Adapter) PublishQueueLen() int { return a.node.snd.Len() }

func (a *Adapter) enqueue(channel string, payload []byte) {
	a.node.snd.EnqueueAnswer(len(payload), channel, a.report, func(ctx context.Context) error {
		return a.node.publish(ctx, channel, payload)
	})
}

func (a *Adapter) onResponse(payload []byte) error {
	res, err := wire.DecodePayload(payload)
	if err != nil {
		return err
	}
	ridV, _ := res.Get("requestId")
	rid, _ := ridV.(string)
	if rid == "" {
		return nil
	}
	return a.reqs.Answer(rid, func(ar *wire.AckRequest) error {
		tv, _ := res.Get("type")
		typ, _ := wire.AsInt(tv)
		return ar.Relay(typ, reqBroadcastClientCount, reqBroadcastAck, res, "redis adapter")
	}, func(req *wire.Request) { a.onAnswer(req, res) })
}

// onAnswer adds an answer to a pending request. numSub counts the servers
// (this one included, msgCount starts at 1) for the requests this server
// answers as well, the other servers for server-side emits.
func (a *Adapter) onAnswer(req *wire.Request, res *wire.Object) {
	switch req.Type {
	case reqRemoteFetch:
		sv, _ := res.Get("sockets")
		arr, _ := sv.([]any)
		for _, s := range arr {
			if info, ok := wire.TreeSocket(s); ok {
				req.Sockets = append(req.Sockets, info)
			}
		}
		req.MsgCount++
		if req.MsgCount >= req.NumSub {
			req.Finish()
		}
	case reqServerSideEmit:
		d, _ := res.Get("data")
		req.Responses = append(req.Responses, wire.JSONOf(d))
		if len(req.Responses) >= req.NumSub {
			req.Finish()
		}
	case reqAllRooms:
		rv, _ := res.Get("rooms")
		for _, r := range wire.AsStrings(rv) {
			req.Sockets = append(req.Sockets, adapter.SocketInfo{ID: r})
		}
		req.MsgCount++
		if req.MsgCount >= req.NumSub {
			req.Finish()
		}
	}
}

// publish sends a payload now, for the calls of this server's API.
func (a *Adapter) publish(ctx context.Context, channel string, payload []byte) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	return a.node.publish(ctx, channel, payload)
}

func (a *Adapter) publishJSON(ctx context.Context, msg *wire.Object) error {
	raw, _, err := wire.EncodeJSON(msg, wire.NodeBuffers)
	if err != nil {
		return err
	}
	return a.publish(ctx, a.requestChannel, raw)
}

// encodeBroadcastTuple writes [uid, packet, opts] as notepack does.
func encodeBroadcastTuple(uid string, p *parser.Packet, opts adapter.BroadcastOptions) ([]byte, error) {
	pt, err := wire.PacketTree(p)
	if err != nil {
		return nil, err
	}
	return wire.EncodeMsgpack([]any{uid, pt, wire.OptsTree(opts, true)})
}

// broadcastChannelFor is the channel of a broadcast: the room's own when
// there is exactly one room.
func broadcastChannelFor(base string, opts adapter.BroadcastOptions) string {
	if len(opts.Rooms) == 1 {
		return base + opts.Rooms[0] + "#"
	}
	return base
}

// Broadcast delivers p to the matched local sockets and queues it for the
// other servers (unless Local). It never waits on Redis: a message that
// does not fit in the queue reaches the local sockets only and
// ErrQueueFull is returned.
func (a *Adapter) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	if !opts.Flags.Local {
		b, err := encodeBroadcastTuple(a.uid, p, opts)
		if err != nil {
			return err
		}
		err = a.queue(broadcastChannelFor(a.bcastChannel, opts), b)
		if lerr := a.mem.Broadcast(p, opts); err == nil {
			err = lerr
		}
		return err
	}
	return a.mem.Broadcast(p, opts)
}

// queue queues a publication on this server's publisher; it never waits
// on Redis (see Options.MaxQueuedMessages).
func (a *Adapter) queue(channel string, payload []byte) error {
	return a.node.snd.Enqueue(len(payload), channel, a.report, func(ctx context.Context) error {
		return a.node.publish(ctx, channel, payload)
	})
}

// BroadcastWithAck queues p as a BROADCAST request and delivers it to the
// local sockets; every other server reports its number of recipients once,
// then relays each answer. A request that does not fit in the queue is not
// sent at all (ErrQueueFull).
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts adapter.BroadcastOptions, onClientCount func(int), onAck func(adapter.AckResponse)) error {
	if !opts.Flags.Local {
		rid := newUID()
		b, err := broadcastRequest(a.uid, rid, p, opts)
		if err != nil {
			return err
		}
		if err := a.reqs.AddAck(rid, opts.Flags.Timeout, onClientCount, onAck); err != nil {
			return err
		}
		if err := a.queue(a.requestChannel, b); err != nil {
			a.reqs.RemoveAck(rid)
			return err
		}
	}
	return a.mem.BroadcastWithAck(p, opts, onClientCount, onAck)
}

// broadcastRequest is the BROADCAST request (msgpack).
func broadcastRequest(uid, rid string, p *parser.Packet, opts adapter.BroadcastOptions) ([]byte, error) {
	pt, err := wire.PacketTree(p)
	if err != nil {
		return nil, err
	}
	return wire.EncodeMsgpack(wire.Obj("uid", uid, "requestId", rid, "type", int64(reqBroadcast), "packet", pt, "opts", wire.OptsTree(opts, true)))
}

// ServerCount is the number of subscribers of the request channel (PUBSUB
// NUMSUB), the servers of the cluster including this one.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	n, err := numSub(ctx, a.node.client, a.requestChannel)
	if err != nil {
		return 0, err
	}
	return max(n, 1), nil
}

func (a *Adapter) remoteOp(ctx context.Context, typ int, opts adapter.BroadcastOptions, extra ...any) error {
	if opts.Flags.Local {
		return nil
	}
	msg := wire.Obj("uid", a.uid, "type", int64(typ), "opts", wire.OptsTree(opts, false))
	for i := 0; i+1 < len(extra); i += 2 {
		msg.Set(extra[i].(string), extra[i+1])
	}
	return a.publishJSON(ctx, msg)
}

// AddSockets makes the matched sockets of every server join rooms.
func (a *Adapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	err := a.remoteOp(ctx, reqRemoteJoin, opts, "rooms", wire.RoomList(rooms))
	_ = a.mem.AddSockets(ctx, opts, rooms)
	return err
}

// DelSockets makes the matched sockets of every server leave rooms.
func (a *Adapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	err := a.remoteOp(ctx, reqRemoteLeave, opts, "rooms", wire.RoomList(rooms))
	_ = a.mem.DelSockets(ctx, opts, rooms)
	return err
}

// DisconnectSockets disconnects the matched sockets of every server.
func (a *Adapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	err := a.remoteOp(ctx, reqRemoteDisconnect, opts, "close", close)
	_ = a.mem.DisconnectSockets(ctx, opts, close)
	return err
}

// startRequest registers a request before it is published; msgCount
// starts at 1, this server's own share.
func (a *Adapter) startRequest(typ, numSub int) (string, *wire.Request, error) {
	rid := newUID()
	r, err := a.reqs.Start(rid, typ, numSub, 1)
	return rid, r, err
}

// FetchSockets describes the matched sockets of every server.
func (a *Adapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local, _ := a.mem.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return local, err
	}
	if n <= 1 {
		return local, nil
	}
	rid, r, err := a.startRequest(reqRemoteFetch, n)
	if err != nil {
		return local, err
	}
	r.Sockets = local
	if err := a.publishJSON(ctx, wire.Obj("uid", a.uid, "requestId", rid, "type", int64(reqRemoteFetch), "opts", wire.OptsTree(opts, false))); err != nil {
		a.reqs.Remove(rid)
		return local, err
	}
	err = a.reqs.Wait(ctx, rid, r)
	return r.Sockets, err
}

// AllRooms returns the rooms with members on any server (Node's
// adapter.allRooms()).
func (a *Adapter) AllRooms(ctx context.Context) ([]adapter.Room, error) {
	local := a.mem.Rooms()
	n, err := a.ServerCount(ctx)
	if err != nil || n <= 1 {
		return local, err
	}
	rid, r, err := a.startRequest(reqAllRooms, n)
	if err != nil {
		return local, err
	}
	if err := a.publishJSON(ctx, wire.Obj("uid", a.uid, "requestId", rid, "type", int64(reqAllRooms))); err != nil {
		a.reqs.Remove(rid)
		return local, err
	}
	err = a.reqs.Wait(ctx, rid, r)
	seen := map[string]bool{}
	out := []adapter.Room{}
	for _, x := range local {
		seen[x] = true
		out = append(out, x)
	}
	for _, s := range r.Sockets {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s.ID)
		}
	}
	return out, err
}

// ServerSideEmit sends [event, ...args] to the other servers.
func (a *Adapter) ServerSideEmit(ctx context.Context, args []json.RawMessage) error {
	data, err := wire.RawArgs(args)
	if err != nil {
		return err
	}
	return a.publishJSON(ctx, wire.Obj("uid", a.uid, "type", int64(reqServerSideEmit), "data", data))
}

// ServerSideEmitWithAck sends [event, ...args] to the other servers and
// gathers one answer (the first ack argument) from each.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, args []json.RawMessage) ([]json.RawMessage, error) {
	data, err := wire.RawArgs(args)
	if err != nil {
		return nil, err
	}
	n, err := a.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n <= 1 {
		return nil, nil
	}
	rid, r, err := a.startRequest(reqServerSideEmit, n-1)
	if err != nil {
		return nil, err
	}
	if err := a.publishJSON(ctx, wire.Obj("uid", a.uid, "requestId", rid, "type", int64(reqServerSideEmit), "data", data)); err != nil {
		a.reqs.Remove(rid)
		return nil, err
	}
	return wire.EmitResult(r, n-1, a.reqs.Wait(ctx, rid, r))
}

// Close unsubscribes; the server's connection is closed with its last
// namespace.
func (a *Adapter) Close() error {
	if !a.reqs.Close() {
		return nil
	}
	a.cancel()
	a.node.bus.unsubscribe([]string{a.requestChannel, a.responseChannel, a.ownResponse}, []string{a.bcastChannel + "*"})
	_ = a.mem.Close()
	a.release()
	return nil
}
