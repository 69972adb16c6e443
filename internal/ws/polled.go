package ws

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gosio/socketio/internal/gotrack"
)

// A polled connection is read by this package's own frame reader, driven by
// the process's readiness poller (see poller): while it is idle it holds no
// goroutine and no read buffer. Connections that cannot be polled (TLS, a
// platform without epoll, permessage-deflate negotiated) are read by the
// library's blocking read loop instead.

// readBufPool holds the read buffers of polled connections, lent for one
// read pass, and kept by a connection only while a frame is incomplete.
var readBufPool = sync.Pool{New: func() any { b := make([]byte, pooledReadSize); return &b }}

// pooledReadSize is the size of pooled read buffers: a frame up to this size
// (header included) needs no other memory.
const pooledReadSize = 4096

// readsPerPass bounds the reads of one pass, so that a busy connection
// cannot keep its goroutine forever; another pass reads the rest.
// (A variable for a test.)
var readsPerPass = 16

type pollConn struct {
	c     *Conn
	up    *Upgrader
	rc    syscall.RawConn
	poll  *poller
	track *gotrack.Tracker // runs the read passes

	busy  atomic.Bool // a goroutine reads the connection (or delivers its close)
	again atomic.Bool // reported readable while busy: read once more
	// hup: the peer has closed its side (or the socket failed), as
	// reported by the poller. It stays set: a pass then reads until the
	// end of the stream rather than stopping at a short read, since the
	// report of the close may have been taken by the pass that read the
	// last bytes before it, and no other comes.
	hup    atomic.Bool
	closed atomic.Bool
	err    error // why the connection ended; set once, before closed
	errMu  sync.Mutex
	once   sync.Once // OnClose

	// Read state, used only by the goroutine holding busy.
	buf    *[]byte // pooled buffer, or nil
	big    []byte  // own buffer for a frame larger than a pooled one
	n      int     // bytes of buf (or big) holding unparsed data
	frag   []byte  // the fragments of a message so far
	fragOp byte    // opcode of the fragmented message, 0 when none
	// delivered: this pass handed a message to the Handler
	delivered bool
}

// acceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func acceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key))
	h.Write([]byte("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// checkHandshake validates the WebSocket-specific headers of an upgrade
// request (IsUpgradeRequest has checked Upgrade and Connection).
func checkHandshake(r *http.Request) error {
	if r.Method != http.MethodGet {
		return errors.New("ws: handshake method is not GET")
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return errors.New("ws: unsupported Sec-WebSocket-Version")
	}
	k, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(k) != 16 {
		return errors.New("ws: bad Sec-WebSocket-Key")
	}
	return nil
}

// offersDeflate reports whether the client offers permessage-deflate.
func offersDeflate(r *http.Request) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Extensions") {
		if strings.Contains(strings.ToLower(v), "permessage-deflate") {
			return true
		}
	}
	return false
}

