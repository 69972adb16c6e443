package parser

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// PacketType is the type of a Socket.IO packet, the first character of its
// text encoding.
type PacketType byte

// Socket.IO v5 packet types.
const (
	Connect      PacketType = 0 // CONNECT: join a namespace (auth object, or the server's {"sid":...} reply)
	Disconnect   PacketType = 1 // DISCONNECT: leave a namespace; no payload
	Event        PacketType = 2 // EVENT: ["name", args...]
	Ack          PacketType = 3 // ACK: [args...], always with an id
	ConnectError PacketType = 4 // CONNECT_ERROR: {"message":...,"data":...} (or a string)
	BinaryEvent  PacketType = 5 // BINARY_EVENT: an EVENT with binary attachments
	BinaryAck    PacketType = 6 // BINARY_ACK: an ACK with binary attachments
)

var typeNames = [...]string{
	Connect:      "CONNECT",
	Disconnect:   "DISCONNECT",
	Event:        "EVENT",
	Ack:          "ACK",
	ConnectError: "CONNECT_ERROR",
	BinaryEvent:  "BINARY_EVENT",
	BinaryAck:    "BINARY_ACK",
}

// String returns the protocol name of t ("EVENT", "BINARY_ACK", ...), or
// "PacketType(n)" for an unknown value.
func (t PacketType) String() string {
	if t.Valid() {
		return typeNames[t]
	}
	return "PacketType(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the seven Socket.IO v5 packet types.
func (t PacketType) Valid() bool { return t <= BinaryAck }

// IsBinary reports whether t is BinaryEvent or BinaryAck, the types that carry
// attachments.
func (t PacketType) IsBinary() bool { return t == BinaryEvent || t == BinaryAck }

// DefaultMaxAttachments is the number of binary attachments a decoder accepts
// per packet when no other limit is configured (socket.io-parser's
// maxAttachments default).
const DefaultMaxAttachments = 10

// MaxID is the largest acknowledgement id: 2^53-1, the largest integer a
// JavaScript peer represents exactly. Larger ids are rejected by the decoder
// and the encoder.
const MaxID = 1<<53 - 1

// Packet is one Socket.IO packet.
//
// Data is the JSON payload exactly as it travels in the text encoding. In
// BinaryEvent and BinaryAck packets it contains placeholders
// {"_placeholder":true,"num":N} standing for Attachments[N]; use Reconstruct
// or Unmarshal to get the binary values back. In every other packet type a
// placeholder-shaped object is ordinary data and Attachments is nil.
//
// The acknowledgement id is optional, so it is stored as ID plus HasID (no
// pointer, so a Packet is a plain value that can be copied and built without
// allocation).
type Packet struct {
	// Type is the packet type. For encoding, Event and BinaryEvent (and Ack
	// and BinaryAck) are interchangeable: the binary variant is written exactly
	// when Attachments is not empty.
	Type PacketType
	// Namespace starts with "/". The empty string is treated as "/" by the
	// encoder; the decoder always sets it ("/" when the packet names none).
	Namespace string
	// ID is the acknowledgement id; it is meaningful only when HasID is true.
	ID uint64
	// HasID reports whether the packet carries an acknowledgement id.
	HasID bool
	// Data is the compact JSON payload, nil when the packet has none.
	Data json.RawMessage
	// Attachments are the binary attachments, in placeholder order.
	Attachments [][]byte
}

// SetID sets the acknowledgement id of p.
func (p *Packet) SetID(id uint64) {
	p.ID, p.HasID = id, true
}

// ErrInvalidPacket is wrapped by every error the decoder returns for malformed
// input (and by the encoder for a Packet it cannot encode). A Socket.IO server
// answers such input by closing the connection with the "parse error" reason;
// test for it with errors.Is.
var ErrInvalidPacket = errors.New("parser: invalid packet")

// ErrTooManyAttachments is returned when a packet announces more attachments
// than the decoder's limit. It wraps ErrInvalidPacket.
var ErrTooManyAttachments = fmt.Errorf("%w: too many attachments", ErrInvalidPacket)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPacket}, args...)...)
}

// reservedEvents are the event names a peer may not send (socket.io-parser
// RESERVED_EVENTS).
var reservedEvents = [...]string{
	"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
}

// IsReservedEvent reports whether name is reserved by Socket.IO and therefore
// rejected in EVENT packets: "connect", "connect_error", "disconnect",
// "disconnecting", "newListener" and "removeListener".
func IsReservedEvent(name string) bool {
	for _, r := range reservedEvents {
		if name == r {
			return true
		}
	}
	return false
}
