package socketio

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/parser"
)

// Connection state recovery without a lost broadcast.
//
// A client that comes back with its pid and offset gets its session and
// the packets broadcast since offset. Read the missed packets first and
// join the rooms afterwards (as Node's adapters do) and a broadcast
// published in between reaches neither: with a broker (Redis Streams,
// JetStream) that window is a network round trip or more. With an adapter
// that implements adapter.SessionRestorer the order is the other way
// round:
//
//  1. the session is taken out of the store (TakeSession);
//  2. the socket joins its rooms: from now on it gets their broadcasts,
//     held while it catches up (recovery.hold);
//  3. the missed packets are read (MissedPackets);
//  4. on the socket's goroutine, after the middlewares if they run, the
//     missed packets and the held ones are written in offset order, each
//     offset once, then the socket goes live and the CONNECT reply is sent.
//
// A broadcast is now stored before the read (it is a missed packet) or
// after (it reaches the socket live, since its rooms were joined first),
// or both (then the two copies have one offset and one is dropped). Live
// packets are told apart by the offset the adapter delivers them with
// (adapter.BroadcastFlags.Offset): one whose offset is after the client's
// and not after the last missed packet's was stored before the read, so
// it is among the missed packets already; it is dropped, while catching
// up and afterwards (the broker may deliver it late). Live packets without
// an offset (with an ack, or whose store failed) are written after the
// ordered ones, in arrival order; volatile ones are dropped while the
// socket catches up. A socket whose held or missed packets overflow its
// connection (engineio.Config.MaxBufferedBytes) is closed with "transport
// error", and its session is not stored again: the client would come back
// for the same packets.

// errCatchUpOverflow closes a connection whose recovering socket got more
// live broadcasts while catching up than its connection may queue.
var errCatchUpOverflow = errors.New("socketio: too many broadcasts while recovering the session")

// recovery is what a socket that recovered a session needs until it is
// live: the rooms to join and the missed packets to write (connect), and,
// when it joined its rooms before its missed packets were read, the live
// packets held meanwhile and the offsets that tell duplicates.
type recovery struct {
	rooms  []string // the session's rooms (joined by connect unless joined)
	missed []adapter.MissedPacket
	joined bool // the rooms were joined before missed was read; live packets are held
	// Live packets whose offset is in (from, last] are among the missed
	// packets: from is the client's offset, last the last missed one's
	// ("" when none was missed: nothing to drop). Set before the socket
	// is registered, read-only afterwards.
	from, last string

	mu        sync.Mutex
	holding   bool // live packets are held (joined, not yet caught up)
	held      []heldPacket
	heldBytes int
	maxBytes  int  // bound of heldBytes: the connection's MaxBufferedBytes
	overflow  bool // held or missed packets overflowed the connection: it is closing
}

type heldPacket struct {
	p      *parser.Packet
	enc    adapter.Encoded
	offset string
}

// dup reports whether a live packet with offset is among the missed
// packets.
func (r *recovery) dup(offset string) bool {
	return offset != "" && r.last != "" &&
		adapter.CompareOffsets(offset, r.from) > 0 && adapter.CompareOffsets(offset, r.last) <= 0
}

// hold keeps a live packet for a socket that catches up and reports
// whether it took it (false once the socket caught up or closed: the
// caller writes the packet, or not, as for any socket).
func (r *recovery) hold(s *Socket, p *parser.Packet, enc adapter.Encoded, flags adapter.BroadcastFlags) bool {
	r.mu.Lock()
	if !r.holding {
		r.mu.Unlock()
		return false
	}
	if flags.Volatile || r.overflow {
		r.mu.Unlock()
		return true // dropped, as for a busy transport
	}
	size := 0
	for _, m := range enc {
		size += len(m.Data()) + 1
	}
	if r.heldBytes+size > r.maxBytes && len(r.held) > 0 {
		r.overflow, r.held, r.heldBytes = true, nil, 0
		r.mu.Unlock()
		s.nsp.srv.cfg.Logger.Warn("socket.io: a recovering socket got more broadcasts than its connection may queue; closing",
			"id", s.id, "nsp", s.nsp.name)
		s.ec.conn.Abort(engineio.ReasonTransportError, errCatchUpOverflow)
		return true
	}
	r.held = append(r.held, heldPacket{p: p, enc: enc, offset: flags.Offset})
	r.heldBytes += size
	r.mu.Unlock()
	return true
}

// overflowed reports whether the socket's connection was closed because
// its held or missed packets did not fit: its session is not stored again
// (the client would come back for the same packets, and fail the same
// way).
func (r *recovery) overflowed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.overflow
}

// markOverflow records that a write while catching up overflowed the
// connection.
func (r *recovery) markOverflow(err error) bool {
	if !errors.Is(err, engineio.ErrBufferFull) {
		return false
	}
	r.mu.Lock()
	r.overflow = true
	r.mu.Unlock()
	return true
}

// abandon drops the held packets of a socket that will not connect.
func (r *recovery) abandon() {
	r.mu.Lock()
	r.holding, r.held, r.heldBytes = false, nil, 0
	r.mu.Unlock()
}

