package adapter

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/parser"
)

// Memory is the in-memory adapter: rooms and broadcasts within one server.
// It keeps the handle of every socket (see Socket) with its rooms, and the
// handles of each room's members, so a broadcast walks the handles of its
// recipients and looks nothing up per recipient. Room membership lookups
// are map operations; joining or leaving a room costs O(1), a socket's
// disconnect O(its rooms); a broadcast to a room costs O(members) and
// encodes its packet once.
type Memory struct {
	nsp Namespace

	mu    sync.RWMutex
	rooms map[Room]map[SocketID]Socket // explicit rooms (not sockets' own): their members
	sids  map[SocketID]member          // every socket
	ev    atomic.Pointer[RoomEvents]

	// connection state recovery (Node's SessionAwareAdapter)
	sessMu      sync.Mutex
	sessions    map[string]memSession // by pid
	packets     []storedPacket        // oldest first
	storedBytes int                   // of packets
	maxBytes    int
	lastPrune   time.Time
	pruneTimer  *time.Timer // armed while something is stored
	closed      bool
	offsetBase  uint64
	offsetSeq   uint64 // the last offset given, past offsetBase
}

// member is a registered socket: its handle and its explicit rooms.
type member struct {
	s     Socket
	rooms *roomSet // nil: none
}

type storedPacket struct {
	offset    string
	opts      BroadcastOptions
	packet    *parser.Packet
	emittedAt time.Time
	size      int
}

// DefaultMaxRecoveryBytes is how many bytes of broadcast packets the
// in-memory adapter keeps for connection state recovery when the
// namespace sets no bound (see RecoveryLimits).
const DefaultMaxRecoveryBytes = 64 << 20

// RecoveryLimits is an optional interface of a Namespace: the bound, in
// bytes, of the packets an adapter keeps in memory for connection state
// recovery (0: DefaultMaxRecoveryBytes). The Socket.IO server's namespaces
// implement it with RecoveryConfig.MaxStoredBytes.
type RecoveryLimits interface {
	RecoveryMaxBytes() int
}

type memSession struct {
	s       *Session
	expires time.Time
}

// NewMemory returns an in-memory adapter for nsp. It has the Factory
// signature.
//
// With connection state recovery on, it keeps the sessions of
// disconnected sockets and the packets broadcast meanwhile for the
// namespace's RecoveryDuration. They are pruned when something new is
// stored and on a timer (every half of RecoveryDuration, between 1 s and
// 60 s: Node prunes every 60 s), so nothing outlives its window by more
// than that with no traffic. The packets are also bounded in bytes
// (RecoveryLimits, default DefaultMaxRecoveryBytes): past the bound the
// oldest are dropped first (the newest is always kept), and a client whose
// offset was dropped gets a fresh session. Close stops the timer.
func NewMemory(nsp Namespace) (Adapter, error) {
	m := &Memory{
		nsp:        nsp,
		rooms:      make(map[Room]map[SocketID]Socket),
		sids:       make(map[SocketID]member),
		sessions:   make(map[string]memSession),
		maxBytes:   DefaultMaxRecoveryBytes,
		offsetBase: uint64(time.Now().UnixNano()),
	}
	if l, ok := nsp.(RecoveryLimits); ok && l.RecoveryMaxBytes() > 0 {
		m.maxBytes = l.RecoveryMaxBytes()
	}
	return m, nil
}

var _ Adapter = (*Memory)(nil)

// smallRooms is how many explicit rooms a socket keeps in a slice before
// they move to a map: most sockets are in a few rooms, and a short slice
// costs a few words where a map costs hundreds of bytes.
const smallRooms = 8

// roomSet is the explicit rooms of one socket, in join order while they
// fit in small. Adding, finding and removing a room cost O(1).
type roomSet struct {
	small []Room
	big   map[Room]struct{}
}

func (rs *roomSet) has(r Room) bool {
	if rs == nil {
		return false
	}
	if rs.big != nil {
		_, ok := rs.big[r]
		return ok
	}
	return slices.Contains(rs.small, r)
}

