package ws

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/gotrack"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is a Handler that keeps what it saw.
type recorder struct {
	mu     sync.Mutex
	msgs   []string // "t:" or "b:" + data
	closed chan error
	conns  chan *Conn
}

func newRecorder() *recorder {
	return &recorder{closed: make(chan error, 1024), conns: make(chan *Conn, 1024)}
}

func (r *recorder) OnMessage(c *Conn, binary bool, data []byte) {
	kind := "t:"
	if binary {
		kind = "b:"
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, kind+string(data))
	r.mu.Unlock()
	if string(data) == "echo" {
		_ = c.WriteFrames([]Frame{{Payload: []byte("echo")}})
	}
}

func (r *recorder) OnClose(_ *Conn, err error) { r.closed <- err }

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// serve starts an HTTP server whose every request becomes a WebSocket read
// by up.
func serve(t *testing.T, rec *recorder, o Options) (string, *gotrack.Tracker) {
	t.Helper()
	up := NewUpgrader(rec, o)
	wg := new(gotrack.Tracker)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		rec.conns <- c
		c.Start(wg)
	}))
	t.Cleanup(func() {
		hs.Close()
		wg.Wait()
	})
	return hs.Listener.Addr().String(), wg
}

// clientFrame builds a masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	n := len(payload)
	switch {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key...)
	start := len(out)
	out = append(out, payload...)
	mask(out[start:], key)
	return out
}

// dialRaw opens a WebSocket by hand; extra is written right after the
// handshake request, in the same write.
func dialRaw(t testing.TB, addr string, extra []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), extra...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("handshake: %d %v", resp.StatusCode, resp.Header)
	}
	return nc, br
}

// readServerFrame reads one unmasked server frame.
func readServerFrame(t *testing.T, nc net.Conn, br *bufio.Reader) (op byte, payload []byte) {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, _ = io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, _ = io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(br, payload); err != nil {
		t.Fatal(err)
	}
	return h[0] & 0x0f, payload
}

func waitMessages(t *testing.T, rec *recorder, n int) []string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := rec.messages(); len(m) >= n {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("got %q, want %d messages", rec.messages(), n)
	return nil
}

func waitClose(t *testing.T, rec *recorder) error {
	t.Helper()
	select {
	case err := <-rec.closed:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
		return nil
	}
}

func TestPolledMessages(t *testing.T) {
	if !pollSupported {
		t.Skip("no readiness poller on this platform; the library's read loop is used")
	}
	big := bytes.Repeat([]byte("0123456789"), 30000) // 300 kB, many reads
	tests := []struct {
		name   string
		extra  []byte   // sent with the handshake request
		frames [][]byte // written one by one
		split  int      // write frames in chunks of this many bytes (0: whole)
		want   []string
		pongs  []string // pong payloads expected, in order
	}{
		{name: "text and binary", frames: [][]byte{clientFrame(true, opText, []byte("héllo")), clientFrame(true, opBinary, []byte{0, 1, 2})},
			want: []string{"t:héllo", "b:\x00\x01\x02"}},
		{name: "bytes with the handshake", extra: clientFrame(true, opText, []byte("early")), want: []string{"t:early"}},
		{name: "two frames in one write", frames: [][]byte{append(clientFrame(true, opText, []byte("a")), clientFrame(true, opText, []byte("b"))...)},
			want: []string{"t:a", "t:b"}},
		{name: "fragments with a ping between", frames: [][]byte{
			clientFrame(false, opText, []byte("frag")), clientFrame(true, opPing, []byte("p1")),
			clientFrame(false, opContinuation, []byte("men")), clientFrame(true, opContinuation, []byte("ted")),
		}, want: []string{"t:fragmented"}, pongs: []string{"p1"}},
		{name: "large message byte by byte chunks", frames: [][]byte{clientFrame(true, opBinary, big), clientFrame(true, opText, []byte("after"))},
			split: 1000, want: []string{"b:" + string(big), "t:after"}},
		{name: "empty messages", frames: [][]byte{clientFrame(true, opText, nil), clientFrame(true, opBinary, nil)}, want: []string{"t:", "b:"}},
		{name: "16-bit length", frames: [][]byte{clientFrame(true, opText, bytes.Repeat([]byte("x"), 300))}, want: []string{"t:" + strings.Repeat("x", 300)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			addr, _ := serve(t, rec, Options{MaxMessage: 1 << 20})
			nc, br := dialRaw(t, addr, tt.extra)
			for _, f := range tt.frames {
				step := tt.split
				if step == 0 {
					step = len(f)
				}
				for len(f) > 0 {
					k := min(step, len(f))
					if _, err := nc.Write(f[:k]); err != nil {
						t.Fatal(err)
					}
					f = f[k:]
				}
			}
			for _, p := range tt.pongs {
				if op, got := readServerFrame(t, nc, br); op != opPong || string(got) != p {
					t.Fatalf("got frame %x %q, want pong %q", op, got, p)
				}
			}
			got := waitMessages(t, rec, len(tt.want))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("messages %.80q, want %.80q", got, tt.want)
			}
			if c := <-rec.conns; !c.Polled() {
				t.Fatal("connection not polled")
			}
			// An orderly close: the close frame is echoed.
			_, _ = nc.Write(clientFrame(true, opClose, []byte{0x03, 0xe8}))
			if op, p := readServerFrame(t, nc, br); op != opClose || !bytes.Equal(p, []byte{0x03, 0xe8}) {
				t.Fatalf("close answer %x %x", op, p)
			}
			if err := waitClose(t, rec); IsFailure(err) {
				t.Fatalf("orderly close reported as a failure: %v", err)
			}
		})
	}
}

