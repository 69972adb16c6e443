// Package ws is the small seam between the project and its WebSocket library
// (github.com/lxzan/gws). Everything else in the module talks to WebSocket
// through this package, so the library can be replaced in one place.
//
// Reading is readiness-based where it can be: on Linux, a plain TCP
// connection without permessage-deflate is watched by one epoll set for the
// whole process and read by this package's own frame reader, on a goroutine
// that exists only while the connection has data, with a read buffer lent
// from a pool for that time (see pollConn). An idle connection then holds
// neither a goroutine nor a buffer. TLS connections, other platforms and
// compressed connections are read by the library's blocking read loop.
//
// Server frames are written in two ways. With permessage-deflate off (the
// default) the frames are built here once (server frames are not masked, so the
// same bytes suit every recipient) and a batch of them is written with one
// writev call. With compression negotiated, each message goes through the
// library, which compresses it.
package ws

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gosio/socketio/internal/gotrack"
	"github.com/lxzan/gws"
)

// DefaultReadBufferSize is the per-connection read buffer when Options
// leaves it unset. It is small because every idle connection holds one;
// messages larger than the buffer are read straight into their own memory,
// so only bursts of small messages pay (with more read calls).
const DefaultReadBufferSize = 1024

// Options configures an Upgrader.
type Options struct {
	// DisablePoller reads every connection with the library's blocking
	// read loop (a goroutine and a read buffer per connection), as on
	// platforms without epoll.
	DisablePoller bool
	// MaxMessage is the largest message accepted from a peer; a larger one
	// closes the connection with status 1009.
	MaxMessage int
	// Compression enables permessage-deflate when the client offers it.
	Compression bool
	// ReadBufferSize is the size of the per-connection read buffer.
	ReadBufferSize int
}

// Handler receives the events of server connections. Calls for one
// connection come from its read loop, one at a time.
type Handler interface {
	// OnMessage is called for each complete data message. data is only valid
	// during the call.
	OnMessage(c *Conn, binary bool, data []byte)
	// OnClose is called once when the read loop ends.
	OnClose(c *Conn, err error)
}

// PassEnder is a Handler that wants to run work on a read pass's goroutine
// once the pass is over (polled connections only). OnPassEnd is called at
// the end of each pass that delivered messages, while no other pass of the
// connection can start; the function it returns, if any, runs on the same
// goroutine once the pass has ended, so that it may block: further
// messages of the connection are read and delivered meanwhile, by other
// passes.
type PassEnder interface {
	OnPassEnd(c *Conn) func()
}

// Upgrader accepts WebSocket connections.
type Upgrader struct {
	u           *gws.Upgrader
	handler     Handler
	passEnd     PassEnder // handler, when it is one
	bufSize     int
	maxMessage  int
	compression bool
	poll        *poller // nil: every connection has its read loop
}

// maxPolledMessage bounds messages of polled connections when Options sets
// no limit.
const maxPolledMessage = 1 << 30

// NewUpgrader returns an Upgrader that delivers events to h.
func NewUpgrader(h Handler, o Options) *Upgrader {
	up := &Upgrader{handler: h, bufSize: o.ReadBufferSize, maxMessage: o.MaxMessage, compression: o.Compression}
	up.passEnd, _ = h.(PassEnder)
	if up.maxMessage <= 0 {
		up.maxMessage = maxPolledMessage
	}
	if pollSupported && !o.DisablePoller {
		up.poll = getPoller()
	}
	if up.bufSize <= 0 {
		up.bufSize = DefaultReadBufferSize
	}
	opt := &gws.ServerOption{
		ReadMaxPayloadSize: o.MaxMessage,
		ReadBufferSize:     up.bufSize,
		CheckUtf8Enabled:   true,
		HandshakeTimeout:   10 * time.Second,
		NewSession:         func() gws.SessionStorage { return new(slot) },
		Recovery:           func(gws.Logger) {},
	}
	if o.Compression {
		opt.PermessageDeflate = gws.PermessageDeflate{
			Enabled:               true,
			ServerContextTakeover: false,
			ClientContextTakeover: false,
			Threshold:             512,
		}
	}
	up.u = gws.NewUpgrader(eventAdapter{up}, opt)
	return up
}

// IsUpgradeRequest reports whether r asks for a WebSocket upgrade.
func IsUpgradeRequest(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		headerHasToken(r.Header.Get("Connection"), "upgrade")
}

func headerHasToken(v, tok string) bool {
	for part := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(part), tok) {
			return true
		}
	}
	return false
}

// ErrHijack is returned when the ResponseWriter cannot be hijacked.
var ErrHijack = errors.New("ws: the http.ResponseWriter does not support hijacking")

