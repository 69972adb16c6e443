package engineio

import (
	"sync"

	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/internal/ws"
)

// Message is an outgoing Engine.IO packet encoded at most once per wire form.
//
// A Message may be written to any number of connections (see Conn.Write and
// Server.Broadcast): its polling encoding and its WebSocket frame are each
// built on first use and then shared, so a broadcast costs one encoding
// whatever the number of recipients. A Message must not be modified after it
// is created.
type Message struct {
	pkt packet.Packet

	textOnce sync.Once
	text     []byte // polling record / b64 text frame payload
	// For a text message, textOnce also makes frame: the text with the
	// WebSocket header in front, one allocation for both forms.

	frameOnce sync.Once // binary messages
	frame     []byte    // complete WebSocket frame (binary frame for binary data)

	b64FrameOnce sync.Once
	b64Frame     []byte // complete WebSocket text frame with the b64 encoding
}

// NewMessage returns a message packet holding text data.
func NewMessage(data []byte) *Message {
	return &Message{pkt: packet.Packet{Type: packet.Message, Data: data}}
}

// NewBinaryMessage returns a message packet holding binary data.
func NewBinaryMessage(data []byte) *Message {
	return &Message{pkt: packet.Packet{Type: packet.Message, Data: data, Binary: true}}
}

func newControl(t packet.Type, data string) *Message {
	return &Message{pkt: packet.Packet{Type: t, Data: []byte(data)}}
}

// Shared control packets: encoded once for the whole process.
var (
	pingMsg  = newControl(packet.Ping, "")
	noopMsg  = newControl(packet.Noop, "")
	closeMsg = newControl(packet.Close, "")
	probeMsg = newControl(packet.Pong, "probe")
)

// Binary reports whether the message holds binary data.
func (m *Message) Binary() bool { return m.pkt.Binary }

// Data returns the message's data. The caller must not modify it.
func (m *Message) Data() []byte { return m.pkt.Data }

// size is the number of bytes the message counts against a session's
// buffer limit.
func (m *Message) size() int { return len(m.pkt.Data) + 1 }

// textForm returns the text encoding ("4hello", "bAQID", "2").
func (m *Message) textForm() []byte {
	m.textOnce.Do(func() {
		n := m.pkt.EncodedLen()
		if m.pkt.Binary {
			m.text = m.pkt.AppendText(make([]byte, 0, n))
			return
		}
		buf := ws.AppendFrameHeader(make([]byte, 0, ws.MaxFrameHeader+n), false, n)
		hdr := len(buf)
		buf = m.pkt.AppendText(buf)
		m.frame = buf[:len(buf):len(buf)]
		m.text = m.frame[hdr:]
	})
	return m.text
}

// wsFrame returns the WebSocket frame for the message. With b64 a binary
// message travels as base64 text.
func (m *Message) wsFrame(b64 bool) ws.Frame {
	if m.pkt.Binary && !b64 {
		m.frameOnce.Do(func() { m.frame = ws.AppendFrame(nil, true, m.pkt.Data) })
		return ws.Frame{Binary: true, Payload: m.pkt.Data, Wire: m.frame}
	}
	if m.pkt.Binary {
		m.b64FrameOnce.Do(func() { m.b64Frame = ws.AppendFrame(nil, false, m.textForm()) })
		return ws.Frame{Payload: m.textForm(), Wire: m.b64Frame}
	}
	text := m.textForm() // makes the frame too
	return ws.Frame{Payload: text, Wire: m.frame}
}