// startPolled completes the handshake on a hijacked connection that the
// poller can watch and returns the connection, not yet registered (Start
// does that). buffered holds bytes the HTTP server read past the request.
func (up *Upgrader) startPolled(nc net.Conn, rc syscall.RawConn, r *http.Request, extra []byte, buffered []byte) (*Conn, error) {
	var resp []byte
	resp = append(resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	resp = append(resp, acceptKey(r.Header.Get("Sec-WebSocket-Key"))...)
	resp = append(resp, "\r\n"...)
	resp = append(resp, extra...)
	resp = append(resp, "\r\n"...)
	_ = nc.SetDeadline(time.Time{})
	_ = nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(resp); err != nil {
		_ = nc.Close()
		return nil, err
	}
	_ = nc.SetWriteDeadline(time.Time{})
	c := &Conn{nc: nc, handshook: true}
	pc := &pollConn{c: c, up: up, rc: rc, poll: up.poll}
	if len(buffered) > 0 {
		pc.take(len(buffered))
		copy(pc.space(), buffered)
		pc.n = len(buffered)
	}
	c.pc = pc
	return c, nil
}

// start registers the connection with the poller. Each read pass runs on
// a goroutine of t.
func (pc *pollConn) start(t *gotrack.Tracker) {
	pc.track = t
	buffered := pc.n > 0 // read before the poller may start a pass
	var regErr error
	err := pc.rc.Control(func(fd uintptr) { regErr = pc.poll.add(int(fd), pc) })
	if err == nil {
		err = regErr
	}
	if err != nil {
		pc.shutdown(err)
		return
	}
	if buffered {
		pc.ready() // bytes that came with the handshake
	}
}

// ready is called by the poller when the connection is readable.
func (pc *pollConn) ready() {
	// The registration is edge-triggered: a report while a pass runs is
	// not repeated, so the pass is told to look again.
	pc.again.Store(true)
	if pc.busy.CompareAndSwap(false, true) {
		if !pc.track.GoThen(pc) {
			pc.busy.Store(false)
			pc.shutdown(net.ErrClosed)
		}
	}
}

// take makes sure the read buffer can hold size bytes in all.
func (pc *pollConn) take(size int) {
	switch {
	case size > pooledReadSize:
		if cap(pc.big) < size {
			nb := make([]byte, size)
			copy(nb, pc.data())
			pc.releaseBuf()
			pc.big = nb
		}
	case pc.buf == nil && pc.big == nil:
		pc.buf = readBufPool.Get().(*[]byte)
	}
}

// data returns the current buffer (whole capacity).
func (pc *pollConn) data() []byte {
	if pc.big != nil {
		return pc.big[:cap(pc.big)]
	}
	if pc.buf != nil {
		return *pc.buf
	}
	return nil
}

// space returns the free part of the buffer.
func (pc *pollConn) space() []byte { return pc.data()[pc.n:] }

func (pc *pollConn) releaseBuf() {
	if pc.buf != nil {
		readBufPool.Put(pc.buf)
		pc.buf = nil
	}
}

// RunThen runs a read pass for the tracker (gotrack.Then).
func (pc *pollConn) RunThen() func() { return pc.readPass() }

// readPass reads what the connection has and delivers its messages. It
// returns what the Handler asked to run after the pass (PassEnder), for
// the same goroutine to run uncounted.
func (pc *pollConn) readPass() (after func()) {
	pc.again.Store(false) // this pass reads what was reported so far
	if pc.n > 0 {
		pc.parse() // bytes that came with the handshake
	}
	more := true // the socket may hold more than was read
	for i := 0; i < readsPerPass && !pc.closed.Load(); i++ {
		pc.take(pooledReadSize)
		space := pc.space()
		n, err := pc.read(space)
		if err == errWouldBlock {
			more = false
			break
		}
		if err != nil {
			pc.shutdown(err)
			break
		}
		pc.n += n
		pc.parse()
		if n < len(space) && !pc.hup.Load() {
			// A short read took everything the socket had: stop here
			// rather than pay a read that finds nothing. What arrives
			// later is reported again (each arrival is an edge). The
			// end of the stream is not in a read that returns data,
			// so after a close report (hup) the pass reads on.
			more = false
			break
		}
	}
	if pc.n == 0 {
		pc.releaseBuf()
		pc.big = nil
	}
	if pc.delivered && pc.up.passEnd != nil {
		after = pc.up.passEnd.OnPassEnd(pc.c)
	}
	pc.delivered = false
	if more {
		pc.again.Store(true) // the pass stopped at its bound
	}
	pc.busy.Store(false)
	switch {
	case pc.closed.Load():
		if pc.busy.CompareAndSwap(false, true) {
			pc.deliverClose()
		}
	case pc.again.Load():
		// Reported during the pass (or cut short by the bound): no
		// new edge will come for it, so another pass reads it, on a
		// goroutine of its own while this one runs after.
		pc.ready()
	}
	return after
}

// read reads once without waiting: errWouldBlock when nothing is there,
// io.EOF when the peer has closed.
func (pc *pollConn) read(p []byte) (int, error) {
	op := getFDOp()
	op.p = p
	err := pc.rc.Read(op.read)
	n, rerr := op.n, op.err
	op.put()
	switch {
	case err != nil:
		return 0, err
	case rerr != nil:
		return 0, rerr // errWouldBlock when nothing is there
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// fdOp carries one raw read or write through a syscall.RawConn
// callback: its callbacks are made once per pooled fdOp, not once per call
// (a closure handed to RawConn escapes, so each would be an allocation).
type fdOp struct {
	p    []byte   // read into
	bufs [][]byte // write from
	n    int
	err  error

	read  func(fd uintptr) bool
	write func(fd uintptr) bool
}

var fdOps = sync.Pool{New: func() any {
	op := &fdOp{}
	op.read = func(fd uintptr) bool {
		op.n, op.err = readNow(fd, op.p)
		return true
	}
	op.write = func(fd uintptr) bool {
		op.n, op.err = writevNow(int(fd), op.bufs)
		return true
	}
	return op
}}

func getFDOp() *fdOp { return fdOps.Get().(*fdOp) }

// put returns op to the pool, holding no buffer.
func (op *fdOp) put() {
	op.p, op.bufs, op.n, op.err = nil, nil, 0, nil
	fdOps.Put(op)
}

// parse handles the complete frames at the start of the buffer and keeps the
// rest for the next read.
func (pc *pollConn) parse() {
	b := pc.data()[:pc.n]
	off := 0
	for off < len(b) && !pc.closed.Load() {
		f, n, need, err := parseFrame(b[off:], pc.up.maxMessage)
		if err == errIncomplete {
			if need > len(pc.data()) {
				// A frame larger than the buffer: move what is there to
				// a buffer that fits the whole frame.
				rest := b[off:]
				nb := make([]byte, need)
				copy(nb, rest)
				pc.releaseBuf()
				pc.big, pc.n = nb, len(rest)
				return
			}
			break
		}
		if err != nil {
			pc.fail(err)
			return
		}
		off += n
		pc.handle(f)
	}
	if off > 0 {
		pc.n = copy(pc.data(), b[off:])
		if pc.big != nil && pc.n <= pooledReadSize {
			// Back to a pooled buffer once the large frame is done.
			small := readBufPool.Get().(*[]byte)
			pc.n = copy(*small, pc.big[:pc.n])
			pc.big, pc.buf = nil, small
		}
	}
}

// handle acts on one frame.
func (pc *pollConn) handle(f frame) {
	switch f.opcode {
	case opText, opBinary:
		if pc.fragOp != 0 {
			pc.fail(protocolError("new message inside a fragmented one"))
			return
		}
		if !f.fin {
			pc.fragOp = f.opcode
			pc.frag = append([]byte(nil), f.payload...)
			return
		}
		pc.deliver(f.opcode, f.payload)
	case opContinuation:
		if pc.fragOp == 0 {
			pc.fail(protocolError("continuation without a message"))
			return
		}
		if len(pc.frag)+len(f.payload) > pc.up.maxMessage {
			pc.fail(&CloseError{Code: CloseTooBig, Reason: "message too big"})
			return
		}
		pc.frag = append(pc.frag, f.payload...)
		if f.fin {
			op, msg := pc.fragOp, pc.frag
			pc.fragOp, pc.frag = 0, nil
			pc.deliver(op, msg)
		}
	case opPing:
		_ = pc.c.writeRaw(appendControl(nil, opPong, f.payload))
	case opPong:
	case opClose:
		code, reason, err := closePayload(f.payload)
		if err != nil {
			pc.fail(err)
			return
		}
		// Answer with the same code, then end.
		_ = pc.c.writeRaw(appendClose(nil, code))
		pc.shutdown(&CloseError{Code: code, Reason: reason})
	}
}

func (pc *pollConn) deliver(op byte, msg []byte) {
	if op == opText && !utf8.Valid(msg) {
		pc.fail(&CloseError{Code: CloseInvalidData, Reason: "text message is not UTF-8"})
		return
	}
	pc.delivered = true
	pc.up.handler.OnMessage(pc.c, op == opBinary, msg)
}

// fail closes the connection after a protocol violation, telling the peer
// why.
func (pc *pollConn) fail(err error) {
	var ce *CloseError
	if errors.As(err, &ce) {
		_ = pc.c.writeRaw(appendClose(nil, ce.Code))
	}
	pc.shutdown(err)
}

// shutdown ends the connection (once): it leaves the poller, the network
// connection is closed, and OnClose is delivered by whichever goroutine
// holds the connection next (a read pass in progress, or this one).
func (pc *pollConn) shutdown(err error) {
	pc.errMu.Lock()
	if pc.closed.Load() {
		pc.errMu.Unlock()
		return
	}
	pc.err = err
	pc.closed.Store(true)
	pc.errMu.Unlock()
	_ = pc.rc.Control(func(fd uintptr) { pc.poll.del(int(fd), pc) })
	_ = pc.c.nc.Close()
	if pc.busy.CompareAndSwap(false, true) {
		pc.deliverClose()
	}
}

func (pc *pollConn) deliverClose() {
	pc.once.Do(func() {
		pc.releaseBuf()
		pc.big, pc.frag = nil, nil
		pc.errMu.Lock()
		err := pc.err
		pc.errMu.Unlock()
		pc.up.handler.OnClose(pc.c, err)
	})
}