// add reports whether r was not in the set.
func (rs *roomSet) add(r Room) bool {
	if rs.has(r) {
		return false
	}
	if rs.big != nil {
		rs.big[r] = struct{}{}
		return true
	}
	if len(rs.small) < smallRooms {
		rs.small = append(rs.small, r)
		return true
	}
	rs.big = make(map[Room]struct{}, 2*smallRooms)
	for _, o := range rs.small {
		rs.big[o] = struct{}{}
	}
	rs.small = nil
	rs.big[r] = struct{}{}
	return true
}

// del reports whether r was in the set.
func (rs *roomSet) del(r Room) bool {
	if rs == nil {
		return false
	}
	if rs.big != nil {
		if _, ok := rs.big[r]; !ok {
			return false
		}
		delete(rs.big, r)
		return true
	}
	i := slices.Index(rs.small, r)
	if i < 0 {
		return false
	}
	rs.small = slices.Delete(rs.small, i, i+1)
	return true
}

func (rs *roomSet) len() int {
	if rs == nil {
		return 0
	}
	return len(rs.small) + len(rs.big)
}

// each calls fn for every room; fn must not change the set.
func (rs *roomSet) each(fn func(Room)) {
	if rs == nil {
		return
	}
	for _, r := range rs.small {
		fn(r)
	}
	for r := range rs.big {
		fn(r)
	}
}

// appendTo appends the rooms to out: in join order for a small set, in no
// particular order for a big one.
func (rs *roomSet) appendTo(out []Room) []Room {
	if rs == nil {
		return out
	}
	out = append(out, rs.small...)
	for r := range rs.big {
		out = append(out, r)
	}
	return out
}

// SetRoomEvents sets the receiver of room changes.
func (m *Memory) SetRoomEvents(ev RoomEvents) { m.ev.Store(&ev) }

// roomChange is one room event, fired after the lock is released.
type roomChange struct {
	kind byte // 'c'reate, 'd'elete, 'j'oin, 'l'eave
	room Room
	id   SocketID
}

func (m *Memory) fire(changes []roomChange) {
	ev := m.ev.Load()
	if ev == nil {
		return
	}
	for _, c := range changes {
		switch {
		case c.kind == 'c' && ev.CreateRoom != nil:
			ev.CreateRoom(c.room)
		case c.kind == 'd' && ev.DeleteRoom != nil:
			ev.DeleteRoom(c.room)
		case c.kind == 'j' && ev.JoinRoom != nil:
			ev.JoinRoom(c.room, c.id)
		case c.kind == 'l' && ev.LeaveRoom != nil:
			ev.LeaveRoom(c.room, c.id)
		}
	}
}

// tracking reports whether room changes must be recorded.
func (m *Memory) tracking() bool { return m.ev.Load() != nil }

// AddAll adds the socket to the rooms. The first call for a socket
// registers its handle, kept until DelAll; its own room (named by its id)
// is implicit and costs no map of its own.
func (m *Memory) AddAll(s Socket, rooms ...Room) {
	id := s.ID()
	var changes []roomChange
	track := m.tracking()
	m.mu.Lock()
	mb, known := m.sids[id]
	if !known {
		mb.s = s
		if track {
			changes = append(changes, roomChange{'c', id, ""}, roomChange{'j', id, id})
		}
	}
	for _, r := range rooms {
		if r == id {
			continue
		}
		if mb.rooms == nil {
			mb.rooms = new(roomSet)
		}
		if !mb.rooms.add(r) {
			continue
		}
		members := m.rooms[r]
		if members == nil {
			members = make(map[SocketID]Socket)
			m.rooms[r] = members
			if track {
				changes = append(changes, roomChange{'c', r, ""})
			}
		}
		members[id] = mb.s
		if track {
			changes = append(changes, roomChange{'j', r, id})
		}
	}
	m.sids[id] = mb
	m.mu.Unlock()
	m.fire(changes)
}

// Socket returns the handle of the registered socket with the id, or nil.
func (m *Memory) Socket(id SocketID) Socket {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.sids[id].s
}

// Del removes the socket from the room. A socket cannot leave its own
// room.
func (m *Memory) Del(id SocketID, room Room) {
	m.mu.Lock()
	changes := m.delLocked(id, room, nil)
	m.mu.Unlock()
	m.fire(changes)
}

func (m *Memory) delLocked(id SocketID, room Room, changes []roomChange) []roomChange {
	mb, known := m.sids[id]
	if !known || room == id || !mb.rooms.del(room) {
		return changes
	}
	return m.leaveLocked(id, room, changes)
}

