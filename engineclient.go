package socketio

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/parser"
)

// engineClient is one Engine.IO connection and the namespace sockets
// multiplexed on it (Node's Client; not the Go client of package client).
type engineClient struct {
	srv  *Server
	conn *engineio.Conn
	dec  parser.PacketDecoder // used only by the engine's message handler

	mu           sync.Mutex
	sockets      nspSockets // by namespace name, pending ones included; nil while a CONNECT is looked up
	joined       bool
	closed       bool
	failed       bool // a protocol violation: what follows is ignored
	connectTimer *time.Timer

	// A packet waiting for its binary attachments.
	partial      bool        // one is in assembly (the engine's reader only)
	partialBytes int         // its bytes (the engine's reader only)
	partialTimer *time.Timer // under mu
	partialSeq   uint64      // under mu: changes when a packet ends, so a late timer knows
}

var (
	errInvalidState        = errors.New("socketio: packet for a namespace in the wrong state")
	errBinaryPacketTooBig  = fmt.Errorf("%w: binary packet over MaxBinaryPacketBytes", parser.ErrInvalidPacket)
	errBinaryPacketTimeout = fmt.Errorf("%w: binary attachments not received within BinaryPacketTimeout", parser.ErrInvalidPacket)
)

// nspSockets are a connection's sockets by namespace name. A connection
// has one namespace, or a few: a slice scanned in order costs an idle
// connection 24 bytes a socket, where a map costs about 250.
type nspSockets []nspSlot

type nspSlot struct {
	name string
	s    *Socket // nil while its CONNECT is looked up
}

func (l nspSockets) get(name string) (*Socket, bool) {
	for _, e := range l {
		if e.name == name {
			return e.s, true
		}
	}
	return nil, false
}

func (l *nspSockets) set(name string, s *Socket) {
	for i := range *l {
		if (*l)[i].name == name {
			(*l)[i].s = s
			return
		}
	}
	*l = append(*l, nspSlot{name, s})
}

func (l *nspSockets) del(name string) {
	for i, e := range *l {
		if e.name == name {
			*l = slices.Delete(*l, i, i+1)
			if len(*l) == 0 {
				*l = nil
			}
			return
		}
	}
}

func (s *Server) onEngineConn(conn *engineio.Conn) {
	cl := &engineClient{
		srv:  s,
		conn: conn,
		dec:  s.cfg.Parser.NewDecoder(),
	}
	cl.mu.Lock() // the timer may fire before the assignment is seen
	cl.connectTimer = time.AfterFunc(s.cfg.ConnectTimeout, cl.onConnectTimeout)
	cl.mu.Unlock()
	conn.OnMessage(cl.onMessage)
	conn.OnClose(cl.onClose)
	s.observeConn(conn)
}

func (cl *engineClient) onConnectTimeout() {
	cl.mu.Lock()
	joined := cl.joined
	cl.mu.Unlock()
	if !joined {
		cl.srv.cfg.Logger.Debug("socket.io: no namespace joined before the connect timeout", "sid", cl.conn.ID())
		_ = cl.conn.Close()
	}
}

// onMessage runs on the engine's reading goroutine, one message at a time.
func (cl *engineClient) onMessage(data []byte, binary bool) {
	cl.mu.Lock()
	failed := cl.failed
	cl.mu.Unlock()
	if failed {
		return
	}
	if !binary {
		// Text is made valid UTF-8 once, here, for both transports (Node
		// decodes it with replacement characters too).
		data = validUTF8(data)
	}
	p, err := cl.dec.Add(data, binary)
	size := cl.partialBytes + len(data) // the packet's bytes, attachments included
	if p != nil || err != nil {
		cl.endPartial()
	} else if !cl.growPartial(len(data)) {
		return
	}
	if err != nil {
		cl.fail(err)
		return
	}
	if p != nil {
		if o := cl.srv.obs.Load(); o != nil {
			for _, fn := range o.packetIn {
				fn(cl.conn, p, size)
			}
		}
		cl.onPacket(p)
	}
}

// growPartial accounts for a message of n bytes that went into a packet
// still waiting for attachments: past MaxBinaryPacketBytes the connection
// fails, and the first one starts the BinaryPacketTimeout clock.
func (cl *engineClient) growPartial(n int) bool {
	cfg := &cl.srv.cfg
	cl.partialBytes += n
	if cl.partialBytes > cfg.MaxBinaryPacketBytes {
		cl.dec.Reset() // let the attachments go now
		cl.partial = true
		cl.endPartial()
		cl.fail(errBinaryPacketTooBig)
		return false
	}
	if cl.partial {
		return true
	}
	cl.partial = true
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.closed {
		seq := cl.partialSeq
		cl.partialTimer = time.AfterFunc(cfg.BinaryPacketTimeout, func() {
			cl.srv.track.Run(func() {
				cl.mu.Lock()
				late := cl.partialSeq != seq || cl.closed || cl.failed
				cl.mu.Unlock()
				if !late {
					cl.fail(errBinaryPacketTimeout)
				}
			})
		})
	}
	return true
}

