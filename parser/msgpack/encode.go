package msgpack

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// encodePacket writes pk as the msgpack map {type, data, id, nsp} (data and
// id only when present), the key order of the Node.js server.
func encodePacket(pk *parser.Packet) ([]byte, error) {
	t := pk.Type
	if !t.Valid() {
		return nil, invalidf("unknown packet type %d", byte(t))
	}
	// socket.io-msgpack-parser has no binary types: binary values travel in
	// place, in ordinary EVENT and ACK packets.
	switch t {
	case parser.BinaryEvent:
		t = parser.Event
	case parser.BinaryAck:
		t = parser.Ack
	}
	binary := len(pk.Attachments) > 0
	if binary && t != parser.Event && t != parser.Ack {
		return nil, invalidf("%s packet cannot have attachments", t)
	}
	nsp := pk.Namespace
	if nsp == "" {
		nsp = "/"
	}
	if nsp[0] != '/' {
		return nil, invalidf("namespace %q must start with '/'", nsp)
	}
	if pk.HasID && pk.ID > parser.MaxID {
		return nil, invalidf("ack id %d above %d", pk.ID, uint64(parser.MaxID))
	}
	if t == parser.Ack && !pk.HasID {
		return nil, invalidf("ACK packet without an ack id")
	}

	var first byte
	if i := skipSpace(pk.Data, 0); i < len(pk.Data) {
		first = pk.Data[i]
	}
	switch t {
	case parser.Event, parser.Ack:
		if first != '[' {
			return nil, invalidf("%s payload must be a JSON array", t)
		}
	case parser.Connect:
		if first != 0 && first != '{' {
			return nil, invalidf("CONNECT payload must be a JSON object")
		}
	case parser.Disconnect:
		if first != 0 {
			return nil, invalidf("DISCONNECT packet cannot have a payload")
		}
	case parser.ConnectError:
		if first != '{' && first != '"' {
			return nil, invalidf("CONNECT_ERROR payload must be a JSON object or string")
		}
	}

	size := 32 + len(nsp) + len(pk.Data)
	for _, a := range pk.Attachments {
		size += 5 + len(a)
	}
	e := jsonEncoder{data: pk.Data, out: make([]byte, 0, size)}
	if binary {
		e.atts = pk.Attachments
	}
	fields := 2
	if first != 0 {
		fields++
	}
	if pk.HasID {
		fields++
	}
	e.out = appendMapHeader(e.out, fields)
	e.out = appendStr(e.out, "type")
	e.out = appendUint(e.out, uint64(t))
	if first != 0 {
		e.out = appendStr(e.out, "data")
		if err := e.encode(); err != nil {
			return nil, err
		}
	}
	if pk.HasID {
		e.out = appendStr(e.out, "id")
		e.out = appendUint(e.out, pk.ID)
	}
	e.out = appendStr(e.out, "nsp")
	e.out = appendStr(e.out, nsp)
	return e.out, nil
}

// jsonEncoder converts a JSON value to msgpack in two passes over the text:
// the first checks it and records, for every array and object in document
// order, its length and whether it is a placeholder (msgpack needs lengths
// up front); the second writes.
//
// Numbers become what notepack.io writes for the same JavaScript value:
// integral values the smallest msgpack integer (integer literals up to
// 2^64-1 keep their exact value), others float 64. Object members are
// written in order, repeated keys included (JavaScript keeps the last one,
// as JSON.parse does). When atts is not empty, placeholder objects become
// the bin values of atts.
type jsonEncoder struct {
	data  []byte
	atts  [][]byte
	out   []byte
	conts []container
	next  int // the container the second pass meets next
}

// container describes an array or object of the JSON text.
type container struct {
	count int // elements or members
	end   int // offset after it in the text
	skip  int // index of the first container after its subtree
	num   int // objects: notPlaceholder, or the placeholder's "num" (-1: not a valid index)
}

const notPlaceholder = -2

var errJSON = errors.New("malformed JSON")

func (e *jsonEncoder) encode() error {
	if !json.Valid(e.data) {
		return invalidf("payload is not valid JSON")
	}
	if _, err := e.scan(skipSpace(e.data, 0)); err != nil {
		return invalidf("payload is not valid JSON")
	}
	_, err := e.write(skipSpace(e.data, 0))
	return err
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset after the JSON string starting at b[i].
func stringEnd(b []byte, i int) (int, error) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errJSON
}

// scalarEnd returns the offset after the number or literal at b[i].
func scalarEnd(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ',', ']', '}', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// scan is the first pass over the value at e.data[i] (valid JSON: the checks
// here only keep malformed input from panicking). It returns the offset
// after the value.
func (e *jsonEncoder) scan(i int) (int, error) {
	b := e.data
	if i >= len(b) {
		return 0, errJSON
	}
	switch c := b[i]; c {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
	default:
		return scalarEnd(b, i), nil
	}
	open := b[i]
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	k := len(e.conts)
	e.conts = append(e.conts, container{num: notPlaceholder})
	isPlaceholder := false
	var num []byte
	count := 0
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errJSON
		}
		if b[i] == closing {
			i++
			break
		}
		if count > 0 {
			if b[i] != ',' {
				return 0, errJSON
			}
			i = skipSpace(b, i+1)
		}
		var key []byte
		if open == '{' {
			end, err := stringEnd(b, i)
			if err != nil {
				return 0, err
			}
			key = b[i:end]
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, errJSON
			}
			i = skipSpace(b, i+1)
		}
		start := i
		end, err := e.scan(i)
		if err != nil {
			return 0, err
		}
		if open == '{' {
			switch keyName(key) {
			case "_placeholder":
				isPlaceholder = string(b[start:end]) == "true"
			case "num":
				num = b[start:end]
			}
		}
		i = end
		count++
	}
	c := &e.conts[k]
	c.count, c.end, c.skip = count, i, len(e.conts)
	if isPlaceholder {
		c.num = attachmentIndex(num, len(e.atts))
	}
	return i, nil
}