// leaveLocked takes the socket out of the room's members.
func (m *Memory) leaveLocked(id SocketID, room Room, changes []roomChange) []roomChange {
	members := m.rooms[room]
	if members == nil {
		return changes
	}
	if _, in := members[id]; in {
		delete(members, id)
		changes = append(changes, roomChange{'l', room, id})
	}
	if len(members) == 0 {
		delete(m.rooms, room)
		changes = append(changes, roomChange{'d', room, ""})
	}
	return changes
}

// DelAll removes the socket from every room and forgets its handle, in
// time proportional to its number of rooms.
func (m *Memory) DelAll(id SocketID) {
	var changes []roomChange
	m.mu.Lock()
	mb, known := m.sids[id]
	mb.rooms.each(func(r Room) { changes = m.leaveLocked(id, r, changes) })
	delete(m.sids, id)
	if known {
		changes = append(changes, roomChange{'l', id, id}, roomChange{'d', id, ""})
	}
	m.mu.Unlock()
	m.fire(changes)
}

// SocketRooms returns the rooms of a socket, its own included, sorted.
func (m *Memory) SocketRooms(id SocketID) []Room {
	m.mu.RLock()
	defer m.mu.RUnlock()
	mb, ok := m.sids[id]
	if !ok {
		return nil
	}
	rooms := make([]Room, 0, mb.rooms.len()+1)
	rooms = append(rooms, id)
	rooms = mb.rooms.appendTo(rooms)
	slices.Sort(rooms)
	return rooms
}

// Rooms returns the rooms that have members, sockets' own rooms included,
// sorted.
func (m *Memory) Rooms() []Room {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rooms := make([]Room, 0, len(m.rooms)+len(m.sids))
	for r := range m.rooms {
		rooms = append(rooms, r)
	}
	for id := range m.sids {
		if _, dup := m.rooms[id]; !dup {
			rooms = append(rooms, id)
		}
	}
	slices.Sort(rooms)
	return rooms
}

// Sockets returns the ids of the sockets matched by opts.
func (m *Memory) Sockets(opts BroadcastOptions) []SocketID {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []SocketID
	m.matchLocked(opts, func(id SocketID, _ Socket) { ids = append(ids, id) })
	if ids == nil {
		ids = []SocketID{}
	}
	return ids
}

// eachMember calls fn for every member of room (a socket's own room has
// the socket only).
func (m *Memory) eachMember(room Room, fn func(SocketID, Socket)) {
	members := m.rooms[room]
	for id, s := range members {
		fn(id, s)
	}
	if mb, ok := m.sids[room]; ok {
		if _, dup := members[room]; !dup {
			fn(room, mb.s)
		}
	}
}

// matchLocked applies opts, calling fn for each match: members of any of
// the rooms (every socket when there are none), minus members of the
// except rooms, each socket once.
func (m *Memory) matchLocked(opts BroadcastOptions, fn func(SocketID, Socket)) {
	var except map[SocketID]struct{}
	if len(opts.Except) > 0 {
		except = make(map[SocketID]struct{})
		for _, r := range opts.Except {
			m.eachMember(r, func(id SocketID, _ Socket) { except[id] = struct{}{} })
		}
	}
	switch len(opts.Rooms) {
	case 0:
		for id, mb := range m.sids {
			if _, skip := except[id]; !skip {
				fn(id, mb.s)
			}
		}
	case 1:
		m.eachMember(opts.Rooms[0], func(id SocketID, s Socket) {
			if _, skip := except[id]; !skip {
				fn(id, s)
			}
		})
	default:
		seen := make(map[SocketID]struct{})
		for _, r := range opts.Rooms {
			m.eachMember(r, func(id SocketID, s Socket) {
				if _, skip := except[id]; skip {
					return
				}
				if _, dup := seen[id]; dup {
					return
				}
				seen[id] = struct{}{}
				fn(id, s)
			})
		}
	}
}

// sizeLocked is a guess of the number of matches, for allocation.
func (m *Memory) sizeLocked(opts BroadcastOptions) int {
	if len(opts.Rooms) == 0 {
		return len(m.sids)
	}
	n := 0
	for _, r := range opts.Rooms {
		n += len(m.rooms[r]) + 1
	}
	return n
}

