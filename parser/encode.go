package parser

import (
	"strconv"
	"strings"
)

// Encode returns the text form of p, to be sent as one Engine.IO text
// message, followed by its binary attachments, each to be sent as its own
// Engine.IO binary message, in order. The returned attachments are
// p.Attachments itself.
//
// Encode writes the namespace only when it is not "/" (with a trailing
// comma), the attachment count ("N-") for binary packets and the ack id when
// p.HasID. p.Data is written as is: it must be valid, compact JSON, as the
// helpers of this package produce (Marshal, NewEvent, RawArray, ...).
//
// Encode fails (wrapping ErrInvalidPacket) when p cannot be decoded by a
// peer: an unknown type, a namespace not starting with "/" or containing a
// comma, an id above MaxID, attachments on a type other than event or ack, an
// ACK without id, a DISCONNECT with a payload, or a payload whose JSON kind
// does not suit the type (an EVENT or ACK needs an array). It does not limit
// the number of attachments, but peers do: socket.io-parser rejects more
// than 10 by default.
func Encode(p *Packet) (text []byte, attachments [][]byte, err error) {
	text, err = AppendText(make([]byte, 0, encodedLen(p)), p)
	if err != nil {
		return nil, nil, err
	}
	return text, p.Attachments, nil
}

// AppendText appends the text form of p (see Encode) to dst and returns the
// extended buffer. It lets a caller put a prefix (such as the Engine.IO
// message type) in front of the packet without another copy.
func AppendText(dst []byte, p *Packet) ([]byte, error) {
	t, err := wireType(p)
	if err != nil {
		return dst, err
	}
	dst = append(dst, '0'+byte(t))
	if t.IsBinary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...), nil
}

// encodedLen is an upper bound of the text length of p.
func encodedLen(p *Packet) int {
	return 1 + 4 + len(p.Namespace) + 1 + 20 + len(p.Data)
}

// wireType checks that p can be encoded and returns the type to write.
func wireType(p *Packet) (PacketType, error) {
	t := p.Type
	if !t.Valid() {
		return t, invalidf("unknown packet type %d", byte(t))
	}
	if p.Namespace != "" && (p.Namespace[0] != '/' || strings.IndexByte(p.Namespace, ',') >= 0) {
		return t, invalidf("namespace %q must start with '/' and contain no ','", p.Namespace)
	}
	if p.HasID && p.ID > MaxID {
		return t, invalidf("ack id %d above %d", p.ID, uint64(MaxID))
	}
	first := firstByte(p.Data)
	switch t {
	case Event, BinaryEvent, Ack, BinaryAck:
		if first != '[' {
			return t, invalidf("%s payload must be a JSON array", t)
		}
		binary := len(p.Attachments) > 0
		switch {
		case t == Event && binary:
			t = BinaryEvent
		case t == BinaryEvent && !binary:
			t = Event
		case t == Ack && binary:
			t = BinaryAck
		case t == BinaryAck && !binary:
			t = Ack
		}
		if (t == Ack || t == BinaryAck) && !p.HasID {
			return t, invalidf("%s packet without an ack id", t)
		}
		return t, nil
	case Connect:
		if first != 0 && first != '{' {
			return t, invalidf("CONNECT payload must be a JSON object")
		}
	case Disconnect:
		if first != 0 {
			return t, invalidf("DISCONNECT packet cannot have a payload")
		}
	case ConnectError:
		if first != '{' && first != '"' {
			return t, invalidf("CONNECT_ERROR payload must be a JSON object or string")
		}
	}
	if len(p.Attachments) > 0 {
		return t, invalidf("%s packet cannot have attachments", t)
	}
	return t, nil
}