// Upgrade completes the WebSocket handshake on w, adding header to the 101
// response, and returns the connection. The caller must run ReadLoop.
// Hijacking goes through http.NewResponseController, so wrapped
// ResponseWriters that implement Unwrap work.
func (up *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, header http.Header) (*Conn, error) {
	polled := up.poll != nil && !(up.compression && offersDeflate(r))
	if polled {
		if err := checkHandshake(r); err != nil {
			w.Header().Set("Sec-WebSocket-Version", "13")
			http.Error(w, "Bad Request", http.StatusBadRequest)
			return nil, err
		}
	}
	rc := http.NewResponseController(w)
	nc, brw, err := rc.Hijack()
	if err != nil {
		if errors.Is(err, http.ErrNotSupported) {
			return nil, ErrHijack
		}
		return nil, err
	}
	var extra []byte
	if len(header) > 0 {
		var b bytes.Buffer
		for k, vs := range header {
			for _, v := range vs {
				b.WriteString(k)
				b.WriteString(": ")
				b.WriteString(v)
				b.WriteString("\r\n")
			}
		}
		extra = b.Bytes()
	}
	if sc, ok := nc.(syscall.Conn); ok && polled {
		if raw, err := sc.SyscallConn(); err == nil {
			var buffered []byte
			if k := brw.Reader.Buffered(); k > 0 {
				buffered, _ = brw.Reader.Peek(k)
			}
			return up.startPolled(nc, raw, r, extra, buffered)
		}
	}
	c := &Conn{nc: nc, extra: extra}
	var br *bufio.Reader
	if brw.Reader.Buffered() > 0 {
		br = brw.Reader
	} else {
		br = bufio.NewReaderSize(c, up.bufSize)
	}
	// The first write on c is gws's 101 response; c splices the extra
	// headers into it.
	gc, err := up.u.UpgradeFromConn(c, br, r)
	if err != nil {
		return nil, err
	}
	c.gc = gc
	gc.Session().Store("", c)
	return c, nil
}

// Conn is a server WebSocket connection. Its write methods are safe for
// concurrent use.
type Conn struct {
	nc         net.Conn
	gc         *gws.Conn  // nil when polled
	pc         *pollConn  // nil when read by the library's loop
	wmu        sync.Mutex // serialises writes to nc (ours and the library's)
	extra      []byte     // headers to splice into the 101 response
	handshook  bool       // the 101 response has been written
	compressed bool
	deadlineAt time.Time // when the write deadline was last set (under wmu)
	pending    [][]byte  // what TryWriteFrames left unwritten (under wmu)
	// Value is free for the owner of the connection.
	Value any
}

// Read implements io.Reader for the buffered reader of the library.
func (c *Conn) Read(p []byte) (int, error) { return c.nc.Read(p) }

// Write serialises every write made by the library with ours. The first
// write is the 101 response, into which the extra headers are spliced.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if !c.handshook {
		c.handshook = true
		if !bytes.HasPrefix(p, []byte("HTTP/1.1 101")) || !bytes.HasSuffix(p, []byte("\r\n\r\n")) {
			return c.nc.Write(p)
		}
		// The library does not expose whether it negotiated compression;
		// its response header says so.
		c.compressed = bytes.Contains(p, []byte("permessage-deflate"))
		if extra := c.extra; extra != nil {
			c.extra = nil
			head := p[:len(p)-2]
			buf := make([]byte, 0, len(p)+len(extra))
			buf = append(buf, head...)
			buf = append(buf, extra...)
			buf = append(buf, "\r\n"...)
			if _, err := c.nc.Write(buf); err != nil {
				return 0, err
			}
			return len(p), nil
		}
	}
	return c.nc.Write(p)
}

// The remaining net.Conn methods pass through.

// Close closes the network connection.
func (c *Conn) Close() error { return c.nc.Close() }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// SetDeadline sets the read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.nc.SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.nc.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.nc.SetWriteDeadline(t) }

// Start begins delivering the connection's messages to the Handler, and its
// end to OnClose, on goroutines of t: for a polled connection, each read
// pass runs on one while data is there (and what a PassEnder asks for
// after the pass runs on that goroutine, not counted by t); otherwise one
// goroutine runs the library's read loop for the connection's life.
func (c *Conn) Start(t *gotrack.Tracker) {
	if c.pc != nil {
		c.pc.start(t)
		return
	}
	if !t.Go(c.gc.ReadLoop) {
		_ = c.nc.Close()
	}
}

// Polled reports whether the connection is read through the readiness
// poller (no goroutine while idle).
func (c *Conn) Polled() bool { return c.pc != nil }

