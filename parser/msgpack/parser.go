package msgpack

import (
	"fmt"

	"github.com/gosio/socketio/parser"
)

// DefaultMaxDepth is the nesting limit of a decoded payload when
// Parser.MaxDepth is 0: arrays and maps nested deeper are rejected.
const DefaultMaxDepth = 1000

// Parser is the Socket.IO parser of npm's socket.io-msgpack-parser 3.x: each
// packet is one Engine.IO binary message holding a msgpack map. The zero
// value is ready to use; it is safe for concurrent use, and the decoders it
// returns are not (one per connection, as parser.Parser requires).
type Parser struct {
	// MaxAttachments limits the binary values (msgpack bin and ArrayBuffer
	// ext values) of one decoded EVENT or ACK packet. 0 means
	// parser.DefaultMaxAttachments (10); a negative value means no limit
	// other than the message size.
	MaxAttachments int
	// MaxDepth limits the nesting of arrays and maps in a decoded packet.
	// 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxSize limits the size in bytes of one decoded message. 0 means no
	// limit besides the Engine.IO server's MaxPayload, which already bounds
	// every message.
	MaxSize int
}

var (
	_ parser.Parser        = Parser{}
	_ parser.PacketDecoder = (*decoder)(nil)
)

// NewDecoder returns a decoder for one connection's messages, with p's
// limits. Each binary message is one packet; text messages are rejected.
func (p Parser) NewDecoder() parser.PacketDecoder {
	d := &decoder{maxAtts: p.MaxAttachments, maxDepth: p.MaxDepth, maxSize: p.MaxSize}
	if d.maxAtts == 0 {
		d.maxAtts = parser.DefaultMaxAttachments
	}
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
	return d
}

// Encode returns the single binary message that carries pk. See the package
// documentation for the mapping of pk's JSON Data to msgpack.
//
// Encode fails, wrapping parser.ErrInvalidPacket, for a packet a peer could
// not decode: an unknown type, a namespace not starting with "/", an id
// above parser.MaxID, an ACK without id, attachments on a type other than an
// event or an ack, a payload of the wrong kind for the type, invalid JSON, or
// a placeholder without a valid attachment number.
func (p Parser) Encode(pk *parser.Packet) ([]parser.Message, error) {
	b, err := encodePacket(pk)
	if err != nil {
		return nil, err
	}
	return []parser.Message{{Data: b, Binary: true}}, nil
}

// invalidf returns an error wrapping parser.ErrInvalidPacket.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: msgpack: "+format, append([]any{parser.ErrInvalidPacket}, args...)...)
}