// TestPolledPassBound: a pass that stops at its bound (readsPerPass) has
// another pass read the rest. The reports are edge-triggered, so no new
// one comes for bytes that were already there: here all of them are in
// the socket before the first pass, and the bound is one read.
func TestPolledPassBound(t *testing.T) {
	if !pollSupported {
		t.Skip("no readiness poller on this platform; the library's read loop is used")
	}
	defer func(n int) { readsPerPass = n }(readsPerPass)
	readsPerPass = 1
	var burst []byte
	var want []string
	for i := 0; len(burst) < 8*pooledReadSize; i++ {
		m := fmt.Sprintf("%04d%s", i, strings.Repeat("z", 96))
		burst = append(burst, clientFrame(true, opText, []byte(m))...)
		want = append(want, "t:"+m)
	}
	rec := newRecorder()
	addr, _ := serve(t, rec, Options{MaxMessage: 1 << 20})
	nc, _ := dialRaw(t, addr, burst)
	got := waitMessages(t, rec, len(want))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("messages %.80q, want %.80q", got, want)
	}
	nc.Close()
	waitClose(t, rec)
}

// TestPolledCloseAfterData: a peer that sends and closes at once. The
// close may come before the pass that reads the last bytes has started,
// so its report is taken by that pass, whose read returns the data
// without the end of the stream; the connection must still end.
func TestPolledCloseAfterData(t *testing.T) {
	if !pollSupported {
		t.Skip("no readiness poller on this platform; the library's read loop is used")
	}
	rec := newRecorder()
	addr, _ := serve(t, rec, Options{})
	const n = 40
	for i := range n {
		nc, _ := dialRaw(t, addr, nil)
		if i%2 == 0 {
			time.Sleep(time.Millisecond) // registered before the data comes
		}
		if _, err := nc.Write(clientFrame(true, opText, []byte("last words"))); err != nil {
			t.Fatal(err)
		}
		nc.Close()
	}
	for range n {
		waitClose(t, rec)
	}
	if got := len(rec.messages()); got != n {
		t.Fatalf("%d messages delivered, want %d", got, n)
	}
}