// endPartial forgets the packet in assembly: it is complete, or failed.
func (cl *engineClient) endPartial() {
	if !cl.partial {
		return
	}
	cl.partial, cl.partialBytes = false, 0
	cl.mu.Lock()
	cl.stopPartialLocked()
	cl.mu.Unlock()
}

func (cl *engineClient) stopPartialLocked() {
	if cl.partialTimer != nil {
		cl.partialTimer.Stop()
		cl.partialTimer = nil
		cl.partialSeq++ // a timer that fires now is late
	}
}

// fail closes the whole connection after a protocol violation: its sockets
// disconnect at once with "parse error", later packets are ignored, and the
// engine session ends in order, as Node's does: what is queued is still
// sent and a polling client gets the close packet with its next poll (so it
// sees "transport close", not a failed request).
func (cl *engineClient) fail(err error) {
	cl.srv.cfg.Logger.Debug("socket.io: closing connection on a bad packet", "sid", cl.conn.ID(), "err", err)
	cl.mu.Lock()
	cl.failed = true
	socks := cl.socketList()
	cl.mu.Unlock()
	for _, s := range socks {
		s.emitError(err)
		s.onClose(engineio.ReasonParseError)
	}
	cl.conn.End(engineio.ReasonParseError, err)
}

func (cl *engineClient) socketList() []*Socket {
	socks := make([]*Socket, 0, len(cl.sockets))
	for _, e := range cl.sockets {
		if s := e.s; s != nil { // nil: a CONNECT being looked up
			socks = append(socks, s)
		}
	}
	return socks
}

func (cl *engineClient) onPacket(p *parser.Packet) {
	if p.Namespace == "" {
		p.Namespace = "/"
	}
	if p.Type == parser.Connect {
		cl.connect(p)
		return
	}
	cl.mu.Lock()
	s, _ := cl.sockets.get(p.Namespace)
	cl.mu.Unlock()
	if s == nil {
		cl.fail(fmt.Errorf("%w: %s for namespace %q", errInvalidState, p.Type, p.Namespace))
		return
	}
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		s.onEvent(p)
	case parser.Ack, parser.BinaryAck:
		s.onAck(p)
	case parser.Disconnect:
		s.onClose(ReasonClientNamespaceDisconnect)
	default:
		cl.fail(fmt.Errorf("%w: %s from a client", errInvalidState, p.Type))
	}
}

func (cl *engineClient) connect(p *parser.Packet) {
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		return
	}
	if _, dup := cl.sockets.get(p.Namespace); dup {
		cl.mu.Unlock()
		cl.fail(fmt.Errorf("%w: second CONNECT for %q", errInvalidState, p.Namespace))
		return
	}
	// Reserve the namespace slot; the lookup below may create a dynamic
	// child and must not run under the client's lock.
	cl.sockets.set(p.Namespace, nil)
	cl.mu.Unlock()
	release := func() {
		cl.mu.Lock()
		if s, ok := cl.sockets.get(p.Namespace); ok && s == nil {
			cl.sockets.del(p.Namespace)
		}
		cl.mu.Unlock()
	}
	auth := map[string]any{}
	if len(p.Data) > 0 {
		if err := json.Unmarshal(p.Data, &auth); err != nil || auth == nil {
			release()
			cl.fail(fmt.Errorf("%w: CONNECT payload is not an object", parser.ErrInvalidPacket))
			return
		}
	}
	nsp, err := cl.srv.namespaceFor(p.Namespace, auth)
	if err != nil {
		// The namespace's adapter could not be created (logged by the
		// lookup); nothing is kept, a later CONNECT tries again.
		release()
		cl.sendConnectError(p.Namespace, &ConnectError{Message: errNamespaceUnavailable})
		return
	}
	if nsp == nil {
		release()
		cl.sendConnectError(p.Namespace, &ConnectError{Message: "Invalid namespace"})
		return
	}
	if nsp.wantsRestore(auth) {
		// Restoring a session may reach the adapter's broker (Redis
		// Streams): not on the connection's reader. The namespace's slot
		// stays reserved meanwhile (a client sends nothing else for it
		// before the CONNECT answer).
		if !cl.srv.track.Go(func() { cl.recoverSession(p, nsp, auth) }) {
			// The server is closing: nothing opens.
			release()
			nsp.release() // the lookup's reference
		}
		return
	}
	cl.open(p, nsp, nil)
}

