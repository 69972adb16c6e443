// Package packet encodes and decodes Engine.IO protocol v4 packets and
// HTTP long-polling payloads.
//
// It is pure (no I/O) and shared by the server (package engineio) and the Go
// client. A packet is a type and a payload; a message packet may carry text or
// binary data. On WebSocket a binary message travels as a binary frame holding
// the raw bytes; everywhere else (polling payloads, or WebSocket with b64=1) a
// binary message is written as "b" followed by standard base64.
package packet

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// Type is an Engine.IO packet type.
type Type byte

// The Engine.IO v4 packet types, in wire order ('0' to '6').
const (
	Open    Type = iota // server to client: the handshake
	Close               // either way: close the session
	Ping                // server to client in v4; "2probe" from the client during an upgrade
	Pong                // client to server; "3probe" from the server during an upgrade
	Message             // either way: application data
	Upgrade             // client to server over the new transport to finish an upgrade
	Noop                // server to client: releases a held poll
)

var typeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol name of the type ("open", "ping", ...).
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// Valid reports whether t is one of the seven Engine.IO v4 packet types.
func (t Type) Valid() bool { return t <= Noop }

// Separator is the record separator that joins packets in a polling payload.
const Separator byte = 0x1e

// Errors returned by the decoders. Each decoder error wraps ErrInvalid.
var (
	// ErrInvalid is wrapped by every decoding error.
	ErrInvalid = errors.New("engine.io: invalid packet")
	// ErrEmpty means a packet (or a polling payload) had no bytes at all.
	ErrEmpty = fmt.Errorf("%w: empty packet", ErrInvalid)
	// ErrUnknownType means the first byte was not '0'..'6' or 'b'.
	ErrUnknownType = fmt.Errorf("%w: unknown packet type", ErrInvalid)
	// ErrBase64 means a "b" packet held invalid base64.
	ErrBase64 = fmt.Errorf("%w: bad base64", ErrInvalid)
)

// Packet is one Engine.IO packet.
//
// Data is the payload without the type byte. Binary is only meaningful for
// Message packets: it marks Data as raw bytes rather than UTF-8 text.
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool
}

// EncodedLen returns the length of the text encoding of p.
func (p Packet) EncodedLen() int {
	if p.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(p.Data))
	}
	return 1 + len(p.Data)
}

// AppendText appends the text encoding of p to dst and returns the result:
// the type digit followed by the data, or for a binary message "b" followed by
// the base64 of the data. This is the form used in polling payloads and in
// WebSocket text frames.
func (p Packet) AppendText(dst []byte) []byte {
	if p.Binary {
		dst = append(dst, 'b')
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// Decode decodes one packet received as text (a WebSocket text frame or one
// record of a polling payload). The returned Data aliases b for text packets.
func Decode(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, ErrEmpty
	}
	c := b[0]
	if c == 'b' {
		// An empty binary message stays an empty, non-nil value, so that
		// it is still binary (an empty Buffer) when it is relayed.
		data, err := base64.StdEncoding.AppendDecode(make([]byte, 0, base64.StdEncoding.DecodedLen(len(b)-1)), b[1:])
		if err != nil {
			return Packet{}, ErrBase64
		}
		return Packet{Type: Message, Data: data, Binary: true}, nil
	}
	if c < '0' || c > '6' {
		return Packet{}, ErrUnknownType
	}
	return Packet{Type: Type(c - '0'), Data: b[1:]}, nil
}

// DecodeBinary returns the packet carried by a WebSocket binary frame: always
// a binary message whose Data is the whole frame.
func DecodeBinary(b []byte) Packet {
	if b == nil {
		b = []byte{} // an empty binary message is still binary
	}
	return Packet{Type: Message, Data: b, Binary: true}
}

// AppendPayload appends the polling payload made of pkts (text encodings
// joined by Separator) to dst.
func AppendPayload(dst []byte, pkts ...Packet) []byte {
	for i, p := range pkts {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = p.AppendText(dst)
	}
	return dst
}

// DecodePayload splits a polling payload and decodes every packet in it, in
// order. An empty payload, or an empty record, is an error (as in Node's
// engine.io-parser, where it decodes to an error packet).
func DecodePayload(body []byte) ([]Packet, error) {
	if len(body) == 0 {
		return nil, ErrEmpty
	}
	n := bytes.Count(body, []byte{Separator}) + 1
	pkts := make([]Packet, 0, n)
	for len(body) > 0 || n > len(pkts) {
		rec := body
		if i := bytes.IndexByte(body, Separator); i >= 0 {
			rec, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		p, err := Decode(rec)
		if err != nil {
			return nil, err
		}
		pkts = append(pkts, p)
	}
	return pkts, nil
}
