package parser

// Message is one Engine.IO message payload produced by a Parser: text (UTF-8)
// or binary.
type Message struct {
	// Data is the message payload, without the Engine.IO packet type.
	Data []byte
	// Binary reports whether the message is sent as an Engine.IO binary
	// message.
	Binary bool
}

// Parser converts packets to and from Engine.IO messages. It is the seam for
// alternative wire formats such as socket.io-msgpack-parser: whatever the
// format, packets are exchanged in this package's representation (JSON Data
// with binary values as placeholders plus Attachments), so the layers above
// do not change.
//
// Implementations must be safe for concurrent use; the decoders they return
// need not be.
type Parser interface {
	// Encode returns the messages that carry p, in sending order.
	Encode(p *Packet) ([]Message, error)
	// NewDecoder returns a decoder for one connection's incoming messages.
	NewDecoder() PacketDecoder
}

// PacketDecoder reassembles packets from the Engine.IO messages of one
// connection. *Decoder is the JSON implementation; see it for the contract.
type PacketDecoder interface {
	// Add feeds one message; it returns a packet when one is complete, nil
	// and no error while waiting for more messages.
	Add(data []byte, binary bool) (*Packet, error)
	// Reset drops any partly assembled packet.
	Reset()
}

// JSONParser is the default Socket.IO parser (socket.io-parser): a text
// message per packet followed by one binary message per attachment. The zero
// value is ready to use.
type JSONParser struct {
	// MaxAttachments limits the attachments of a decoded packet; 0 means
	// DefaultMaxAttachments (10).
	MaxAttachments int
}

var (
	_ Parser        = JSONParser{}
	_ PacketDecoder = (*Decoder)(nil)
)

// Encode returns the text message of p followed by its attachments as binary
// messages. See the package-level Encode.
func (JSONParser) Encode(p *Packet) ([]Message, error) {
	text, atts, err := Encode(p)
	if err != nil {
		return nil, err
	}
	msgs := make([]Message, 1, 1+len(atts))
	msgs[0] = Message{Data: text}
	for _, a := range atts {
		msgs = append(msgs, Message{Data: a, Binary: true})
	}
	return msgs, nil
}

// NewDecoder returns a *Decoder limited to jp.MaxAttachments attachments per
// packet.
func (jp JSONParser) NewDecoder() PacketDecoder {
	return NewDecoder(jp.MaxAttachments)
}