// targetPool recycles the recipient lists of broadcasts.
var targetPool = sync.Pool{New: func() any { return new([]Socket) }}

// targets appends the handles of the sockets matched by opts to *buf.
// They are copied out under the read lock, and written to after it is
// released, so that slow writes never hold up joins and leaves.
func (m *Memory) targets(opts BroadcastOptions, buf *[]Socket) []Socket {
	m.mu.RLock()
	defer m.mu.RUnlock()
	socks := (*buf)[:0]
	if n := m.sizeLocked(opts); cap(socks) < n {
		socks = make([]Socket, 0, n)
	}
	m.matchLocked(opts, func(_ SocketID, s Socket) { socks = append(socks, s) })
	return socks
}

// release gives a recipient list back to the pool, without the handles.
func release(buf *[]Socket, socks []Socket) {
	clear(socks)
	if cap(socks) > 1<<16 {
		return // let an outsized list go
	}
	*buf = socks[:0]
	targetPool.Put(buf)
}

// Broadcast encodes p once and writes it to every matched socket. With
// connection state recovery on, an event without ack that is not volatile
// first gets an offset and is kept for sockets that come back; it is
// delivered with the offset in BroadcastFlags.Offset. Offsets are given in
// the order the packets are stored.
func (m *Memory) Broadcast(p *parser.Packet, opts BroadcastOptions) error {
	if d := m.nsp.RecoveryDuration(); d > 0 {
		if off := m.store(p, opts, d); off != "" {
			opts.Flags.Offset = off
		}
	}
	buf := targetPool.Get().(*[]Socket)
	socks := m.targets(opts, buf)
	defer release(buf, socks)
	if len(socks) == 0 {
		return nil
	}
	enc, err := m.nsp.Encode(p)
	if err != nil {
		return err
	}
	for _, s := range socks {
		s.Deliver(p, enc, opts.Flags)
	}
	return nil
}

// BroadcastWithAck gives p a fresh ack id, registers onAck with every
// matched socket, reports their number, and writes the packet once encoded.
func (m *Memory) BroadcastWithAck(p *parser.Packet, opts BroadcastOptions, onClientCount func(int), onAck func(AckResponse)) error {
	buf := targetPool.Get().(*[]Socket)
	socks := m.targets(opts, buf)
	defer release(buf, socks)
	p.SetID(m.nsp.NextAckID())
	enc, err := m.nsp.Encode(p)
	if err != nil {
		return err
	}
	for _, s := range socks {
		s.ExpectAck(p.ID, onAck)
	}
	onClientCount(len(socks))
	for _, s := range socks {
		s.Deliver(p, enc, opts.Flags)
	}
	return nil
}

// ServerCount is 1: the in-memory adapter knows no other server.
func (m *Memory) ServerCount(context.Context) (int, error) { return 1, nil }

// AddSockets makes the matched sockets join rooms. Requests from other
// servers (by options: rooms and exceptions) land here too.
func (m *Memory) AddSockets(_ context.Context, opts BroadcastOptions, rooms []Room) error {
	for _, s := range m.targets(opts, new([]Socket)) {
		m.AddAll(s, rooms...)
	}
	return nil
}

// DelSockets makes the matched sockets leave rooms.
func (m *Memory) DelSockets(_ context.Context, opts BroadcastOptions, rooms []Room) error {
	for _, id := range m.Sockets(opts) {
		for _, r := range rooms {
			m.Del(id, r)
		}
	}
	return nil
}

// DisconnectSockets disconnects the matched sockets.
func (m *Memory) DisconnectSockets(_ context.Context, opts BroadcastOptions, close bool) error {
	for _, s := range m.targets(opts, new([]Socket)) {
		s.Disconnect(close)
	}
	return nil
}

// FetchSockets describes the matched sockets.
func (m *Memory) FetchSockets(_ context.Context, opts BroadcastOptions) ([]SocketInfo, error) {
	socks := m.targets(opts, new([]Socket))
	infos := make([]SocketInfo, 0, len(socks))
	for _, s := range socks {
		infos = append(infos, s.Info())
	}
	return infos, nil
}

// ServerSideEmit does nothing: there is no other server.
func (m *Memory) ServerSideEmit(context.Context, []json.RawMessage) error { return nil }