// writeRaw writes frame bytes built by the caller, serialised with every
// other write.
func (c *Conn) writeRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.flushPendingLocked(); err != nil {
		return err
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.deadlineAt = time.Time{}
	_, err := c.nc.Write(b)
	c.clearPolledDeadlineLocked()
	return err
}

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.compressed }

// Frame is one message ready to be written: Payload is the message and, when
// compression is off, Wire holds the complete frame bytes.
type Frame struct {
	Binary  bool
	Payload []byte
	Wire    []byte
}

// WriteFrames writes the frames in order, waiting for the peer when its
// socket buffer is full (at most the write timeout). Without compression
// they go out in a single writev call; on a polled connection that call
// does not wait, and only what it could not write is written blocking.
func (c *Conn) WriteFrames(frames []Frame) error {
	if c.pc != nil && !c.compressed {
		done, err := c.TryWriteFrames(frames)
		if err != nil || done {
			return err
		}
		return c.FlushPending()
	}
	if c.compressed {
		for _, f := range frames {
			op := gws.OpcodeText
			if f.Binary {
				op = gws.OpcodeBinary
			}
			if err := c.gc.WriteMessage(op, f.Payload); err != nil {
				return err
			}
		}
		return nil
	}
	bp := buffersPool.Get().(*net.Buffers)
	bufs := (*bp)[:0]
	for _, f := range frames {
		if f.Wire == nil {
			f.Wire = AppendFrame(nil, f.Binary, f.Payload)
		}
		bufs = append(bufs, f.Wire)
	}
	all := bufs // WriteTo consumes bufs; all keeps the array for reuse
	c.wmu.Lock()
	if err := c.flushPendingLocked(); err != nil {
		c.wmu.Unlock()
		return err
	}
	c.refreshDeadlineLocked()
	_, err := bufs.WriteTo(c.nc)
	c.wmu.Unlock()
	clear(all) // drop the references to the frames
	*bp = all[:0]
	buffersPool.Put(bp)
	return err
}

// TryWriteFrames writes the frames without waiting when the connection is
// polled: it reports true when everything went out. When the peer's socket
// buffer is full, what is left is kept and false is returned; the caller
// must then call FlushPending (which waits) before writing again. Other
// connections write with WriteFrames and report true.
func (c *Conn) TryWriteFrames(frames []Frame) (bool, error) {
	if c.pc == nil || c.compressed {
		return true, c.WriteFrames(frames)
	}
	bp := buffersPool.Get().(*net.Buffers)
	bufs := (*bp)[:0]
	want := 0
	for _, f := range frames {
		if f.Wire == nil {
			f.Wire = AppendFrame(nil, f.Binary, f.Payload)
		}
		bufs = append(bufs, f.Wire)
		want += len(f.Wire)
	}
	c.wmu.Lock()
	if len(c.pending) > 0 {
		// Still behind: queue after what is left, in order.
		c.pending = append(c.pending, bufs...)
		c.wmu.Unlock()
		clear(bufs)
		*bp = bufs[:0]
		buffersPool.Put(bp)
		return false, nil
	}
	// The write does not wait. (The runtime would refuse it once a
	// deadline set by a blocking write had passed: a polled connection's
	// blocking writes clear theirs when done, so none is set here.)
	op := getFDOp()
	op.bufs = bufs
	err := c.pc.rc.Write(op.write)
	n := op.n
	if err == nil {
		err = op.err
	}
	op.put()
	done := err == nil && n == want
	if err == nil && !done {
		// Keep the unwritten part; the frames' bytes are immutable.
		for _, b := range bufs {
			if n >= len(b) {
				n -= len(b)
				continue
			}
			c.pending = append(c.pending, b[n:])
			n = 0
		}
	}
	c.wmu.Unlock()
	clear(bufs)
	*bp = bufs[:0]
	buffersPool.Put(bp)
	return done, err
}

// FlushPending writes what TryWriteFrames could not, waiting for the peer
// (at most the write timeout).
func (c *Conn) FlushPending() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.flushPendingLocked()
}

// flushPendingLocked writes what a TryWriteFrames left, before any other
// write, so that frames never interleave. Called with wmu held.
func (c *Conn) flushPendingLocked() error {
	if len(c.pending) == 0 {
		return nil
	}
	_ = c.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	c.deadlineAt = time.Now()
	bufs := net.Buffers(c.pending)
	_, err := bufs.WriteTo(c.nc)
	c.pending = nil
	c.clearPolledDeadlineLocked()
	return err
}

