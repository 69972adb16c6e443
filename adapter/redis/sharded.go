package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/parser"
)

// Message types of socket.io-adapter's ClusterAdapter, used by the sharded
// adapter.
const (
	msgInitialHeartbeat        = 1
	msgHeartbeat               = 2
	msgBroadcast               = 3
	msgSocketsJoin             = 4
	msgSocketsLeave            = 5
	msgDisconnectSockets       = 6
	msgFetchSockets            = 7
	msgFetchSocketsResponse    = 8
	msgServerSideEmit          = 9
	msgServerSideEmitResponse  = 10
	msgBroadcastClientCount    = 11
	msgBroadcastAck            = 12
	msgAdapterClose            = 13
	shardedSocketIDLength      = 20 // Node's "looks like a socket id" test
	shardedSubscriptionTimeout = 5 * time.Second
)

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
	// Logger receives the adapter's errors. Nil: silent.
	Logger *slog.Logger
}

// NewShardedAdapter returns a factory for the sharded adapter, compatible
// with @socket.io/redis-adapter's createClusterAdapter (Redis 7+: SPUBLISH
// and SSUBSCRIBE). It does not talk to classic (NewAdapter) servers.
func NewShardedAdapter(client *goredis.Client, opts ShardedOptions) adapter.Factory {
	if opts.ChannelPrefix == "" {
		opts.ChannelPrefix = "socket.io"
	}
	if opts.RequestsTimeout <= 0 {
		opts.RequestsTimeout = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := clusterConfig{
		proto:           protoSharded,
		prefix:          opts.ChannelPrefix,
		mode:            opts.SubscriptionMode,
		requestsTimeout: opts.RequestsTimeout,
		logger:          opts.Logger,
	}
	return func(nsp adapter.Namespace) (adapter.Adapter, error) {
		return newCluster(client, cfg, nsp)
	}
}

const (
	protoSharded = iota
	protoStreams
)

// clusterConfig configures a ClusterAdapter for one of its protocols.
type clusterConfig struct {
	proto           int
	prefix          string
	mode            SubscriptionMode
	requestsTimeout time.Duration
	logger          *slog.Logger
	// Streams
	streamName string
	maxLen     int64
	readCount  int64
	block      time.Duration
}

// ClusterAdapter is the adapter of one namespace for the protocols built on
// socket.io-adapter's ClusterAdapter: sharded pub/sub (NewShardedAdapter)
// and Redis Streams (NewStreamsAdapter).
type ClusterAdapter struct {
	adapter.Adapter
	mem     *adapter.Memory
	nsp     adapter.Namespace
	client  *goredis.Client
	opts    clusterConfig
	log     *slog.Logger
	uid     string
	channel string // prefix#nsp#
	own     string // prefix#nsp#uid#
	readWG  sync.WaitGroup

	ps     *goredis.PubSub
	ctx    context.Context
	cancel context.CancelFunc
	recvWG sync.WaitGroup
	snd    sender
	userEv atomic.Pointer[adapter.RoomEvents]
	reqs   *requests
}

var _ adapter.Adapter = (*ClusterAdapter)(nil)

func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newCluster(client *goredis.Client, opts clusterConfig, nsp adapter.Namespace) (*ClusterAdapter, error) {
	memNsp := nsp
	if opts.proto == protoStreams {
		// The stream ids are the offsets: the local layer keeps none.
		memNsp = noRecovery{nsp}
	}
	m, err := adapter.NewMemory(memNsp)
	if err != nil {
		return nil, err
	}
	mem, _ := m.(*adapter.Memory)
	a := &ClusterAdapter{
		Adapter: m,
		mem:     mem,
		nsp:     nsp,
		client:  client,
		opts:    opts,
		log:     opts.logger.With("nsp", nsp.Name()),
		uid:     randomID(),
		channel: opts.prefix + "#" + nsp.Name() + "#",
	}
	a.own = a.channel + a.uid + "#"
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.reqs = newRequests(opts.requestsTimeout, a.ctx.Done())
	ctx, cancel := context.WithTimeout(a.ctx, shardedSubscriptionTimeout)
	defer cancel()
	var ps *goredis.PubSub
	if opts.proto == protoStreams {
		ps = client.Subscribe(ctx, a.channel, a.own)
	} else {
		ps = client.SSubscribe(ctx, a.channel, a.own)
	}
	early, err := awaitSubscriptions(ctx, ps, 2)
	if err != nil {
		_ = ps.Close()
		a.cancel()
		return nil, fmt.Errorf("redis cluster adapter: subscribe: %w", err)
	}
	a.ps = ps
	a.snd = sender{log: a.log, timeout: opts.requestsTimeout, pub: func(ctx context.Context, ch string, b []byte) error {
		if opts.proto == protoStreams {
			return client.Publish(ctx, ch, b).Err()
		}
		return client.SPublish(ctx, ch, b).Err()
	}}
	a.snd.start()
	if opts.proto == protoStreams {
		a.readWG.Add(1)
		go a.readStream()
	}
	if opts.proto == protoSharded && opts.mode != Static {
		mem.SetRoomEvents(adapter.RoomEvents{
			CreateRoom: a.onCreateRoom,
			DeleteRoom: a.onDeleteRoom,
			JoinRoom: func(r adapter.Room, id adapter.SocketID) {
				if ev := a.userEv.Load(); ev != nil && ev.JoinRoom != nil {
					ev.JoinRoom(r, id)
				}
			},
			LeaveRoom: func(r adapter.Room, id adapter.SocketID) {
				if ev := a.userEv.Load(); ev != nil && ev.LeaveRoom != nil {
					ev.LeaveRoom(r, id)
				}
			},
		})
	}
	a.recvWG.Add(1)
	go a.receive(early)
	return a, nil
}

// SetRoomEvents sets the receiver of room changes (the adapter's own
// room subscriptions keep working).
func (a *ClusterAdapter) SetRoomEvents(ev adapter.RoomEvents) {
	if a.opts.proto != protoSharded || a.opts.mode == Static {
		a.mem.SetRoomEvents(ev)
		return
	}
	a.userEv.Store(&ev)
}

// UID returns the server's id on the wire.
func (a *ClusterAdapter) UID() string { return a.uid }

// roomChannel reports whether room has its own channel.
func (a *ClusterAdapter) roomChannel(room string) bool {
	if a.opts.proto != protoSharded {
		return false
	}
	switch a.opts.mode {
	case Dynamic:
		return len(room) != shardedSocketIDLength
	case DynamicPrivate:
		return true
	}
	return false
}

func (a *ClusterAdapter) onCreateRoom(r adapter.Room) {
	if a.roomChannel(r) {
		ctx, cancel := context.WithTimeout(a.ctx, a.opts.requestsTimeout)
		if err := a.ps.SSubscribe(ctx, a.channel+r+"#"); err != nil && a.ctx.Err() == nil {
			a.log.Warn("redis cluster adapter: room subscription failed", "room", r, "err", err)
		}
		cancel()
	}
	if ev := a.userEv.Load(); ev != nil && ev.CreateRoom != nil {
		ev.CreateRoom(r)
	}
}

func (a *ClusterAdapter) onDeleteRoom(r adapter.Room) {
	if a.roomChannel(r) {
		ctx, cancel := context.WithTimeout(a.ctx, a.opts.requestsTimeout)
		if err := a.ps.SUnsubscribe(ctx, a.channel+r+"#"); err != nil && a.ctx.Err() == nil {
			a.log.Warn("redis cluster adapter: room unsubscription failed", "room", r, "err", err)
		}
		cancel()
	}
	if ev := a.userEv.Load(); ev != nil && ev.DeleteRoom != nil {
		ev.DeleteRoom(r)
	}
}

func (a *ClusterAdapter) receive(early []*goredis.Message) {
	defer a.recvWG.Done()
	for _, m := range early {
		a.dispatch(m)
	}
	receiveLoop(a.ctx, a.ps, a.log, a.dispatch)
}

func (a *ClusterAdapter) dispatch(m *goredis.Message) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("redis cluster adapter: message handler panicked; message dropped", "panic", r,
				"stack", string(debug.Stack()))
		}
	}()
	if err := a.onMessage(m.Channel == a.own, []byte(m.Payload)); err != nil && !errors.Is(err, errWrongNsp) {
		a.log.Warn("redis cluster adapter: malformed message dropped", "channel", m.Channel, "err", err)
	}
}