// catchUp writes the missed packets of a recovered socket that has just
// connected, before its CONNECT reply: for a socket that joined its rooms
// first, merged with the live packets held meanwhile, in offset order and
// each offset once; then the socket goes live. It runs on the socket's
// goroutine.
//
// Writes happen without r.mu held (a write that overflows the connection
// closes it at once, and the close abandons r): the packets held while a
// batch is written make the next batch, and the socket goes live under
// r.mu once there is none left, so nothing held is written after a live
// packet.
func (s *Socket) catchUp(r *recovery) {
	missed := r.missed
	r.missed = nil
	if !r.joined {
		for _, mp := range missed {
			if r.markOverflow(s.writeMissed(mp.Packet)) {
				return
			}
		}
		return
	}
	var fns []func(string, Args)
	s.mu.Lock()
	if s.hooks != nil {
		fns = s.hooks.anyOut
	}
	s.mu.Unlock()
	for {
		r.mu.Lock()
		if !r.holding {
			r.mu.Unlock()
			return // closed meanwhile
		}
		held := r.held
		r.held, r.heldBytes = nil, 0
		if len(held) == 0 && missed == nil {
			r.holding = false
			s.mu.Lock()
			if s.state == stateConnected {
				s.live.Store(true)
			}
			s.mu.Unlock()
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		if r.markOverflow(s.writeCatchUp(r, missed, held, fns)) {
			return
		}
		missed = nil
	}
}

// writeCatchUp writes missed and held packets: those with an offset in
// offset order, each once, without the held copies of missed ones; then
// those without, in arrival order. It stops at the first write error.
func (s *Socket) writeCatchUp(r *recovery, missed []adapter.MissedPacket, held []heldPacket, fns []func(string, Args)) error {
	type item struct {
		offset string
		missed *parser.Packet
		held   *heldPacket
	}
	items := make([]item, 0, len(missed)+len(held))
	for _, mp := range missed {
		items = append(items, item{offset: mp.Offset, missed: mp.Packet})
	}
	var plain []*heldPacket
	for i := range held {
		h := &held[i]
		switch {
		case h.offset == "":
			plain = append(plain, h)
		case !r.dup(h.offset):
			items = append(items, item{offset: h.offset, held: h})
		}
	}
	slices.SortStableFunc(items, func(a, b item) int { return adapter.CompareOffsets(a.offset, b.offset) })
	writeHeld := func(h *heldPacket) error {
		if len(fns) > 0 {
			s.notifyOutgoing(h.p, fns)
		}
		return s.ec.conn.Write(h.enc...)
	}
	for i, it := range items {
		if i > 0 && it.offset == items[i-1].offset {
			continue // one packet, missed and live
		}
		var err error
		if it.missed != nil {
			err = s.writeMissed(it.missed)
		} else {
			err = writeHeld(it.held)
		}
		if err != nil {
			return err
		}
	}
	for _, h := range plain {
		if err := writeHeld(h); err != nil {
			return err
		}
	}
	return nil
}

// writeMissed writes a missed packet (stored without namespace, or with
// another server's).
func (s *Socket) writeMissed(p *parser.Packet) error {
	mp := *p
	mp.Namespace = s.nsp.name
	return s.ec.writePacket(&mp)
}

// recoverSession runs off the connection's reader for a CONNECT that asks
// to recover a session: it takes the session, joins the socket to its
// rooms, reads the missed packets, then opens the socket (with a fresh
// session when any step fails). An adapter without SessionRestorer gets
// one RestoreSession call, and the rooms are joined by connect.
func (cl *engineClient) recoverSession(p *parser.Packet, nsp *Namespace, auth map[string]any) {
	sr, ok := nsp.adapter.(adapter.SessionRestorer)
	if !ok {
		cl.open(p, nsp, nsp.restore(auth))
		return
	}
	pid, _ := auth["pid"].(string)
	offset, _ := auth["offset"].(string)
	log := nsp.srv.cfg.Logger
	ctx := context.Background()
	sess, err := sr.TakeSession(ctx, pid, offset)
	if err != nil {
		log.Warn("socket.io: session recovery failed", "err", err)
	}
	if sess == nil {
		cl.open(p, nsp, nil)
		return
	}
	sess.MissedPackets = nil
	s := newSocket(nsp, cl, p.Data, sess)
	r := s.recov
	r.joined, r.holding, r.from = true, true, offset
	r.maxBytes = nsp.srv.engine.Config().MaxBufferedBytes
	nsp.adapter.AddAll(s.handle(), append([]string{s.id}, sess.Rooms...)...)
	missed, err := sr.MissedPackets(ctx, sess.Rooms, offset)
	if err != nil {
		// The session is taken but its missed packets cannot be read: a
		// fresh session, as when the session is gone.
		log.Warn("socket.io: session recovery failed", "err", err)
		r.abandon()
		nsp.adapter.DelAll(s.id)
		s.nspRef.Store(false) // the lookup's reference goes to the fresh socket
		s.cancelContext()
		cl.open(p, nsp, nil)
		return
	}
	r.missed = missed
	for _, mp := range missed {
		if r.last == "" || adapter.CompareOffsets(mp.Offset, r.last) > 0 {
			r.last = mp.Offset
		}
	}
	cl.attach(p, nsp, s)
}