// clearPolledDeadlineLocked ends the write deadline of a blocking write on
// a polled connection, whose other writes do not wait and must not find
// a deadline passed; an idle connection then holds no runtime timer
// either. Called with wmu held.
func (c *Conn) clearPolledDeadlineLocked() {
	if c.pc != nil {
		_ = c.nc.SetWriteDeadline(time.Time{})
		c.deadlineAt = time.Time{}
	}
}

// refreshDeadlineLocked keeps the write deadline of a connection read by
// its own goroutine (not polled) at least writeTimeout/2 ahead.
// Refreshing costs a timer update, so it happens only when less than half
// of writeTimeout is left. Called with wmu held.
func (c *Conn) refreshDeadlineLocked() {
	if now := time.Now(); now.Sub(c.deadlineAt) > writeTimeout/2 {
		_ = c.nc.SetWriteDeadline(now.Add(writeTimeout))
		c.deadlineAt = now
	}
}

// buffersPool recycles the writev vectors of WriteFrames.
var buffersPool = sync.Pool{New: func() any { return new(net.Buffers) }}

// writeTimeout bounds a batched write; a peer that reads nothing for this
// long is treated as gone.
const writeTimeout = 30 * time.Second

// CloseWith sends a close frame with the status code (waiting at most a
// second for it to go out) and closes the connection. It is safe to call more
// than once.
func (c *Conn) CloseWith(code uint16) {
	if c.pc != nil {
		if !c.pc.closed.Load() {
			// A write blocked on a peer that reads nothing returns
			// within a second.
			_ = c.writeRaw(appendClose(nil, code))
		}
		c.pc.shutdown(net.ErrClosed)
		return
	}
	// A write blocked on a peer that reads nothing returns within a second.
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_ = c.gc.WriteClose(code, nil)
	_ = c.nc.Close()
}

// CloseNow closes the connection without a close frame; a blocked write
// returns at once.
func (c *Conn) CloseNow() {
	if c.pc != nil {
		c.pc.shutdown(net.ErrClosed)
		return
	}
	_ = c.nc.Close()
}

// AppendFrame appends a complete, unmasked, final server frame holding
// payload to dst.
func AppendFrame(dst []byte, binaryMsg bool, payload []byte) []byte {
	return append(AppendFrameHeader(dst, binaryMsg, len(payload)), payload...)
}

// AppendFrameHeader appends the header of an unmasked final frame of n
// payload bytes (text, or binary with binaryMsg); at most
// MaxFrameHeader bytes.
func AppendFrameHeader(dst []byte, binaryMsg bool, n int) []byte {
	op := byte(0x1)
	if binaryMsg {
		op = 0x2
	}
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return dst
}

// MaxFrameHeader is the longest header AppendFrameHeader writes.
const MaxFrameHeader = 10

type eventAdapter struct{ up *Upgrader }

func connOf(gc *gws.Conn) *Conn {
	v, _ := gc.Session().Load("")
	c, _ := v.(*Conn)
	return c
}

func (e eventAdapter) OnOpen(*gws.Conn) {}

func (e eventAdapter) OnClose(gc *gws.Conn, err error) {
	if c := connOf(gc); c != nil {
		e.up.handler.OnClose(c, err)
	}
}

func (e eventAdapter) OnPing(gc *gws.Conn, payload []byte) { _ = gc.WritePong(payload) }

func (e eventAdapter) OnPong(*gws.Conn, []byte) {}

func (e eventAdapter) OnMessage(gc *gws.Conn, m *gws.Message) {
	defer m.Close()
	if c := connOf(gc); c != nil {
		e.up.handler.OnMessage(c, m.Opcode == gws.OpcodeBinary, m.Bytes())
	}
}

// slot is a one-value session storage: gws asks every connection for one, and
// a map per connection would cost memory for nothing.
type slot struct{ v any }

func (s *slot) Len() int {
	if s.v == nil {
		return 0
	}
	return 1
}
func (s *slot) Load(string) (any, bool) { return s.v, s.v != nil }
func (s *slot) Delete(string)           { s.v = nil }
func (s *slot) Store(_ string, v any)   { s.v = v }
func (s *slot) Range(f func(string, any) bool) {
	if s.v != nil {
		f("", s.v)
	}
}

// IsFailure reports whether the error that ended a read loop is a failure
// (protocol violation, oversized message, network error) rather than an
// orderly close by the peer.
func IsFailure(err error) bool {
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return false
	}
	var ce *gws.CloseError
	if errors.As(err, &ce) {
		return ce.Code != 1000 && ce.Code != 1001 && ce.Code != 1005 && ce.Code != 0
	}
	var own *CloseError
	if errors.As(err, &own) {
		return own.Code != CloseNormal && own.Code != CloseGoingAway && own.Code != CloseNoStatus && own.Code != 0
	}
	return true
}
