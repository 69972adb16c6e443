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
package redis

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
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
var ErrTimeout = errors.New("redis adapter: timeout reached while waiting for responses")

// NewAdapter returns an adapter factory for socketio.Config.Adapter. Each
// namespace gets its own subscription connection from client; closing the
// server closes them. The client itself is the caller's to close.
func NewAdapter(client *goredis.Client, opts Options) adapter.Factory {
	opts = opts.withDefaults()
	return func(nsp adapter.Namespace) (adapter.Adapter, error) {
		return newAdapter(client, opts, nsp)
	}
}

// Adapter is the classic Redis adapter of one namespace. Room bookkeeping
// and local delivery are done by an embedded in-memory adapter.
type Adapter struct {
	adapter.Adapter
	mem    *adapter.Memory
	nsp    adapter.Namespace
	client *goredis.Client
	opts   Options
	log    *slog.Logger
	uid    string

	bcastChannel    string // key#nsp#
	requestChannel  string // key-request#nsp#
	responseChannel string // key-response#nsp#
	ownResponse     string // key-response#nsp#uid#

	ps     *goredis.PubSub
	ctx    context.Context
	cancel context.CancelFunc
	recvWG sync.WaitGroup
	snd    sender
	reqs   *requests
}

var _ adapter.Adapter = (*Adapter)(nil)

func newAdapter(client *goredis.Client, opts Options, nsp adapter.Namespace) (*Adapter, error) {
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
		client:          client,
		opts:            opts,
		log:             opts.Logger.With("nsp", name),
		uid:             newUID(),
		bcastChannel:    opts.Key + "#" + name + "#",
		requestChannel:  opts.Key + "-request#" + name + "#",
		responseChannel: opts.Key + "-response#" + name + "#",
	}
	a.ownResponse = a.responseChannel + a.uid + "#"
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.reqs = newRequests(opts.RequestsTimeout, a.ctx.Done())

	ctx, cancel := context.WithTimeout(a.ctx, opts.RequestsTimeout)
	defer cancel()
	ps := client.Subscribe(ctx)
	if err := ps.PSubscribe(ctx, a.bcastChannel+"*"); err != nil {
		_ = ps.Close()
		a.cancel()
		return nil, fmt.Errorf("redis adapter: psubscribe: %w", err)
	}
	if err := ps.Subscribe(ctx, a.requestChannel, a.responseChannel, a.ownResponse); err != nil {
		_ = ps.Close()
		a.cancel()
		return nil, fmt.Errorf("redis adapter: subscribe: %w", err)
	}
	// Wait until Redis confirmed the four subscriptions, so that this
	// server is counted (PUBSUB NUMSUB) once the factory returns.
	early, err := awaitSubscriptions(ctx, ps, 4)
	if err != nil {
		_ = ps.Close()
		a.cancel()
		return nil, fmt.Errorf("redis adapter: subscribing: %w", err)
	}
	a.ps = ps
	a.snd = sender{log: a.log, timeout: opts.RequestsTimeout, pub: func(ctx context.Context, ch string, b []byte) error {
		return client.Publish(ctx, ch, b).Err()
	}}
	a.snd.start()
	a.recvWG.Add(1)
	go a.receive(early)
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

// receive reads the subscription until Close. After a lost connection the
// next read reconnects and subscribes again (go-redis resubscribes every
// channel and pattern).
func (a *Adapter) receive(early []*goredis.Message) {
	defer a.recvWG.Done()
	for _, m := range early {
		a.dispatch(m)
	}
	receiveLoop(a.ctx, a.ps, a.log, a.dispatch)
}

func (a *Adapter) dispatch(m *goredis.Message) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("redis adapter: message handler panicked; message dropped", "channel", m.Channel, "panic", r,
				"stack", string(debug.Stack()))
		}
	}()
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
	if err != nil && !errors.Is(err, errWrongNsp) {
		a.log.Warn("redis adapter: malformed message dropped", "channel", m.Channel, "err", err)
	}
}

// decodeBroadcast reads the tuple [uid, packet, opts].
func decodeBroadcast(payload []byte) (uid string, packet any, opts adapter.BroadcastOptions, err error) {
	v, err := decodeMsgpack(payload)
	if err != nil {
		return "", nil, opts, err
	}
	t, ok := v.([]any)
	if !ok || len(t) < 3 {
		return "", nil, opts, errors.New("redis adapter: broadcast is not [uid, packet, opts]")
	}
	uid, _ = t[0].(string)
	return uid, t[1], treeOpts(t[2]), nil
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
	p, err := treePacket(pt, a.nsp.Name())
	if err != nil {
		return err
	}
	opts.Flags.Local = false
	return a.mem.Broadcast(p, opts)
}

