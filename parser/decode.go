package parser

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Decoder reassembles Socket.IO packets from Engine.IO messages, one message
// at a time, for the default (JSON) encoding.
//
// A text message starts a packet. A packet without attachments is returned
// at once; a BinaryEvent or BinaryAck packet is returned by the call that adds
// its last attachment, each attachment being one binary message. A binary
// message when no attachment is expected, or a text message while
// attachments are still expected, is an error.
//
// After an error the decoder drops any partly assembled packet and is ready
// for a new one, but the peer should be disconnected ("parse error"): the
// stream cannot be trusted any more.
//
// The zero value is ready to use with DefaultMaxAttachments. A Decoder is not
// safe for concurrent use; use one per connection.
type Decoder struct {
	// maxAttachments is the limit per packet; 0 means DefaultMaxAttachments.
	maxAttachments int
	pending        *Packet
	want           int
}

// NewDecoder returns a Decoder that rejects packets announcing more than
// maxAttachments attachments. A value <= 0 selects DefaultMaxAttachments.
func NewDecoder(maxAttachments int) *Decoder {
	return &Decoder{maxAttachments: maxAttachments}
}

// Add feeds one Engine.IO message payload (without the Engine.IO "4" type
// prefix) to the decoder. It returns the completed packet, or nil and no
// error when the packet still waits for attachments.
//
// Add takes ownership of data: the returned packet's Data and Attachments
// share memory with the messages, so the caller must not modify or reuse
// them afterwards.
//
// Every error wraps ErrInvalidPacket.
func (d *Decoder) Add(data []byte, binary bool) (*Packet, error) {
	if binary {
		if d.pending == nil {
			return nil, invalidf("unexpected binary message: no attachment expected")
		}
		p := d.pending
		p.Attachments = append(p.Attachments, data)
		if len(p.Attachments) < d.want {
			return nil, nil
		}
		d.Reset()
		if _, err := findPlaceholders(p.Data, len(p.Attachments)); err != nil {
			return nil, placeholderError(err)
		}
		return p, nil
	}
	if d.pending != nil {
		n := d.want - len(d.pending.Attachments)
		d.Reset()
		return nil, invalidf("text message while %d binary attachment(s) are still expected", n)
	}
	limit := d.maxAttachments
	if limit <= 0 {
		limit = DefaultMaxAttachments
	}
	p, n, err := decodeText(data, limit)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		p.Attachments = make([][]byte, 0, n)
		d.pending, d.want = p, n
		return nil, nil
	}
	return p, nil
}

// Reset drops the packet being assembled, if any.
func (d *Decoder) Reset() {
	d.pending, d.want = nil, 0
}

// Pending returns the number of attachments the decoder still expects for the
// packet being assembled (0 when it waits for a text message).
func (d *Decoder) Pending() int {
	if d.pending == nil {
		return 0
	}
	return d.want - len(d.pending.Attachments)
}

func placeholderError(err error) error {
	if err == errSyntax {
		return invalidf("malformed JSON payload")
	}
	return err
}

// decodeText parses the text form of a packet. For binary packets it also
// returns the announced number of attachments (>= 1). The grammar is
//
//	<type>[<attachments>-][<namespace>,][<id>][<JSON payload>]
//
// and the checks are socket.io-parser 4.2.x's, made stricter where the
// JavaScript parser relies on loose number conversions (see doc.go).
func decodeText(s []byte, maxAttachments int) (*Packet, int, error) {
	if len(s) == 0 {
		return nil, 0, invalidf("empty packet")
	}
	if s[0] < '0' || s[0] > '6' {
		return nil, 0, invalidf("unknown packet type %q", s[0])
	}
	p := &Packet{Type: PacketType(s[0] - '0'), Namespace: "/"}
	i := 1

	attachments := 0
	if p.Type.IsBinary() {
		start := i
		for i < len(s) && isDigit(s[i]) {
			if attachments <= maxAttachments { // stop growing: the value is already too big
				attachments = attachments*10 + int(s[i]-'0')
			}
			i++
		}
		switch {
		case i == start || i >= len(s) || s[i] != '-':
			return nil, 0, invalidf("illegal attachments: %s packet needs a decimal attachment count followed by '-'", p.Type)
		case attachments == 0:
			return nil, 0, invalidf("illegal attachments: %s packet with 0 attachments", p.Type)
		case attachments > maxAttachments:
			return nil, 0, ErrTooManyAttachments
		}
		i++ // '-'
	}

	if i < len(s) && s[i] == '/' {
		start := i
		for i < len(s) && s[i] != ',' {
			i++
		}
		p.Namespace = string(s[start:i])
		if i < len(s) {
			i++ // ','
		}
	}

	if i < len(s) && isDigit(s[i]) {
		var id uint64
		for ; i < len(s) && isDigit(s[i]); i++ {
			d := uint64(s[i] - '0')
			if id > (MaxID-d)/10 {
				return nil, 0, invalidf("ack id too large (max %d)", uint64(MaxID))
			}
			id = id*10 + d
		}
		p.SetID(id)
	}

	if i < len(s) {
		p.Data = json.RawMessage(s[i:])
		if !json.Valid(p.Data) {
			return nil, 0, invalidf("%s payload is not valid JSON", p.Type)
		}
	}
	if err := checkPayload(p); err != nil {
		return nil, 0, err
	}
	return p, attachments, nil
}