// open creates the socket of a CONNECT, with the session restored for it
// (or nil), and queues its connection.
func (cl *engineClient) open(p *parser.Packet, nsp *Namespace, sess *adapter.Session) {
	cl.attach(p, nsp, newSocket(nsp, cl, p.Data, sess))
}

// attach registers a new socket with its connection and queues its
// connection; false when the connection closed meanwhile (s is released).
func (cl *engineClient) attach(p *parser.Packet, nsp *Namespace, s *Socket) bool {
	cl.mu.Lock()
	if cl.closed {
		cl.sockets.del(p.Namespace)
		cl.mu.Unlock()
		if r := s.recov; r != nil && r.joined {
			r.abandon()
			nsp.adapter.DelAll(s.id)
		}
		s.cancelContext()
		s.releaseNamespace()
		return false
	}
	cl.sockets.set(p.Namespace, s)
	cl.mu.Unlock()
	cl.srv.addSocket(s)
	s.enqueue(func() { nsp.connect(s) })
	return true
}

// joinedNamespace records a successful namespace connection, which clears
// the connect timeout.
func (cl *engineClient) joinedNamespace() {
	cl.mu.Lock()
	cl.joined = true
	t := cl.connectTimer
	cl.connectTimer = nil // an idle connection keeps no timer it no longer needs
	cl.mu.Unlock()
	if t != nil {
		t.Stop()
	}
}

// remove forgets s (its namespace connection ended or failed).
func (cl *engineClient) remove(s *Socket) {
	cl.mu.Lock()
	if cur, _ := cl.sockets.get(s.nsp.name); cur == s {
		cl.sockets.del(s.nsp.name)
	}
	cl.mu.Unlock()
}

func (cl *engineClient) onClose(reason string, cause error) {
	cl.mu.Lock()
	cl.closed = true
	cl.stopPartialLocked()
	socks := cl.socketList()
	t := cl.connectTimer
	cl.connectTimer = nil
	cl.mu.Unlock()
	if t != nil {
		t.Stop()
	}
	for _, s := range socks {
		s.onClose(reason)
	}
	if o := cl.srv.obs.Load(); o != nil {
		for _, fn := range o.connClosed {
			fn(cl.conn, reason, cause)
		}
	}
}

// writePacket encodes p and queues it on the connection.
func (cl *engineClient) writePacket(p *parser.Packet) error {
	enc, err := cl.srv.encode(p)
	if err != nil {
		return err
	}
	if o := cl.srv.obs.Load(); o != nil && len(o.packetOut) > 0 {
		size := packetSize(enc)
		for _, fn := range o.packetOut {
			fn(cl.conn, p, size)
		}
	}
	return cl.conn.Write(enc...)
}

func (cl *engineClient) sendConnectError(nsp string, ce *ConnectError) {
	data, _ := json.Marshal(ce)
	_ = cl.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: nsp, Data: data})
}

// disconnectAll disconnects every socket of the connection, then closes it
// (Node's socket.disconnect(true)).
func (cl *engineClient) disconnectAll() {
	cl.mu.Lock()
	socks := cl.socketList()
	cl.mu.Unlock()
	for _, s := range socks {
		s.disconnect()
	}
	_ = cl.conn.Close()
}

// encode turns a packet into Engine.IO messages, encoded once.
func (s *Server) encode(p *parser.Packet) ([]*engineio.Message, error) {
	if _, ok := s.cfg.Parser.(parser.JSONParser); ok {
		// The default parser, without its list of messages.
		text, atts, err := parser.Encode(p)
		if err != nil {
			return nil, err
		}
		out := make([]*engineio.Message, 1+len(atts))
		out[0] = engineio.NewMessage(text)
		for i, a := range atts {
			out[1+i] = engineio.NewBinaryMessage(a)
		}
		return out, nil
	}
	msgs, err := s.cfg.Parser.Encode(p)
	if err != nil {
		return nil, err
	}
	out := make([]*engineio.Message, len(msgs))
	for i, m := range msgs {
		if m.Binary {
			out[i] = engineio.NewBinaryMessage(m.Data)
		} else {
			out[i] = engineio.NewMessage(m.Data)
		}
	}
	return out, nil
}