func TestPolledProtocolErrors(t *testing.T) {
	if !pollSupported {
		t.Skip("no readiness poller on this platform; the library's read loop is used")
	}
	unmasked := []byte{0x81, 0x02, 'h', 'i'}
	tests := []struct {
		name  string
		frame []byte
		code  uint16
	}{
		{"unmasked frame", unmasked, CloseProtocolError},
		{"reserved bit", func() []byte { f := clientFrame(true, opText, []byte("x")); f[0] |= 0x40; return f }(), CloseProtocolError},
		{"unknown opcode", clientFrame(true, 0x3, nil), CloseProtocolError},
		{"fragmented ping", clientFrame(false, opPing, nil), CloseProtocolError},
		{"long ping", clientFrame(true, opPing, make([]byte, 126)), CloseProtocolError},
		{"continuation first", clientFrame(true, opContinuation, []byte("x")), CloseProtocolError},
		{"message inside a fragmented one", append(clientFrame(false, opText, []byte("a")), clientFrame(true, opText, []byte("b"))...), CloseProtocolError},
		{"invalid UTF-8", clientFrame(true, opText, []byte{0xff, 0xfe}), CloseInvalidData},
		{"too big", clientFrame(true, opBinary, make([]byte, 2000)), CloseTooBig},
		{"fragments too big", append(clientFrame(false, opBinary, make([]byte, 600)), clientFrame(true, opContinuation, make([]byte, 600))...), CloseTooBig},
		{"bad close code", clientFrame(true, opClose, []byte{0x03, 0xed}), CloseProtocolError},
		{"1-byte close", clientFrame(true, opClose, []byte{0x03}), CloseProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder()
			addr, _ := serve(t, rec, Options{MaxMessage: 1000})
			nc, br := dialRaw(t, addr, nil)
			if _, err := nc.Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			op, p := readServerFrame(t, nc, br)
			if op != opClose || len(p) < 2 || binary.BigEndian.Uint16(p) != tt.code {
				t.Fatalf("got frame %x %x, want close %d", op, p, tt.code)
			}
			err := waitClose(t, rec)
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != tt.code || !IsFailure(err) {
				t.Fatalf("OnClose(%v), want a failure with code %d", err, tt.code)
			}
			if m := rec.messages(); len(m) != 0 {
				t.Fatalf("delivered %q", m)
			}
		})
	}
}

// The point of the poller: idle connections hold no goroutine. Server
// closes (CloseNow, CloseWith) end them, once, with OnClose.
func TestPolledIdleHoldsNoGoroutine(t *testing.T) {
	if !pollSupported {
		t.Skip("no readiness poller on this platform; the library's read loop is used")
	}
	rec := newRecorder()
	addr, wg := serve(t, rec, Options{MaxMessage: 1000})
	const n = 200
	before := runtime.NumGoroutine()
	var ncs []net.Conn
	var brs []*bufio.Reader
	for range n {
		nc, br := dialRaw(t, addr, nil)
		ncs, brs = append(ncs, nc), append(brs, br)
	}
	conns := make([]*Conn, 0, n)
	for range n {
		conns = append(conns, <-rec.conns)
	}
	// One message each, answered: the read passes end afterwards.
	for i, nc := range ncs {
		_, _ = nc.Write(clientFrame(true, opText, []byte("echo")))
		if _, p := readServerFrame(t, nc, brs[i]); string(p) != "echo" {
			t.Fatalf("echo %q", p)
		}
	}
	time.Sleep(100 * time.Millisecond)
	// The client side's goroutines are net.Conn's own (none here) and the
	// HTTP server's, which ended at the hijack.
	if g := runtime.NumGoroutine() - before; g > n/10 {
		t.Fatalf("%d goroutines for %d idle connections", g, n)
	}
	for i, c := range conns {
		if i%2 == 0 {
			c.CloseNow()
		} else {
			c.CloseWith(CloseGoingAway)
		}
	}
	for range n {
		if err := waitClose(t, rec); IsFailure(err) {
			t.Fatalf("server close reported as a failure: %v", err)
		}
	}
	wg.Wait()
	select {
	case err := <-rec.closed:
		t.Fatalf("OnClose called twice: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
}

// A peer that goes away ends the connection with a non-failure.
func TestPolledPeerGone(t *testing.T) {
	if !pollSupported {
		t.Skip("no readiness poller on this platform; the library's read loop is used")
	}
	rec := newRecorder()
	addr, _ := serve(t, rec, Options{MaxMessage: 1000})
	nc, _ := dialRaw(t, addr, nil)
	<-rec.conns
	nc.Close()
	if err := waitClose(t, rec); !errors.Is(err, io.EOF) && IsFailure(err) {
		t.Fatalf("OnClose(%v)", err)
	}
}

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		max     int
		wantN   int
		need    int
		wantErr error
		payload string
	}{
		{"empty", nil, 0, 0, 0, errIncomplete, ""},
		{"header only", clientFrame(true, opText, []byte("hello"))[:2], 0, 0, 11, errIncomplete, ""},
		{"complete", clientFrame(true, opText, []byte("hello")), 0, 11, 0, nil, "hello"},
		{"16-bit header cut", clientFrame(true, opText, make([]byte, 200))[:3], 0, 0, 0, errIncomplete, ""},
		{"64-bit length", clientFrame(true, opBinary, make([]byte, 70000))[:20], 0, 0, 70014, errIncomplete, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, n, need, err := parseFrame(bytes.Clone(tt.in), tt.max)
			if !errors.Is(err, tt.wantErr) || n != tt.wantN || (tt.need != 0 && need != tt.need) {
				t.Fatalf("got n=%d need=%d err=%v, want n=%d need=%d err=%v", n, need, err, tt.wantN, tt.need, tt.wantErr)
			}
			if err == nil && string(f.payload) != tt.payload {
				t.Fatalf("payload %q", f.payload)
			}
		})
	}
}