// clusterMessage reads {type, data, uid, nsp}.
func clusterMessage(b []byte) (typ int64, data *object, uid, nsp string, err error) {
	o, err := decodePayload(b)
	if err != nil {
		return 0, nil, "", "", err
	}
	tv, _ := o.get("type")
	typ, ok := asInt(tv)
	if !ok {
		return 0, nil, "", "", errors.New("redis cluster adapter: message without type")
	}
	dv, _ := o.get("data")
	data, _ = dv.(*object)
	uv, _ := o.get("uid")
	uid, _ = uv.(string)
	nv, _ := o.get("nsp")
	nsp, _ = nv.(string)
	return typ, data, uid, nsp, nil
}

// hasBinary reports whether v holds a []byte.
func hasBinary(v any) bool {
	switch x := v.(type) {
	case []byte:
		return true
	case []any:
		for _, e := range x {
			if hasBinary(e) {
				return true
			}
		}
	case *object:
		if x == nil {
			return false
		}
		for _, e := range x.vals {
			if hasBinary(e) {
				return true
			}
		}
	}
	return false
}

// encodeCluster writes a message as the sharded adapter does: JSON, or
// msgpack when a type that may carry binary does.
func encodeCluster(typ int, data *object, uid, nsp string) ([]byte, error) {
	msg := obj("type", int64(typ), "data", data, "uid", uid, "nsp", nsp)
	switch typ {
	case msgBroadcast, msgFetchSocketsResponse, msgServerSideEmit, msgServerSideEmitResponse, msgBroadcastAck:
		if hasBinary(data) {
			return encodeMsgpack(msg)
		}
	}
	raw, _, err := encodeJSON(msg, nodeBuffers)
	return raw, err
}

