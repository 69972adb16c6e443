package testutil

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lxzan/gws"
)

// RawWS is a bare WebSocket peer for protocol tests: it sends frames as
// given and reports frames as received.
type RawWS struct {
	// AutoPong makes Next answer Engine.IO pings ("2") by itself and skip
	// them. DialWS sets it.
	AutoPong bool
	t        testing.TB
	Conn     *gws.Conn
	msgs     chan WSMsg
	closed   chan error
}

// WSMsg is one received frame.
type WSMsg struct {
	Binary bool
	Data   string
}

type rawEvents struct{ c *RawWS }

func (e rawEvents) OnOpen(*gws.Conn)               {}
func (e rawEvents) OnClose(_ *gws.Conn, err error) { e.c.closed <- err }
func (e rawEvents) OnPing(c *gws.Conn, p []byte)   { _ = c.WritePong(p) }
func (e rawEvents) OnPong(*gws.Conn, []byte)       {}
func (e rawEvents) OnMessage(_ *gws.Conn, m *gws.Message) {
	e.c.msgs <- WSMsg{m.Opcode == gws.OpcodeBinary, string(m.Bytes())}
	m.Close()
}

// DialWS connects to an http(s) base URL plus path and query.
func DialWS(t testing.TB, base, pathQuery string, hdr http.Header) (*RawWS, *http.Response, error) {
	t.Helper()
	return DialWSWith(t, base, pathQuery, &gws.ClientOption{RequestHeader: hdr})
}

// DialWSWith is DialWS with the library's client options (Addr is set
// here).
func DialWSWith(t testing.TB, base, pathQuery string, opt *gws.ClientOption) (*RawWS, *http.Response, error) {
	t.Helper()
	c := &RawWS{AutoPong: true, t: t, msgs: make(chan WSMsg, 4096), closed: make(chan error, 1)}
	addr := "ws" + strings.TrimPrefix(base, "http") + pathQuery
	opt.Addr = addr
	if opt.ReadMaxPayloadSize == 0 {
		opt.ReadMaxPayloadSize = 16 << 20
	}
	conn, res, err := gws.NewClient(rawEvents{c}, opt)
	if err != nil {
		return nil, res, err
	}
	c.Conn = conn
	go conn.ReadLoop()
	t.Cleanup(func() { _ = conn.NetConn().Close() })
	return c, res, nil
}

// Send writes a text frame.
func (c *RawWS) Send(s string) {
	c.t.Helper()
	if err := c.Conn.WriteString(s); err != nil {
		c.t.Fatalf("websocket write: %v", err)
	}
}

// SendBinary writes a binary frame.
func (c *RawWS) SendBinary(b []byte) {
	c.t.Helper()
	if err := c.Conn.WriteMessage(gws.OpcodeBinary, b); err != nil {
		c.t.Fatalf("websocket write: %v", err)
	}
}

// Next returns the next frame (with AutoPong, the next that is not an
// Engine.IO ping); messages that arrived before a close come first.
func (c *RawWS) Next() WSMsg {
	c.t.Helper()
	for {
		select {
		case m := <-c.msgs:
			if c.AutoPong && !m.Binary && m.Data == "2" {
				_ = c.Conn.WriteString("3")
				continue
			}
			return m
		case err := <-c.closed:
			select {
			case m := <-c.msgs:
				c.closed <- err
				return m
			default:
			}
			c.t.Fatalf("websocket closed while waiting for a message: %v", err)
		case <-time.After(5 * time.Second):
			c.t.Fatal("no websocket message within 5s")
		}
	}
}

// Expect reads the next frame and checks it.
func (c *RawWS) Expect(want string) {
	c.t.Helper()
	if m := c.Next(); m.Data != want {
		c.t.Fatalf("websocket got %q, want %q", m.Data, want)
	}
}

// WaitClosed waits until the server closes the connection.
func (c *RawWS) WaitClosed() {
	c.t.Helper()
	for {
		select {
		case <-c.msgs:
		case <-c.closed:
			return
		case <-time.After(5 * time.Second):
			c.t.Fatal("websocket not closed within 5s")
		}
	}
}