// ServerSideEmitWithAck returns no answers at once: there is no other
// server.
func (m *Memory) ServerSideEmitWithAck(context.Context, []json.RawMessage) ([]json.RawMessage, error) {
	return nil, nil
}

// PersistSession keeps the state of a disconnected socket for the
// namespace's recovery duration.
func (m *Memory) PersistSession(_ context.Context, s *Session) error {
	d := m.nsp.RecoveryDuration()
	if d <= 0 {
		return nil
	}
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	if m.closed {
		return nil
	}
	now := time.Now()
	m.pruneLocked(now, d)
	m.sessions[s.PID] = memSession{s: s, expires: now.Add(d)}
	m.armPruneLocked(d)
	return nil
}

// RestoreSession returns the session of pid with the events broadcast to
// its rooms after offset, or nil when the session expired, is unknown, or
// offset is not (or no longer) kept. As in Node, a session asked for with
// an unknown offset is kept (a later request with a known offset may still
// restore it) and an expired one is dropped. Unlike Node, a restored
// session is forgotten, so that it cannot be restored twice (two sockets
// with one id).
//
// The Socket.IO server uses TakeSession and MissedPackets instead (see
// SessionRestorer); RestoreSession does both under one lock.
func (m *Memory) RestoreSession(_ context.Context, pid, offset string) (*Session, error) {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	s, idx := m.takeLocked(pid, offset)
	if s == nil {
		return nil, nil
	}
	for _, mp := range m.missedLocked(s.Rooms, idx) {
		s.MissedPackets = append(s.MissedPackets, mp.Packet)
	}
	return s, nil
}

// TakeSession returns the session of pid, forgotten here, without its
// missed packets; nil as RestoreSession would return nil (an unknown
// offset leaves the session in place).
func (m *Memory) TakeSession(_ context.Context, pid, offset string) (*Session, error) {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	s, _ := m.takeLocked(pid, offset)
	return s, nil
}

// MissedPackets returns the events broadcast after offset to sockets in
// rooms, in offset order, or ErrOffsetGone when offset has been pruned.
func (m *Memory) MissedPackets(_ context.Context, rooms []Room, offset string) ([]MissedPacket, error) {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	idx := m.indexLocked(offset)
	if idx < 0 {
		return nil, ErrOffsetGone
	}
	return m.missedLocked(rooms, idx), nil
}

var _ SessionRestorer = (*Memory)(nil)

// takeLocked forgets the session of pid and returns a copy of it with the
// index of offset in m.packets, when both are known and the session has
// not expired.
func (m *Memory) takeLocked(pid, offset string) (*Session, int) {
	ms, ok := m.sessions[pid]
	if !ok {
		return nil, -1
	}
	if time.Now().After(ms.expires) {
		delete(m.sessions, pid)
		return nil, -1
	}
	idx := m.indexLocked(offset)
	if idx < 0 {
		return nil, -1
	}
	delete(m.sessions, pid)
	s := *ms.s
	s.MissedPackets = nil
	return &s, idx
}

// indexLocked returns the index of offset in m.packets, or -1. The
// packets are in offset order.
func (m *Memory) indexLocked(offset string) int {
	i, found := slices.BinarySearchFunc(m.packets, offset, func(sp storedPacket, off string) int {
		return CompareOffsets(sp.offset, off)
	})
	if !found {
		return -1
	}
	return i
}

// missedLocked returns the packets stored after index idx that reach a
// socket in rooms.
func (m *Memory) missedLocked(rooms []Room, idx int) []MissedPacket {
	var out []MissedPacket
	in := memberOf(rooms)
	for _, sp := range m.packets[idx+1:] {
		if includes(in, sp.opts) {
			out = append(out, MissedPacket{Offset: sp.offset, Packet: sp.packet})
		}
	}
	return out
}

// memberOf returns the membership test of a list of rooms: a scan for a
// few, a map lookup for many.
func memberOf(rooms []Room) func(Room) bool {
	if len(rooms) <= smallRooms {
		return func(r Room) bool { return slices.Contains(rooms, r) }
	}
	set := make(map[Room]struct{}, len(rooms))
	for _, r := range rooms {
		set[r] = struct{}{}
	}
	return func(r Room) bool { _, ok := set[r]; return ok }
}