func (a *ClusterAdapter) respond(to string, typ int, data *object) {
	b, err := a.encode(typ, data)
	if err != nil {
		a.log.Warn("redis cluster adapter: answer not encoded", "err", err)
		return
	}
	a.snd.enqueue(a.channel+to+"#", b)
}

func (a *ClusterAdapter) onMessage(response bool, payload []byte) error {
	typ, data, uid, nsp, err := clusterMessage(payload)
	if err != nil {
		return err
	}
	return a.handle(response, typ, data, uid, nsp, "")
}

// encode writes a pub/sub message: JSON-or-msgpack in sharded mode,
// always msgpack for Streams.
func (a *ClusterAdapter) encode(typ int, data *object) ([]byte, error) {
	if a.opts.proto == protoStreams {
		return encodeMsgpack(obj("type", int64(typ), "data", data, "uid", a.uid, "nsp", a.nsp.Name()))
	}
	return encodeCluster(typ, data, a.uid, a.nsp.Name())
}

// handle processes a message; offset is the stream id of a Streams entry.
func (a *ClusterAdapter) handle(response bool, typ int64, data *object, uid, nsp, offset string) error {
	if uid == a.uid {
		return nil
	}
	if nsp != a.nsp.Name() {
		return errWrongNsp
	}
	rv, _ := data.get("requestId")
	rid, _ := rv.(string)
	if response {
		return a.onResponse(typ, rid, data)
	}
	ctx := context.Background()
	switch typ {
	case msgBroadcast:
		pv, _ := data.get("packet")
		if po, ok := pv.(*object); ok {
			if _, has := po.get("nsp"); !has {
				po.set("nsp", a.nsp.Name())
			}
		}
		p, err := treePacket(pv, a.nsp.Name())
		if err != nil {
			return err
		}
		ov, _ := data.get("opts")
		opts := treeOpts(ov)
		opts.Flags.Local = false
		if rid == "" {
			if offset != "" {
				a.addOffset(p, opts, offset)
			}
			return a.mem.Broadcast(p, opts)
		}
		return a.mem.BroadcastWithAck(p, opts, func(n int) {
			a.respond(uid, msgBroadcastClientCount, obj("requestId", rid, "clientCount", int64(n)))
		}, func(r adapter.AckResponse) {
			arg, err := firstArg(r)
			if err != nil {
				a.log.Warn("redis cluster adapter: ack not relayed", "err", err)
				return
			}
			a.respond(uid, msgBroadcastAck, obj("requestId", rid, "packet", arg))
		})
	case msgSocketsJoin, msgSocketsLeave:
		ov, _ := data.get("opts")
		opts := treeOpts(ov)
		opts.Flags = adapter.BroadcastFlags{}
		r, _ := data.get("rooms")
		if typ == msgSocketsJoin {
			return a.mem.AddSockets(ctx, opts, asStrings(r))
		}
		return a.mem.DelSockets(ctx, opts, asStrings(r))
	case msgDisconnectSockets:
		ov, _ := data.get("opts")
		opts := treeOpts(ov)
		opts.Flags = adapter.BroadcastFlags{}
		c, _ := data.get("close")
		return a.mem.DisconnectSockets(ctx, opts, c == true)
	case msgFetchSockets:
		ov, _ := data.get("opts")
		opts := treeOpts(ov)
		infos, _ := a.mem.FetchSockets(ctx, adapter.BroadcastOptions{Rooms: opts.Rooms, Except: opts.Except})
		a.respond(uid, msgFetchSocketsResponse, obj("requestId", rid, "sockets", socketTrees(infos)))
	case msgServerSideEmit:
		pv, _ := data.get("packet")
		arr, ok := pv.([]any)
		if !ok || len(arr) == 0 {
			return errors.New("redis cluster adapter: server-side emit without data")
		}
		args := jsonArgs(arr)
		var ack func(json.RawMessage)
		if rid != "" {
			var once sync.Once
			ack = func(r json.RawMessage) {
				once.Do(func() {
					arg, err := decodeJSON(r, nil)
					if err != nil || r == nil {
						arg = nil
					}
					a.respond(uid, msgServerSideEmitResponse, obj("requestId", rid, "packet", arg))
				})
			}
		}
		a.snd.runEmit(func() { a.nsp.OnServerSideEmit(args, ack) })
	case msgInitialHeartbeat, msgHeartbeat, msgAdapterClose:
		// The sharded adapter counts servers with SHARDNUMSUB.
	}
	return nil
}