// checkPayload applies the per-type payload rules.
func checkPayload(p *Packet) error {
	first := firstByte(p.Data)
	switch p.Type {
	case Connect:
		if first != 0 && first != '{' {
			return invalidf("CONNECT payload must be an object")
		}
	case Disconnect:
		if first != 0 {
			return invalidf("DISCONNECT packet must not have a payload")
		}
	case ConnectError:
		if first != '{' && first != '"' {
			return invalidf("CONNECT_ERROR payload must be an object or a string")
		}
	case Event, BinaryEvent:
		if first != '[' {
			return invalidf("%s payload must be an array", p.Type)
		}
		if _, _, err := eventNameToken(p.Data); err != nil {
			return err
		}
	case Ack, BinaryAck:
		if first != '[' {
			return invalidf("%s payload must be an array", p.Type)
		}
		if !p.HasID {
			return invalidf("%s packet without an ack id", p.Type)
		}
	}
	return nil
}

// firstByte returns the first non-space byte of data, 0 if there is none.
func firstByte(data []byte) byte {
	if i := skipSpace(data, 0); i < len(data) {
		return data[i]
	}
	return 0
}

// eventNameToken returns the first element of the event array data (valid
// JSON), which must be a string that is not reserved, or a number; escaped
// reports whether a string token contains escapes.
func eventNameToken(data []byte) (tok []byte, escaped bool, err error) {
	i := skipSpace(data, 1+skipSpace(data, 0)) // after '['
	if i >= len(data) || data[i] == ']' {
		return nil, false, invalidf("event payload is an empty array")
	}
	switch c := data[i]; {
	case c == '"':
		end, escaped, err := scanString(data, i)
		if err != nil {
			return nil, false, invalidf("malformed event name")
		}
		tok = data[i:end]
		if !escaped && !IsReservedEvent(string(tok[1:len(tok)-1])) {
			return tok, false, nil
		}
		name, err := stringValue(tok, escaped)
		if err != nil {
			return nil, false, invalidf("malformed event name")
		}
		if IsReservedEvent(name) {
			return nil, false, invalidf("reserved event name %q", name)
		}
		return tok, escaped, nil
	case c == '-' || isDigit(c):
		end, err := scanNumber(data, i)
		if err != nil {
			return nil, false, invalidf("malformed event name")
		}
		return data[i:end], false, nil
	default:
		return nil, false, invalidf("event name must be a string or a number")
	}
}

// eventName returns the name of the event array data (valid JSON). A number
// is returned in its JavaScript string form, the key under which a Node
// server would look up its handler.
func eventName(data []byte) (string, error) {
	tok, escaped, err := eventNameToken(data)
	if err != nil {
		return "", err
	}
	if tok[0] == '"' {
		return stringValue(tok, escaped)
	}
	return jsNumberString(tok), nil
}

// jsNumberString formats the JSON number tok as JavaScript's String(n) does.
func jsNumberString(tok []byte) string {
	f, err := strconv.ParseFloat(string(tok), 64)
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case err != nil:
		return string(tok)
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	return mant + "e" + exp[:1] + strings.TrimLeft(exp[1:], "0")
}
