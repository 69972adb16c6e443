package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// emitterUID is the uid of Node's emitters (processes that only publish):
// they are not servers.
const emitterUID = "emitter"

// nspAdapter is the ClusterAdapter of one namespace: the local layer (an
// in-memory adapter) plus the protocol with the other servers.
type nspAdapter struct {
	adapter.Adapter
	mem  *adapter.Memory
	n    *node
	nsp  adapter.Namespace
	name string
	reqs *wire.Requests

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	closed atomic.Bool
	userEv atomic.Pointer[adapter.RoomEvents]

	// Room channels kept after their room emptied, by room (see dropRoom).
	roomMu  sync.Mutex
	lingers map[adapter.Room]*time.Timer

	// Heartbeats, when the transport does not count servers.
	hbMu    sync.Mutex
	servers map[string]time.Time // other servers, last heard of
	hb      *time.Timer
}

var _ adapter.Adapter = (*nspAdapter)(nil)

// noRecovery hides the recovery duration from the local layer when the
// transport keeps sessions and offsets.
type noRecovery struct{ adapter.Namespace }

// RecoveryDuration is 0 for the local layer.
func (noRecovery) RecoveryDuration() time.Duration { return 0 }

func newNspAdapter(n *node, nsp adapter.Namespace) (*nspAdapter, error) {
	memNsp := nsp
	if n.store != nil {
		memNsp = noRecovery{nsp}
	}
	m, err := adapter.NewMemory(memNsp)
	if err != nil {
		return nil, err
	}
	mem, _ := m.(*adapter.Memory)
	a := &nspAdapter{Adapter: m, mem: mem, n: n, nsp: nsp, name: nsp.Name()}
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.reqs = wire.NewRequests(n.opts.RequestsTimeout, a.ctx.Done())
	if n.counter == nil {
		a.servers = map[string]time.Time{}
	}
	if n.rooms != nil {
		mem.SetRoomEvents(adapter.RoomEvents{
			CreateRoom: func(r adapter.Room) {
				if n.rooms.RoomChannel(r) && !a.keepRoom(r) {
					n.rooms.SubscribeRoom(a.name, r)
				}
				if ev := a.userEv.Load(); ev != nil && ev.CreateRoom != nil {
					ev.CreateRoom(r)
				}
			},
			DeleteRoom: func(r adapter.Room) {
				if n.rooms.RoomChannel(r) {
					a.dropRoom(r)
				}
				if ev := a.userEv.Load(); ev != nil && ev.DeleteRoom != nil {
					ev.DeleteRoom(r)
				}
			},
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
	ctx, cancel := context.WithTimeout(a.ctx, n.opts.RequestsTimeout)
	defer cancel()
	if err := n.t.Subscribe(ctx, a.name, a.deliver); err != nil {
		a.cancel()
		_ = mem.Close()
		return nil, fmt.Errorf("cluster adapter: subscribing namespace %q: %w", a.name, err)
	}
	if a.servers != nil {
		a.enqueue(newMessage(InitialHeartbeat, n.uid, a.name), 0)
		a.hbMu.Lock()
		a.hb = time.AfterFunc(n.opts.HeartbeatInterval, a.heartbeat)
		a.hbMu.Unlock()
	}
	return a, nil
}

// UID returns the server's id on the wire.
func (a *nspAdapter) UID() string { return a.n.uid }

// dropRoom unsubscribes the channel of a room that lost its last local
// member. With connection state recovery on, the channel is kept for the
// recovery duration: a socket that went away with the room in its session
// must still get the room's broadcasts kept for it (the local layer keeps
// them only if they arrive).
func (a *nspAdapter) dropRoom(r adapter.Room) {
	d := a.nsp.RecoveryDuration()
	if d <= 0 || a.n.store != nil {
		a.n.rooms.UnsubscribeRoom(a.name, r)
		return
	}
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	if a.lingers == nil {
		a.lingers = map[adapter.Room]*time.Timer{}
	}
	if t := a.lingers[r]; t != nil {
		t.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		a.roomMu.Lock()
		mine := a.lingers[r] == t
		if mine {
			delete(a.lingers, r)
		}
		a.roomMu.Unlock()
		if mine && !a.closed.Load() {
			a.n.rooms.UnsubscribeRoom(a.name, r)
		}
	})
	a.lingers[r] = t
}

// keepRoom reports whether the channel of a room that has members again
// is still subscribed (it emptied within the recovery duration), and stops
// its pending unsubscription.
func (a *nspAdapter) keepRoom(r adapter.Room) bool {
	a.roomMu.Lock()
	defer a.roomMu.Unlock()
	t := a.lingers[r]
	if t == nil {
		return false
	}
	t.Stop()
	delete(a.lingers, r)
	return true
}

// SetRoomEvents sets the receiver of room changes (the adapter's own room
// subscriptions keep working).
func (a *nspAdapter) SetRoomEvents(ev adapter.RoomEvents) {
	if a.n.rooms == nil {
		a.mem.SetRoomEvents(ev)
		return
	}
	a.userEv.Store(&ev)
}

func (a *nspAdapter) heartbeat() {
	if a.closed.Load() {
		return
	}
	a.enqueue(newMessage(Heartbeat, a.n.uid, a.name), 0)
	a.hbMu.Lock()
	if a.hb != nil && !a.closed.Load() {
		a.hb.Reset(a.n.opts.HeartbeatInterval)
	}
	a.hbMu.Unlock()
}

// report hands the error of a publication that failed once queued to the
// namespace (see adapter.ErrorReporter).
func (a *nspAdapter) report(err error) { adapter.ReportError(a.nsp, err) }

// PublishQueueLen returns the messages waiting to be published to the
// other servers (the server's queue, shared by its namespaces).
func (a *nspAdapter) PublishQueueLen() int { return a.n.snd.Len() }

// enqueue queues a message for every other server.
func (a *nspAdapter) enqueue(m *Message, size int) error {
	return a.n.snd.Enqueue(size+64, a.name, a.report, func(ctx context.Context) error {
		_, err := a.n.t.Publish(ctx, m)
		return err
	})
}

// respond queues an answer to server to.
func (a *nspAdapter) respond(to string, typ MessageType, kv ...any) {
	m := newMessage(typ, a.n.uid, a.name, kv...)
	a.n.snd.EnqueueAnswer(256, a.name, a.report, func(ctx context.Context) error {
		return a.n.t.PublishResponse(ctx, to, m)
	})
}

// publish sends a message now, for the calls that take a context.
func (a *nspAdapter) publish(ctx context.Context, m *Message) error {
	if a.closed.Load() {
		return ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, a.n.opts.RequestsTimeout)
	defer cancel()
	_, err := a.n.t.Publish(ctx, m)
	return err
}

// deliver is called by the transport for each message of the namespace.
func (a *nspAdapter) deliver(m *Message, offset string) {
	defer func() {
		if r := recover(); r != nil {
			a.n.log.Error("cluster adapter: message handler panicked; message dropped", "nsp", a.name, "type", int(m.Type),
				"panic", r, "stack", string(debug.Stack()))
		}
	}()
	if a.closed.Load() {
		return
	}
	if err := a.onMessage(m, offset); err != nil && !errors.Is(err, wire.ErrWrongNsp) {
		a.n.log.Warn("cluster adapter: malformed message dropped", "nsp", a.name, "type", int(m.Type), "err", err)
	}
}

func (a *nspAdapter) onMessage(m *Message, offset string) error {
	if m.UID == a.n.uid {
		return nil
	}
	if m.Nsp != a.name {
		return wire.ErrWrongNsp
	}
	if a.servers != nil && m.UID != "" && m.UID != emitterUID {
		a.hbMu.Lock()
		if m.Type == AdapterClose {
			delete(a.servers, m.UID)
		} else {
			a.servers[m.UID] = time.Now()
		}
		a.hbMu.Unlock()
	}
	rid := m.RequestID()
	if m.Type.IsResponse() {
		return a.onResponse(m, rid)
	}
	data := m.data
	ctx := context.Background()
	switch m.Type {
	case InitialHeartbeat:
		if a.servers != nil {
			_ = a.enqueue(newMessage(Heartbeat, a.n.uid, a.name), 0)
		}
	case Broadcast:
		p, opts, err := m.BroadcastPacket()
		if err != nil {
			return err
		}
		opts.Flags.Local = false
		if rid == "" {
			if offset != "" && a.n.store != nil {
				opts = a.addOffset(p, opts, offset)
			}
			return a.mem.Broadcast(p, opts)
		}
		uid := m.UID
		return a.mem.BroadcastWithAck(p, opts, func(n int) {
			a.respond(uid, BroadcastClientCount, "requestId", rid, "clientCount", int64(n))
		}, func(r adapter.AckResponse) {
			arg, err := wire.FirstArg(r)
			if err != nil {
				a.n.log.Warn("cluster adapter: ack not relayed", "err", err)
				return
			}
			a.respond(uid, BroadcastAck, "requestId", rid, "packet", arg)
		})
	case SocketsJoin, SocketsLeave:
		ov, _ := data.Get("opts")
		opts := wire.TreeOpts(ov)
		opts.Flags = adapter.BroadcastFlags{}
		r, _ := data.Get("rooms")
		if m.Type == SocketsJoin {
			return a.mem.AddSockets(ctx, opts, wire.AsStrings(r))
		}
		return a.mem.DelSockets(ctx, opts, wire.AsStrings(r))
	case DisconnectSockets:
		ov, _ := data.Get("opts")
		opts := wire.TreeOpts(ov)
		opts.Flags = adapter.BroadcastFlags{}
		c, _ := data.Get("close")
		return a.mem.DisconnectSockets(ctx, opts, c == true)
	case FetchSockets:
		ov, _ := data.Get("opts")
		opts := wire.TreeOpts(ov)
		infos, _ := a.mem.FetchSockets(ctx, adapter.BroadcastOptions{Rooms: opts.Rooms, Except: opts.Except})
		a.respond(m.UID, FetchSocketsResponse, "requestId", rid, "sockets", wire.SocketTrees(infos))
	case ServerSideEmit:
		pv, _ := data.Get("packet")
		arr, ok := pv.([]any)
		if !ok || len(arr) == 0 {
			return errors.New("cluster adapter: server-side emit without data")
		}
		args := wire.JSONArgs(arr)
		var ack func(json.RawMessage)
		if rid != "" {
			uid := m.UID
			var once sync.Once
			ack = func(r json.RawMessage) {
				once.Do(func() {
					arg, err := wire.DecodeJSON(r, nil)
					if err != nil || r == nil {
						arg = nil
					}
					a.respond(uid, ServerSideEmitResponse, "requestId", rid, "packet", arg)
				})
			}
		}
		a.n.snd.RunEmit(func() { a.nsp.OnServerSideEmit(args, ack) })
	}
	return nil
}

func (a *nspAdapter) onResponse(m *Message, rid string) error {
	return a.reqs.Answer(rid, func(ar *wire.AckRequest) error {
		return ar.Relay(int64(m.Type), int64(BroadcastClientCount), int64(BroadcastAck), m.data, "cluster adapter")
	}, func(req *wire.Request) {
		switch {
		case m.Type == FetchSocketsResponse && req.Type == int(FetchSockets):
			sv, _ := m.data.Get("sockets")
			arr, _ := sv.([]any)
			for _, s := range arr {
				if info, ok := wire.TreeSocket(s); ok {
					req.Sockets = append(req.Sockets, info)
				}
			}
			req.MsgCount++
		case m.Type == ServerSideEmitResponse && req.Type == int(ServerSideEmit):
			pv, _ := m.data.Get("packet")
			req.Responses = append(req.Responses, wire.JSONOf(pv))
			req.MsgCount++
		}
		if req.MsgCount >= req.NumSub {
			req.Finish()
		}
	})
}

// addOffset appends the stored offset to an event a recovering client may
// have missed (an event without ack, not volatile), as Node does, and
// returns opts with the offset in Flags.Offset.
func (a *nspAdapter) addOffset(p *parser.Packet, opts adapter.BroadcastOptions, offset string) adapter.BroadcastOptions {
	if a.nsp.RecoveryDuration() <= 0 || p.HasID || opts.Flags.Volatile ||
		(p.Type != parser.Event && p.Type != parser.BinaryEvent) {
		return opts
	}
	if d, err := parser.AppendArg(p.Data, offset); err == nil {
		p.Data = d
		opts.Flags.Offset = offset
	}
	return opts
}

func packetSize(p *parser.Packet) int {
	n := len(p.Data)
	for _, b := range p.Attachments {
		n += len(b)
	}
	return n
}

// Broadcast delivers p to the matched local sockets and queues it for the
// other servers (unless Local). It never waits on the broker: a message
// that does not fit in the queue reaches the local sockets only and
// ErrQueueFull is returned.
//
// With a transport that stores broadcasts (SessionStore), the local
// delivery waits for the stored offset, which recovering clients need: it
// happens on the publisher, after the message was stored (or failed to be,
// then without an offset), in the order of the emits.
func (a *nspAdapter) Broadcast(p *parser.Packet, opts adapter.BroadcastOptions) error {
	if opts.Flags.Local {
		return a.mem.Broadcast(p, opts)
	}
	m, err := NewBroadcast(a.n.uid, a.name, p, opts, "")
	if err != nil {
		return err
	}
	if a.n.store == nil {
		err := a.enqueue(m, packetSize(p))
		if lerr := a.mem.Broadcast(p, opts); err == nil {
			err = lerr
		}
		return err
	}
	err = a.n.snd.Enqueue(packetSize(p)+64, a.name, a.report, func(ctx context.Context) error {
		offset, err := a.n.t.Publish(ctx, m)
		local := opts
		if err == nil {
			local = a.addOffset(p, opts, offset)
		}
		_ = a.mem.Broadcast(p, local)
		return err
	})
	if err != nil {
		_ = a.mem.Broadcast(p, opts)
	}
	return err
}

// BroadcastWithAck delivers p with an ack id to the local sockets and
// queues it for the other servers, each of which reports its number of
// recipients once, then relays each answer. A message that does not fit
// in the queue is not sent at all (ErrQueueFull).
func (a *nspAdapter) BroadcastWithAck(p *parser.Packet, opts adapter.BroadcastOptions, onClientCount func(int), onAck func(adapter.AckResponse)) error {
	if !opts.Flags.Local {
		rid := NewUID()
		m, err := NewBroadcast(a.n.uid, a.name, p, opts, rid)
		if err != nil {
			return err
		}
		if err := a.reqs.AddAck(rid, opts.Flags.Timeout, onClientCount, onAck); err != nil {
			return err
		}
		if err := a.enqueue(m, packetSize(p)); err != nil {
			a.reqs.RemoveAck(rid)
			return err
		}
	}
	return a.mem.BroadcastWithAck(p, opts, onClientCount, onAck)
}

// ServerCount is the number of servers of the namespace, this one included:
// the transport's count, or the servers heard of within HeartbeatTimeout.
func (a *nspAdapter) ServerCount(ctx context.Context) (int, error) {
	if a.n.counter != nil {
		ctx, cancel := context.WithTimeout(ctx, a.n.opts.RequestsTimeout)
		defer cancel()
		n, err := a.n.counter.ServerCount(ctx, a.name)
		if err != nil {
			return 0, err
		}
		return max(n, 1), nil
	}
	a.hbMu.Lock()
	defer a.hbMu.Unlock()
	now := time.Now()
	for uid, seen := range a.servers {
		if now.Sub(seen) > a.n.opts.HeartbeatTimeout {
			delete(a.servers, uid)
		}
	}
	return len(a.servers) + 1, nil
}

func (a *nspAdapter) remote(ctx context.Context, opts adapter.BroadcastOptions, typ MessageType, kv ...any) error {
	if opts.Flags.Local {
		return nil
	}
	return a.publish(ctx, newMessage(typ, a.n.uid, a.name, append([]any{"opts", wire.OptsTree(opts, true)}, kv...)...))
}

// AddSockets makes the matched sockets of every server join rooms.
func (a *nspAdapter) AddSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	err := a.remote(ctx, opts, SocketsJoin, "rooms", wire.RoomList(rooms))
	_ = a.mem.AddSockets(ctx, opts, rooms)
	return err
}

// DelSockets makes the matched sockets of every server leave rooms.
func (a *nspAdapter) DelSockets(ctx context.Context, opts adapter.BroadcastOptions, rooms []adapter.Room) error {
	err := a.remote(ctx, opts, SocketsLeave, "rooms", wire.RoomList(rooms))
	_ = a.mem.DelSockets(ctx, opts, rooms)
	return err
}

// DisconnectSockets disconnects the matched sockets of every server.
func (a *nspAdapter) DisconnectSockets(ctx context.Context, opts adapter.BroadcastOptions, close bool) error {
	err := a.remote(ctx, opts, DisconnectSockets, "close", close)
	_ = a.mem.DisconnectSockets(ctx, opts, close)
	return err
}

// request publishes a request expecting one answer from each of the other
// servers and waits for them.
// data gives the message's data (key, value pairs) for the request id.
func (a *nspAdapter) request(ctx context.Context, typ MessageType, expected int, seed []adapter.SocketInfo, data func(rid string) []any) (*wire.Request, error) {
	rid := NewUID()
	r, err := a.reqs.Start(rid, int(typ), expected, 0)
	if err != nil {
		return nil, err
	}
	r.Sockets = seed
	if err := a.publish(ctx, newMessage(typ, a.n.uid, a.name, data(rid)...)); err != nil {
		a.reqs.Remove(rid)
		return r, err
	}
	return r, a.reqs.Wait(ctx, rid, r)
}

// FetchSockets describes the matched sockets of every server.
func (a *nspAdapter) FetchSockets(ctx context.Context, opts adapter.BroadcastOptions) ([]adapter.SocketInfo, error) {
	local, _ := a.mem.FetchSockets(ctx, opts)
	if opts.Flags.Local {
		return local, nil
	}
	n, err := a.ServerCount(ctx)
	if err != nil || n <= 1 {
		return local, err
	}
	r, err := a.request(ctx, FetchSockets, n-1, local, func(rid string) []any {
		return []any{"opts", wire.OptsTree(opts, true), "requestId", rid}
	})
	if r == nil {
		return local, err
	}
	return r.Sockets, err
}

// ServerSideEmit sends [event, ...args] to the other servers.
func (a *nspAdapter) ServerSideEmit(ctx context.Context, args []json.RawMessage) error {
	data, err := wire.RawArgs(args)
	if err != nil {
		return err
	}
	return a.publish(ctx, newMessage(ServerSideEmit, a.n.uid, a.name, "packet", data))
}

// ServerSideEmitWithAck sends [event, ...args] to the other servers and
// gathers one answer from each.
func (a *nspAdapter) ServerSideEmitWithAck(ctx context.Context, args []json.RawMessage) ([]json.RawMessage, error) {
	data, err := wire.RawArgs(args)
	if err != nil {
		return nil, err
	}
	n, err := a.ServerCount(ctx)
	if err != nil || n <= 1 {
		return nil, err
	}
	r, err := a.request(ctx, ServerSideEmit, n-1, nil, func(rid string) []any {
		return []any{"requestId", rid, "packet", data}
	})
	if r == nil {
		return nil, err
	}
	return wire.EmitResult(r, n-1, err)
}

// PersistSession stores a disconnected socket's state: in the transport's
// store when it has one, else locally.
func (a *nspAdapter) PersistSession(ctx context.Context, s *adapter.Session) error {
	if a.n.store == nil {
		return a.mem.PersistSession(ctx, s)
	}
	d := a.nsp.RecoveryDuration()
	if d <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.n.opts.RequestsTimeout)
	defer cancel()
	return a.n.store.PersistSession(ctx, a.name, s, d)
}