func (a *ClusterAdapter) onResponse(typ int64, rid string, data *object) error {
	return a.reqs.answer(rid, func(ar *ackRequest) error {
		return ar.relay(typ, msgBroadcastClientCount, msgBroadcastAck, data, "redis cluster adapter")
	}, func(req *request) { onClusterAnswer(req, typ, data) })
}

// onClusterAnswer adds an answer to a pending request: numSub counts the
// other servers (msgCount starts at 0) and only answers of the request's
// type count.
func onClusterAnswer(req *request, typ int64, data *object) {
	switch {
	case typ == msgFetchSocketsResponse && req.typ == msgFetchSockets:
		sv, _ := data.get("sockets")
		arr, _ := sv.([]any)
		for _, s := range arr {
			if info, ok := treeSocket(s); ok {
				req.sockets = append(req.sockets, info)
			}
		}
		req.msgCount++
	case typ == msgServerSideEmitResponse && req.typ == msgServerSideEmit:
		pv, _ := data.get("packet")
		req.responses = append(req.responses, jsonOf(pv))
		req.msgCount++
	}
	if req.msgCount >= req.numSub {
		req.finish()
	}
}

func (a *ClusterAdapter) publish(ctx context.Context, channel string, typ int, data *object) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.requestsTimeout)
	defer cancel()
	if a.opts.proto == protoStreams {
		return a.publishStreams(ctx, typ, data)
	}
	b, err := a.encode(typ, data)
	if err != nil {
		return err
	}
	if err := a.client.SPublish(ctx, channel, b).Err(); err != nil {
		return fmt.Errorf("redis cluster adapter: spublish: %w", err)
	}
	return nil
}

func shardedPacket(p *parser.Packet) (*object, error) {
	data, err := decodeJSON(p.Data, p.Attachments)
	if err != nil {
		return nil, err
	}
	return obj("type", int64(2), "data", data), nil
}

// Broadcast publishes p to the other servers (unless Local) and delivers
// it to the matched local sockets.
func (a *ClusterAdapter) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	if !opts.Flags.Local {
		pt, err := shardedPacket(p)
		if err != nil {
			return err
		}
		ch := a.channel
		if len(opts.Rooms) == 1 && a.roomChannel(opts.Rooms[0]) {
			ch += opts.Rooms[0] + "#"
		}
		data := obj("packet", pt, "opts", optsTree(opts, true))
		if a.opts.proto == protoStreams {
			ctx, cancel := context.WithTimeout(context.Background(), a.opts.requestsTimeout)
			offset, err := a.xadd(ctx, msgBroadcast, data)
			cancel()
			if err != nil {
				_ = a.mem.Broadcast(p, opts)
				return err
			}
			a.addOffset(p, opts, offset)
			return a.mem.Broadcast(p, opts)
		}
		if err := a.publish(context.Background(), ch, msgBroadcast, data); err != nil {
			_ = a.mem.Broadcast(p, opts)
			return err
		}
	}
	return a.mem.Broadcast(p, opts)
}

// BroadcastWithAck publishes p with a request id; every other server
// reports its number of recipients once, then relays each answer.
func (a *ClusterAdapter) BroadcastWithAck(p *parser.Packet, opts adapter.BroadcastOptions, onClientCount func(int), onAck func(adapter.AckResponse)) error {
	if !opts.Flags.Local {
		pt, err := shardedPacket(p)
		if err != nil {
			return err
		}
		rid := randomID()
		if err := a.reqs.addAck(rid, opts.Flags.Timeout, onClientCount, onAck); err != nil {
			return err
		}
		if err := a.publish(context.Background(), a.channel, msgBroadcast, obj("packet", pt, "requestId", rid, "opts", optsTree(opts, true))); err != nil {
			return err
		}
	}
	return a.mem.BroadcastWithAck(p, opts, onClientCount, onAck)
}