func FuzzParseFrame(f *testing.F) {
	f.Add(clientFrame(true, opText, []byte("hello")), 100)
	f.Add(clientFrame(false, opBinary, make([]byte, 300)), 1000)
	f.Add(clientFrame(true, opClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}), 100)
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, 0)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 0 {
			max = -max
		}
		fr, n, need, err := parseFrame(b, max)
		switch {
		case err == nil:
			if n <= 0 || n > len(b) || len(fr.payload) > n {
				t.Fatalf("n=%d len=%d payload=%d", n, len(b), len(fr.payload))
			}
			if max > 0 && len(fr.payload) > max {
				t.Fatalf("payload %d over max %d", len(fr.payload), max)
			}
			if fr.opcode == opClose {
				_, _, _ = closePayload(fr.payload)
			}
		case errors.Is(err, errIncomplete):
			if need != 0 && need <= len(b) {
				t.Fatalf("incomplete with need %d <= %d", need, len(b))
			}
		default:
			var ce *CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a CloseError", err)
			}
		}
	})
}

// A polled connection keeps writing long after its last blocking write:
// the runtime refuses a non-blocking write once a deadline set by a
// blocking one has passed (it once closed every session about 30 s after
// its handshake), so a polled connection's blocking writes clear their
// deadline when done. Here a control frame (written blocking, with a
// 1-second deadline) is followed 1.2 s later by a non-blocking write.
func TestPolledWritesOutliveDeadline(t *testing.T) {
	if !pollSupported {
		t.Skip("no readiness poller on this platform; the library's read loop is used")
	}
	rec := newRecorder()
	addr, _ := serve(t, rec, Options{MaxMessage: 1000})
	nc, br := dialRaw(t, addr, nil)
	c := <-rec.conns
	if err := c.WriteFrames([]Frame{{Payload: []byte("first")}}); err != nil {
		t.Fatal(err)
	}
	if err := c.writeRaw(AppendFrame(nil, false, []byte("blocking"))); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	done, err := c.TryWriteFrames([]Frame{{Payload: []byte("later")}})
	if err != nil || !done {
		t.Fatalf("TryWriteFrames = %v, %v", done, err)
	}
	for _, want := range []string{"first", "blocking", "later"} {
		if _, p := readServerFrame(t, nc, br); string(p) != want {
			t.Fatalf("got %q, want %q", p, want)
		}
	}
}

func BenchmarkParseFrame(b *testing.B) {
	for _, size := range []int{100, 4000} {
		f := clientFrame(true, opText, bytes.Repeat([]byte("x"), size))
		buf := make([]byte, len(f))
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				copy(buf, f)
				if _, _, _, err := parseFrame(buf, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPolledEcho is one message up and one down through a polled
// connection: the read pass, the frame reader and a non-blocking write.
func BenchmarkPolledEcho(b *testing.B) {
	if !pollSupported {
		b.Skip("no readiness poller on this platform")
	}
	up := NewUpgrader(echoHandler{}, Options{MaxMessage: 1 << 20})
	var tr gotrack.Tracker
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.Start(&tr)
	}))
	defer func() { hs.Close(); tr.Wait() }()
	nc, br := dialRaw(b, hs.Listener.Addr().String(), nil)
	defer nc.Close()
	msg := clientFrame(true, opText, []byte("hello"))
	var h [7]byte // 2-byte header + "hello"
	for b.Loop() {
		if _, err := nc.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(br, h[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// echoHandler writes every message back with a non-blocking write.
type echoHandler struct{}

func (echoHandler) OnMessage(c *Conn, binary bool, data []byte) {
	if done, err := c.TryWriteFrames([]Frame{{Binary: binary, Payload: data}}); err == nil && !done {
		_ = c.FlushPending()
	}
}

func (echoHandler) OnClose(*Conn, error) {}