// keyName returns the value of the JSON string token key.
func keyName(key []byte) string {
	if bytes.IndexByte(key, '\\') < 0 {
		return string(key[1 : len(key)-1])
	}
	var s string
	_ = json.Unmarshal(key, &s)
	return s
}

// attachmentIndex returns the integer value of the JSON number tok if it is
// in [0, count), else -1.
func attachmentIndex(tok []byte, count int) int {
	if len(tok) == 0 || (tok[0] != '-' && (tok[0] < '0' || tok[0] > '9')) {
		return -1
	}
	n, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || n != math.Trunc(n) || n < 0 || n >= float64(count) {
		return -1
	}
	return int(n)
}

// write is the second pass: it writes the value at e.data[i] as msgpack and
// returns the offset after it.
func (e *jsonEncoder) write(i int) (int, error) {
	b := e.data
	if i >= len(b) {
		return 0, errJSON
	}
	switch b[i] {
	case '"':
		end, err := stringEnd(b, i)
		if err != nil {
			return 0, err
		}
		e.out = appendStrToken(e.out, b[i:end])
		return end, nil
	case 't':
		e.out = append(e.out, 0xc3)
		return i + 4, nil
	case 'f':
		e.out = append(e.out, 0xc2)
		return i + 5, nil
	case 'n':
		e.out = append(e.out, 0xc0)
		return i + 4, nil
	case '{', '[':
	default:
		end := scalarEnd(b, i)
		var err error
		e.out, err = appendJSONNumber(e.out, b[i:end])
		return end, err
	}
	if e.next >= len(e.conts) {
		return 0, errJSON
	}
	c := e.conts[e.next]
	isObject := b[i] == '{'
	if isObject && c.num != notPlaceholder && len(e.atts) > 0 {
		if c.num < 0 {
			return 0, invalidf("placeholder without a valid attachment number (have %d attachments)", len(e.atts))
		}
		a := e.atts[c.num]
		e.out = appendBinHeader(e.out, len(a))
		e.out = append(e.out, a...)
		e.next = c.skip
		return c.end, nil
	}
	e.next++
	if isObject {
		e.out = appendMapHeader(e.out, c.count)
	} else {
		e.out = appendArrayHeader(e.out, c.count)
	}
	i++
	for n := range c.count {
		i = skipSpace(b, i)
		if n > 0 {
			i = skipSpace(b, i+1) // ','
		}
		if isObject {
			end, err := stringEnd(b, i)
			if err != nil {
				return 0, err
			}
			e.out = appendStrToken(e.out, b[i:end])
			i = skipSpace(b, skipSpace(b, end)+1) // ':'
		}
		var err error
		if i, err = e.write(i); err != nil {
			return 0, err
		}
	}
	return c.end, nil
}

// appendStrToken writes the JSON string token tok as a msgpack str. Invalid
// UTF-8 becomes U+FFFD, as encoding/json decodes it.
func appendStrToken(dst, tok []byte) []byte {
	if s := tok[1 : len(tok)-1]; bytes.IndexByte(s, '\\') < 0 && utf8.Valid(s) {
		dst = appendStrHeader(dst, len(s))
		return append(dst, s...)
	}
	var s string
	_ = json.Unmarshal(tok, &s) // valid: checked by json.Valid
	return appendStr(dst, s)
}

// appendJSONNumber writes the JSON number literal tok.
func appendJSONNumber(dst, tok []byte) ([]byte, error) {
	if !bytes.ContainsAny(tok, ".eE") {
		digits := tok
		neg := len(tok) > 0 && tok[0] == '-'
		if neg {
			digits = tok[1:]
		}
		if len(digits) > 0 && len(digits) <= 19 { // fits in a uint64
			var u uint64
			for _, d := range digits {
				if d < '0' || d > '9' {
					return dst, invalidf("malformed number %q", tok)
				}
				u = u*10 + uint64(d-'0')
			}
			switch {
			case !neg:
				return appendUint(dst, u), nil
			case u <= 1<<63:
				return appendInt(dst, int64(-u)), nil // -(1<<63) wraps to itself
			}
		} else if !neg && len(digits) == 20 {
			if u, err := strconv.ParseUint(string(digits), 10, 64); err == nil {
				return appendUint(dst, u), nil
			}
		}
	}
	f, err := strconv.ParseFloat(string(tok), 64) // out of range: ±Inf, as JSON.parse gives
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return dst, invalidf("malformed number %q", tok)
	}
	if f == math.Trunc(f) {
		switch {
		case f >= -(1<<63) && f < 1<<63:
			return appendInt(dst, int64(f)), nil
		case f >= 0 && f < 1<<64:
			return appendUint(dst, uint64(f)), nil
		}
	}
	dst = append(dst, 0xcb)
	return binary.BigEndian.AppendUint64(dst, math.Float64bits(f)), nil
}

// The msgpack writers are the adapters' (internal/wire): the smallest
// format, as notepack.io (and vmihailenco/msgpack) write it.
var (
	appendUint        = wire.AppendUint
	appendInt         = wire.AppendInt
	appendStr         = wire.AppendString
	appendStrHeader   = wire.AppendStringHeader
	appendBinHeader   = wire.AppendBinHeader
	appendArrayHeader = wire.AppendArrayHeader
	appendMapHeader   = wire.AppendMapHeader
)