// RestoreSession returns a stored session with the packets missed since
// offset, or (nil, nil) when it cannot be recovered.
func (a *nspAdapter) RestoreSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	if a.n.store == nil {
		return a.mem.RestoreSession(ctx, pid, offset)
	}
	s, err := a.TakeSession(ctx, pid, offset)
	if s == nil || err != nil {
		return nil, err
	}
	missed, err := a.MissedPackets(ctx, s.Rooms, offset)
	if err != nil {
		return nil, err
	}
	for _, mp := range missed {
		s.MissedPackets = append(s.MissedPackets, mp.Packet)
	}
	return s, nil
}

var _ adapter.SessionRestorer = (*nspAdapter)(nil)

// TakeSession takes a stored session out of the transport's store (or of
// this server's memory, without one); see adapter.SessionRestorer.
func (a *nspAdapter) TakeSession(ctx context.Context, pid, offset string) (*adapter.Session, error) {
	if a.n.store == nil {
		return a.mem.TakeSession(ctx, pid, offset)
	}
	ctx, cancel := context.WithTimeout(ctx, a.n.opts.RequestsTimeout)
	defer cancel()
	return a.n.store.TakeSession(ctx, a.name, pid, offset)
}

// MissedPackets reads the broadcasts stored after offset that reach a
// socket in rooms; see adapter.SessionRestorer.
func (a *nspAdapter) MissedPackets(ctx context.Context, rooms []adapter.Room, offset string) ([]adapter.MissedPacket, error) {
	if a.n.store == nil {
		return a.mem.MissedPackets(ctx, rooms, offset)
	}
	ctx, cancel := context.WithTimeout(ctx, a.n.opts.RequestsTimeout)
	defer cancel()
	return a.n.store.MissedPackets(ctx, a.name, rooms, offset)
}

// Close leaves the cluster for this namespace; the server's transport is
// closed with its last namespace.
func (a *nspAdapter) Close() error {
	if !a.reqs.Close() {
		return nil
	}
	a.closed.Store(true)
	a.hbMu.Lock()
	if a.hb != nil {
		a.hb.Stop()
	}
	a.hbMu.Unlock()
	a.roomMu.Lock()
	for r, t := range a.lingers {
		t.Stop()
		delete(a.lingers, r)
	}
	a.roomMu.Unlock()
	if a.servers != nil {
		m := newMessage(AdapterClose, a.n.uid, a.name)
		_ = a.n.snd.Enqueue(64, a.name, a.report, func(ctx context.Context) error {
			_, err := a.n.t.Publish(ctx, m)
			return err
		})
	}
	a.cancel()
	a.n.t.Unsubscribe(a.name)
	_ = a.mem.Close()
	a.n.unref()
	return nil
}