// includes reports whether a socket in the rooms in accepts was a recipient
// of a broadcast with opts.
func includes(in func(Room) bool, opts BroadcastOptions) bool {
	match := len(opts.Rooms) == 0
	for _, r := range opts.Rooms {
		if in(r) {
			match = true
			break
		}
	}
	if !match {
		return false
	}
	for _, r := range opts.Except {
		if in(r) {
			return false
		}
	}
	return true
}

// store keeps a broadcast event for recovery and returns its offset ("" when
// it is not kept): the offset is appended as its last argument (before it
// is encoded, so every recipient sees it). Offsets are given under the
// lock, so m.packets is in offset order.
func (m *Memory) store(p *parser.Packet, opts BroadcastOptions, d time.Duration) string {
	if (p.Type != parser.Event && p.Type != parser.BinaryEvent) || p.HasID || opts.Flags.Volatile {
		return ""
	}
	size := 64 + len(p.Data) // 64: the entry itself, roughly
	for _, a := range p.Attachments {
		size += len(a)
	}
	for _, r := range opts.Rooms {
		size += len(r)
	}
	for _, r := range opts.Except {
		size += len(r)
	}
	kept := BroadcastOptions{Rooms: slices.Clone(opts.Rooms), Except: slices.Clone(opts.Except)}
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	if m.closed {
		return ""
	}
	m.offsetSeq++
	offset := strconv.FormatUint(m.offsetBase+m.offsetSeq, 36)
	data, err := parser.AppendArg(p.Data, offset)
	if err != nil {
		return ""
	}
	p.Data = data
	size += 2 * len(offset)
	now := time.Now()
	m.pruneLocked(now, d)
	m.packets = append(m.packets, storedPacket{
		offset:    offset,
		opts:      kept,
		packet:    p,
		emittedAt: now,
		size:      size,
	})
	m.storedBytes += size
	n := 0
	for m.storedBytes > m.maxBytes && n < len(m.packets)-1 {
		m.storedBytes -= m.packets[n].size
		n++
	}
	m.dropPacketsLocked(n)
	m.armPruneLocked(d)
	return offset
}

// dropPacketsLocked forgets the n oldest packets.
func (m *Memory) dropPacketsLocked(n int) {
	if n == 0 {
		return
	}
	clear(m.packets[:n]) // let the packets go
	m.packets = m.packets[n:]
	if len(m.packets) == 0 {
		m.packets, m.storedBytes = nil, 0
	}
}

// pruneLocked drops packets older than d, and expired sessions (at most
// once a second, as that walks every session).
func (m *Memory) pruneLocked(now time.Time, d time.Duration) {
	n := 0
	for n < len(m.packets) && now.Sub(m.packets[n].emittedAt) > d {
		m.storedBytes -= m.packets[n].size
		n++
	}
	m.dropPacketsLocked(n)
	if now.Sub(m.lastPrune) > time.Second {
		m.lastPrune = now
		for pid, ms := range m.sessions {
			if now.After(ms.expires) {
				delete(m.sessions, pid)
			}
		}
	}
}

// pruneInterval is the period of the prune timer for a recovery window d.
func pruneInterval(d time.Duration) time.Duration {
	return min(max(d/2, time.Second), time.Minute)
}

// armPruneLocked starts the prune timer unless it runs already. It runs
// only while something is stored, so an idle adapter has none.
func (m *Memory) armPruneLocked(d time.Duration) {
	if m.pruneTimer != nil || m.closed {
		return
	}
	m.pruneTimer = time.AfterFunc(pruneInterval(d), func() { m.pruneTick(d) })
}

func (m *Memory) pruneTick(d time.Duration) {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	m.pruneTimer = nil
	if m.closed {
		return
	}
	m.lastPrune = time.Time{} // sessions too
	m.pruneLocked(time.Now(), d)
	if len(m.packets) > 0 || len(m.sessions) > 0 {
		m.armPruneLocked(d)
	}
}

// Close stops the prune timer and forgets what was kept for recovery.
func (m *Memory) Close() error {
	m.sessMu.Lock()
	defer m.sessMu.Unlock()
	m.closed = true
	if m.pruneTimer != nil {
		m.pruneTimer.Stop()
		m.pruneTimer = nil
	}
	m.dropPacketsLocked(len(m.packets))
	clear(m.sessions)
	return nil
}