// ServerCount is PUBSUB SHARDNUMSUB (sharded) or NUMSUB (Streams) of the
// namespace channel.
func (a *ClusterAdapter) ServerCount(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.requestsTimeout)
	defer cancel()
	var res map[string]int64
	var err error
	if a.opts.proto == protoStreams {
		res, err = a.client.PubSubNumSub(ctx, a.channel).Result()
	} else {
		res, err = a.client.PubSubShardNumSub(ctx, a.channel).Result()
	}
	if err != nil {
		return 0, fmt.Errorf("redis cluster adapter: PUBSUB: %w", err)
	}
	return max(int(res[a.channel]), 1), nil
}

// AddSockets makes the matched sockets of every server join rooms.
func (a *ClusterAdapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	var err error
	if !opts.Flags.Local {
		err = a.publish(ctx, a.channel, msgSocketsJoin, obj("opts", optsTree(opts, true), "rooms", roomList(rooms)))
	}
	_ = a.mem.AddSockets(ctx, opts, rooms)
	return err
}

// DelSockets makes the matched sockets of every server leave rooms.
func (a *ClusterAdapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	var err error
	if !opts.Flags.Local {
		err = a.publish(ctx, a.channel, msgSocketsLeave, obj("opts", optsTree(opts, true), "rooms", roomList(rooms)))
	}
	_ = a.mem.DelSockets(ctx, opts, rooms)
	return err
}

// DisconnectSockets disconnects the matched sockets of every server.
func (a *ClusterAdapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	var err error
	if !opts.Flags.Local {
		err = a.publish(ctx, a.channel, msgDisconnectSockets, obj("opts", optsTree(opts, true), "close", close))
	}
	_ = a.mem.DisconnectSockets(ctx, opts, close)
	return err
}

// startRequest registers a request expecting answers from expected other
// servers before it is published.
func (a *ClusterAdapter) startRequest(typ, expected int) (string, *request, error) {
	rid := randomID()
	r, err := a.reqs.start(rid, typ, expected, 0)
	return rid, r, err
}

// FetchSockets describes the matched sockets of every server.
func (a *ClusterAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local, _ := a.mem.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil || n <= 1 {
		return local, err
	}
	rid, r, err := a.startRequest(msgFetchSockets, n-1)
	if err != nil {
		return local, err
	}
	r.sockets = local
	if err := a.publish(ctx, a.channel, msgFetchSockets, obj("opts", optsTree(opts, true), "requestId", rid)); err != nil {
		a.reqs.remove(rid)
		return local, err
	}
	err = a.reqs.wait(ctx, rid, r)
	return r.sockets, err
}

// ServerSideEmit sends [event, ...args] to the other servers.
func (a *ClusterAdapter) ServerSideEmit(ctx context.Context, args []json.RawMessage) error {
	data, err := rawArgs(args)
	if err != nil {
		return err
	}
	return a.publish(ctx, a.channel, msgServerSideEmit, obj("packet", data))
}

// ServerSideEmitWithAck sends [event, ...args] to the other servers and
// gathers one answer from each.
func (a *ClusterAdapter) ServerSideEmitWithAck(ctx context.Context, args []json.RawMessage) ([]json.RawMessage, error) {
	data, err := rawArgs(args)
	if err != nil {
		return nil, err
	}
	n, err := a.ServerCount(ctx)
	if err != nil || n <= 1 {
		return nil, err
	}
	rid, r, err := a.startRequest(msgServerSideEmit, n-1)
	if err != nil {
		return nil, err
	}
	if err := a.publish(ctx, a.channel, msgServerSideEmit, obj("requestId", rid, "packet", data)); err != nil {
		a.reqs.remove(rid)
		return nil, err
	}
	return emitResult(r, n-1, a.reqs.wait(ctx, rid, r))
}

// Close unsubscribes and stops the adapter's goroutines.
func (a *ClusterAdapter) Close() error {
	if !a.reqs.close() {
		return nil
	}
	a.cancel()
	err := a.ps.Close()
	a.recvWG.Wait()
	a.readWG.Wait()
	a.snd.stop()
	_ = a.mem.Close()
	return err
}