func (a *Adapter) onRequest(payload []byte) error {
	req, err := decodePayload(payload)
	if err != nil {
		return err
	}
	tv, _ := req.get("type")
	typ, ok := asInt(tv)
	if !ok {
		return errors.New("redis adapter: request without type")
	}
	uidV, _ := req.get("uid")
	uid, _ := uidV.(string)
	ridV, _ := req.get("requestId")
	rid, _ := ridV.(string)
	own := func() bool { return a.reqs.isPending(rid) }
	switch typ {
	case reqSockets:
		if own() {
			return nil
		}
		r, _ := req.get("rooms")
		ids := a.mem.Sockets(adapter.BroadcastOptions{Rooms: asStrings(r)})
		a.respond(uid, obj("requestId", rid, "sockets", roomList(ids)))
	case reqAllRooms:
		if own() {
			return nil
		}
		a.respond(uid, obj("requestId", rid, "rooms", roomList(a.mem.Rooms())))
	case reqRemoteJoin, reqRemoteLeave, reqRemoteDisconnect:
		if uid == a.uid {
			return nil
		}
		ov, hasOpts := req.get("opts")
		if !hasOpts {
			return a.legacyRemote(int(typ), req, uid, rid)
		}
		opts := treeOpts(ov)
		opts.Flags = adapter.BroadcastFlags{}
		ctx := context.Background()
		switch typ {
		case reqRemoteJoin:
			r, _ := req.get("rooms")
			return a.mem.AddSockets(ctx, opts, asStrings(r))
		case reqRemoteLeave:
			r, _ := req.get("rooms")
			return a.mem.DelSockets(ctx, opts, asStrings(r))
		default:
			c, _ := req.get("close")
			return a.mem.DisconnectSockets(ctx, opts, c == true)
		}
	case reqRemoteFetch:
		if own() {
			return nil
		}
		ov, _ := req.get("opts")
		opts := treeOpts(ov)
		infos, _ := a.mem.FetchSockets(context.Background(), adapter.BroadcastOptions{Rooms: opts.Rooms, Except: opts.Except})
		a.respond(uid, obj("requestId", rid, "sockets", socketTrees(infos)))
	case reqServerSideEmit:
		if uid == a.uid {
			return nil
		}
		d, _ := req.get("data")
		arr, ok := d.([]any)
		if !ok || len(arr) == 0 {
			return errors.New("redis adapter: server-side emit without data")
		}
		args := jsonArgs(arr)
		var ack func(json.RawMessage)
		if rid != "" {
			var once sync.Once
			ack = func(r json.RawMessage) {
				once.Do(func() {
					if r == nil {
						r = json.RawMessage("null")
					}
					a.respond(uid, obj("type", int64(reqServerSideEmit), "requestId", rid, "data", r))
				})
			}
		}
		a.snd.runEmit(func() { a.nsp.OnServerSideEmit(args, ack) })
	case reqBroadcast:
		if a.reqs.hasAck(rid) || uid == a.uid {
			return nil
		}
		pv, _ := req.get("packet")
		p, err := treePacket(pv, a.nsp.Name())
		if err != nil {
			return err
		}
		ov, _ := req.get("opts")
		opts := treeOpts(ov)
		opts.Flags.Local = false
		return a.mem.BroadcastWithAck(p, opts, func(n int) {
			a.respond(uid, clientCountMsg(rid, n))
		}, func(r adapter.AckResponse) {
			arg, err := firstArg(r)
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
func clientCountMsg(rid string, n int) *object {
	return obj("type", int64(reqBroadcastClientCount), "requestId", rid, "clientCount", int64(n))
}

// ackMsg is the BROADCAST_ACK answer (msgpack): the first ack argument.
func ackMsg(rid string, arg any) ([]byte, error) {
	return encodeMsgpack(obj("type", int64(reqBroadcastAck), "requestId", rid, "packet", arg))
}

// legacyRemote answers the pre-7 single-socket join/leave/disconnect form
// {requestId, sid, room|close}.
func (a *Adapter) legacyRemote(typ int, req *object, uid, rid string) error {
	sv, _ := req.get("sid")
	sid, _ := sv.(string)
	s := a.mem.Socket(sid)
	if sid == "" || s == nil {
		return nil
	}
	switch typ {
	case reqRemoteJoin:
		r, _ := req.get("room")
		a.mem.AddAll(s, jsString(r))
	case reqRemoteLeave:
		r, _ := req.get("room")
		a.mem.Del(sid, jsString(r))
	default:
		c, _ := req.get("close")
		s.Disconnect(c == true)
	}
	a.respond(uid, obj("requestId", rid))
	return nil
}

func (a *Adapter) responseFor(uid string) string {
	if a.opts.PublishOnSpecificResponseChannel && uid != "" {
		return a.responseChannel + uid + "#"
	}
	return a.responseChannel
}

// respond publishes a JSON answer (asynchronously, in order).
func (a *Adapter) respond(uid string, msg *object) {
	raw, _, err := encodeJSON(msg, nodeBuffers)
	if err != nil {
		a.log.Warn("redis adapter: answer not encoded", "err", err)
		return
	}
	a.enqueue(a.responseFor(uid), raw)
}

func (a *Adapter) enqueue(channel string, payload []byte) { a.snd.enqueue(channel, payload) }

func (a *Adapter) onResponse(payload []byte) error {
	res, err := decodePayload(payload)
	if err != nil {
		return err
	}
	ridV, _ := res.get("requestId")
	rid, _ := ridV.(string)
	if rid == "" {
		return nil
	}
	return a.reqs.answer(rid, func(ar *ackRequest) error {
		tv, _ := res.get("type")
		typ, _ := asInt(tv)
		return ar.relay(typ, reqBroadcastClientCount, reqBroadcastAck, res, "redis adapter")
	}, func(req *request) { a.onAnswer(req, res) })
}

// onAnswer adds an answer to a pending request. numSub counts the servers
// (this one included, msgCount starts at 1) for the requests this server
// answers as well, the other servers for server-side emits.
func (a *Adapter) onAnswer(req *request, res *object) {
	switch req.typ {
	case reqRemoteFetch:
		sv, _ := res.get("sockets")
		arr, _ := sv.([]any)
		for _, s := range arr {
			if info, ok := treeSocket(s); ok {
				req.sockets = append(req.sockets, info)
			}
		}
		req.msgCount++
		if req.msgCount >= req.numSub {
			req.finish()
		}
	case reqServerSideEmit:
		d, _ := res.get("data")
		req.responses = append(req.responses, jsonOf(d))
		if len(req.responses) >= req.numSub {
			req.finish()
		}
	case reqAllRooms:
		rv, _ := res.get("rooms")
		for _, r := range asStrings(rv) {
			req.sockets = append(req.sockets, adapter.SocketInfo{ID: r})
		}
		req.msgCount++
		if req.msgCount >= req.numSub {
			req.finish()
		}
	}
}

// publish sends a payload now, for the calls of this server's API.
func (a *Adapter) publish(ctx context.Context, channel string, payload []byte) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	return a.client.Publish(ctx, channel, payload).Err()
}

func (a *Adapter) publishJSON(ctx context.Context, msg *object) error {
	raw, _, err := encodeJSON(msg, nodeBuffers)
	if err != nil {
		return err
	}
	return a.publish(ctx, a.requestChannel, raw)
}

// encodeBroadcastTuple writes [uid, packet, opts] as notepack does.
func encodeBroadcastTuple(uid string, p *parser.Packet, opts adapter.BroadcastOptions) ([]byte, error) {
	pt, err := packetTree(p)
	if err != nil {
		return nil, err
	}
	return encodeMsgpack([]any{uid, pt, optsTree(opts, true)})
}

// broadcastChannelFor is the channel of a broadcast: the room's own when
// there is exactly one room.
func broadcastChannelFor(base string, opts adapter.BroadcastOptions) string {
	if len(opts.Rooms) == 1 {
		return base + opts.Rooms[0] + "#"
	}
	return base
}

// Broadcast publishes p to the other servers (unless Local) and delivers it
// to the matched local sockets.
func (a *Adapter) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	if !opts.Flags.Local {
		b, err := encodeBroadcastTuple(a.uid, p, opts)
		if err != nil {
			return err
		}
		if err := a.publish(context.Background(), broadcastChannelFor(a.bcastChannel, opts), b); err != nil {
			a.log.Warn("redis adapter: broadcast not published", "err", err)
			_ = a.mem.Broadcast(p, opts)
			return fmt.Errorf("redis adapter: publish: %w", err)
		}
	}
	return a.mem.Broadcast(p, opts)
}

// BroadcastWithAck publishes p as a BROADCAST request; every other server
// reports its number of recipients once, then relays each answer.
func (a *Adapter) BroadcastWithAck(p *parser.Packet, opts adapter.BroadcastOptions, onClientCount func(int), onAck func(adapter.AckResponse)) error {
	if !opts.Flags.Local {
		rid := newUID()
		b, err := broadcastRequest(a.uid, rid, p, opts)
		if err != nil {
			return err
		}
		if err := a.reqs.addAck(rid, opts.Flags.Timeout, onClientCount, onAck); err != nil {
			return err
		}
		if err := a.publish(context.Background(), a.requestChannel, b); err != nil {
			return fmt.Errorf("redis adapter: publish: %w", err)
		}
	}
	return a.mem.BroadcastWithAck(p, opts, onClientCount, onAck)
}

// broadcastRequest is the BROADCAST request (msgpack).
func broadcastRequest(uid, rid string, p *parser.Packet, opts adapter.BroadcastOptions) ([]byte, error) {
	pt, err := packetTree(p)
	if err != nil {
		return nil, err
	}
	return encodeMsgpack(obj("uid", uid, "requestId", rid, "type", int64(reqBroadcast), "packet", pt, "opts", optsTree(opts, true)))
}

var errClosed = errors.New("redis adapter: closed")

// ServerCount is the number of subscribers of the request channel (PUBSUB
// NUMSUB), the servers of the cluster including this one.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, a.opts.RequestsTimeout)
	defer cancel()
	res, err := a.client.PubSubNumSub(ctx, a.requestChannel).Result()
	if err != nil {
		return 0, fmt.Errorf("redis adapter: PUBSUB NUMSUB: %w", err)
	}
	n := int(res[a.requestChannel])
	if n < 1 {
		n = 1
	}
	return n, nil
}

func (a *Adapter) remoteOp(ctx context.Context, typ int, opts adapter.BroadcastOptions, extra ...any) error {
	if opts.Flags.Local {
		return nil
	}
	msg := obj("uid", a.uid, "type", int64(typ), "opts", optsTree(opts, false))
	for i := 0; i+1 < len(extra); i += 2 {
		msg.set(extra[i].(string), extra[i+1])
	}
	return a.publishJSON(ctx, msg)
}

// AddSockets makes the matched sockets of every server join rooms.
func (a *Adapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	err := a.remoteOp(ctx, reqRemoteJoin, opts, "rooms", roomList(rooms))
	_ = a.mem.AddSockets(ctx, opts, rooms)
	return err
}

// DelSockets makes the matched sockets of every server leave rooms.
func (a *Adapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	err := a.remoteOp(ctx, reqRemoteLeave, opts, "rooms", roomList(rooms))
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
func (a *Adapter) startRequest(typ, numSub int) (string, *request, error) {
	rid := newUID()
	r, err := a.reqs.start(rid, typ, numSub, 1)
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
	r.sockets = local
	if err := a.publishJSON(ctx, obj("uid", a.uid, "requestId", rid, "type", int64(reqRemoteFetch), "opts", optsTree(opts, false))); err != nil {
		a.reqs.remove(rid)
		return local, err
	}
	err = a.reqs.wait(ctx, rid, r)
	return r.sockets, err
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
	if err := a.publishJSON(ctx, obj("uid", a.uid, "requestId", rid, "type", int64(reqAllRooms))); err != nil {
		a.reqs.remove(rid)
		return local, err
	}
	err = a.reqs.wait(ctx, rid, r)
	seen := map[string]bool{}
	out := []adapter.Room{}
	for _, x := range local {
		seen[x] = true
		out = append(out, x)
	}
	for _, s := range r.sockets {
		if !seen[s.ID] {
			seen[s.ID] = true
			out = append(out, s.ID)
		}
	}
	return out, err
}

// ServerSideEmit sends [event, ...args] to the other servers.
func (a *Adapter) ServerSideEmit(ctx context.Context, args []json.RawMessage) error {
	data, err := rawArgs(args)
	if err != nil {
		return err
	}
	return a.publishJSON(ctx, obj("uid", a.uid, "type", int64(reqServerSideEmit), "data", data))
}

// ServerSideEmitWithAck sends [event, ...args] to the other servers and
// gathers one answer (the first ack argument) from each.
func (a *Adapter) ServerSideEmitWithAck(ctx context.Context, args []json.RawMessage) ([]json.RawMessage, error) {
	data, err := rawArgs(args)
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
	if err := a.publishJSON(ctx, obj("uid", a.uid, "requestId", rid, "type", int64(reqServerSideEmit), "data", data)); err != nil {
		a.reqs.remove(rid)
		return nil, err
	}
	return emitResult(r, n-1, a.reqs.wait(ctx, rid, r))
}

// Close unsubscribes and stops the adapter's goroutines.
func (a *Adapter) Close() error {
	if !a.reqs.close() {
		return nil
	}
	a.cancel()
	err := a.ps.Close()
	a.recvWG.Wait()
	a.snd.stop()
	_ = a.mem.Close()
	return err
}
