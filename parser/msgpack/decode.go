package msgpack

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gosio/socketio/parser"
	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// kind is the JavaScript kind of a decoded msgpack value.
type kind uint8

const (
	kindUndefined kind = iota // fixext 1 of type 0
	kindNull                  // nil, or a float that is NaN or infinite (null in JSON)
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindArray  // array, or an ext value other than ArrayBuffer, undefined or Date
	kindMap    // map
	kindBinary // bin or ArrayBuffer (ext 8/16/32 of type 0)
	kindDate   // fixext 8 of type 0, written as its ISO string
)

// decoder is the PacketDecoder of Parser. Every message is a whole packet,
// so it keeps no state between messages besides reusable buffers.
type decoder struct {
	maxAtts, maxDepth, maxSize int
	r                          reader
	scratch                    []byte // reused by fields for the JSON it discards
}

// Reset does nothing: a msgpack packet is never split across messages.
func (d *decoder) Reset() {}

// packetFields are the raw msgpack values of the known keys of a packet map;
// nil when the key is absent.
type packetFields struct {
	typ, nsp, data, id []byte
}

// Add decodes one Engine.IO message. It returns the packet, or an error
// wrapping parser.ErrInvalidPacket; it never returns nil and no error. The
// packet's attachments share memory with data.
func (d *decoder) Add(data []byte, binary bool) (*parser.Packet, error) {
	if !binary {
		return nil, invalidf("text message: the msgpack parser takes binary messages only")
	}
	if d.maxSize > 0 && len(data) > d.maxSize {
		return nil, invalidf("message of %d bytes above the limit of %d", len(data), d.maxSize)
	}
	defer d.r.reset(nil)
	f, err := d.fields(data)
	if err != nil {
		return nil, err
	}

	p := &parser.Packet{}
	// type: an integer from 0 (CONNECT) to 4 (CONNECT_ERROR).
	if f.typ == nil {
		return nil, invalidf("packet without a type")
	}
	t, ok := d.integer(f.typ)
	if !ok || t > uint64(parser.ConnectError) {
		return nil, invalidf("invalid packet type")
	}
	p.Type = parser.PacketType(t)

	// nsp: a string, which must be a namespace name.
	nsp, ok := d.str(f.nsp)
	if !ok {
		return nil, invalidf("invalid namespace")
	}
	if nsp == "" || nsp[0] != '/' {
		return nil, invalidf("namespace %q does not start with '/'", nsp)
	}
	p.Namespace = nsp

	// id: absent (or undefined), or an integer up to parser.MaxID.
	if f.id != nil && !isUndefined(f.id) {
		id, ok := d.integer(f.id)
		if !ok || id > parser.MaxID {
			return nil, invalidf("invalid packet id")
		}
		p.SetID(id)
	}

	if err := d.payload(p, f.data); err != nil {
		return nil, err
	}
	return p, nil
}

// fields checks the structure of the whole message and returns the values of
// the keys type, nsp, data and id. As in JavaScript, a repeated key keeps its
// last value and other keys (such as the client's "options") are ignored.
func (d *decoder) fields(data []byte) (packetFields, error) {
	var f packetFields
	r := &d.r
	r.reset(data)
	c, err := r.peek()
	if err != nil {
		return f, invalidf("empty message")
	}
	if !isMap(c) {
		return f, invalidf("packet is not a msgpack map")
	}
	n, err := r.dec.DecodeMapLen()
	if err != nil {
		return f, malformed(err)
	}
	if n > r.remaining()/2 {
		return f, invalidf("map of %d entries longer than the message", n)
	}
	// Values are only checked here (JSON output discarded); binary values
	// are not counted against the attachment limit, which applies to the
	// payload only.
	cv := conv{r: r, maxDepth: d.maxDepth, maxAtts: -1, binary: true, out: d.scratch[:0]}
	defer func() {
		if cap(cv.out) <= 64<<10 { // do not keep a large buffer for the connection's life
			d.scratch = cv.out[:0]
		}
	}()
	for range n {
		cv.out = cv.out[:0]
		key, err := cv.key()
		if err != nil {
			return f, err
		}
		var field *[]byte
		switch string(key) {
		case "type":
			field = &f.typ
		case "nsp":
			field = &f.nsp
		case "data":
			field = &f.data
		case "id":
			field = &f.id
		}
		start := r.pos()
		cv.out, cv.atts = cv.out[:0], cv.atts[:0]
		if _, err := cv.value(0); err != nil {
			return f, err
		}
		if field != nil {
			*field = data[start:r.pos():r.pos()]
		}
	}
	if k := r.remaining(); k > 0 {
		return f, invalidf("%d trailing bytes after the packet", k)
	}
	return f, nil
}

// convert decodes the msgpack value v into JSON.
func (d *decoder) convert(v []byte, binary bool) (*conv, kind, error) {
	d.r.reset(v)
	cv := &conv{r: &d.r, maxDepth: d.maxDepth, maxAtts: d.maxAtts, binary: binary, out: make([]byte, 0, len(v)+16)}
	k, err := cv.value(0)
	return cv, k, err
}

// integer returns the value of v if it is a non-negative integer (an
// integral float included, as JavaScript's Number.isInteger accepts it).
func (d *decoder) integer(v []byte) (uint64, bool) {
	cv, k, err := d.convert(v, false)
	if err != nil || k != kindNumber {
		return 0, false
	}
	n, err := strconv.ParseUint(string(cv.out), 10, 64)
	return n, err == nil
}

// str returns the value of v if it is a string.
func (d *decoder) str(v []byte) (string, bool) {
	if v == nil {
		return "", false
	}
	cv, k, err := d.convert(v, false)
	if err != nil || k != kindString {
		return "", false
	}
	var s string
	if json.Unmarshal(cv.out, &s) != nil {
		return "", false
	}
	return s, true
}

// payload decodes the data value v (nil when absent) into p and checks it as
// socket.io-msgpack-parser does, plus the rules of the default parser for
// events and acks.
func (d *decoder) payload(p *parser.Packet, v []byte) error {
	if v == nil || isUndefined(v) {
		switch p.Type {
		case parser.Connect, parser.Disconnect:
			return nil
		}
		return invalidf("%s packet without a payload", p.Type)
	}
	isEventOrAck := p.Type == parser.Event || p.Type == parser.Ack
	cv, k, err := d.convert(v, isEventOrAck)
	if err != nil {
		return err
	}
	switch p.Type {
	case parser.Connect:
		if k != kindMap {
			return invalidf("CONNECT payload must be a map")
		}
	case parser.Disconnect:
		return invalidf("DISCONNECT packet must not have a payload")
	case parser.ConnectError:
		if k != kindMap && k != kindString {
			return invalidf("CONNECT_ERROR payload must be a map or a string")
		}
	case parser.Event:
		if k != kindArray {
			return invalidf("EVENT payload must be an array")
		}
		switch cv.firstKind {
		case kindNumber:
		case kindString:
			var name string
			if err := json.Unmarshal(cv.out[cv.firstStart:cv.firstEnd], &name); err != nil {
				return invalidf("malformed event name")
			}
			if parser.IsReservedEvent(name) {
				return invalidf("reserved event name %q", name)
			}
		case kindUndefined:
			return invalidf("event payload is an empty array")
		default:
			return invalidf("event name must be a string or a number")
		}
	case parser.Ack:
		if k != kindArray {
			return invalidf("ACK payload must be an array")
		}
		if !p.HasID {
			return invalidf("ACK packet without an ack id")
		}
	}
	if len(cv.atts) > 0 {
		if cv.placeholderSeen {
			return invalidf("payload holds both binary values and a {\"_placeholder\":true} map, which would be ambiguous")
		}
		p.Attachments = cv.atts
		if p.Type == parser.Event {
			p.Type = parser.BinaryEvent
		} else {
			p.Type = parser.BinaryAck
		}
	}
	p.Data = cv.out
	return nil
}

// isUndefined reports whether the msgpack value v is notepack.io's
// undefined (fixext 1 of type 0).
func isUndefined(v []byte) bool {
	return len(v) == 3 && v[0] == msgpcode.FixExt1 && v[1] == 0
}

// reader reads msgpack values from a byte slice, with vmihailenco/msgpack
// decoding the headers. Strings and binary values are sliced out of the input
// without copying.
type reader struct {
	data []byte
	br   bytes.Reader
	dec  *msgpack.Decoder
}

func (r *reader) reset(data []byte) {
	r.data = data
	r.br.Reset(data)
	if r.dec == nil {
		// *bytes.Reader is an io.ByteScanner, so the decoder reads it
		// directly, without a buffer of its own: r.pos stays exact.
		r.dec = msgpack.NewDecoder(&r.br)
	} else {
		r.dec.ResetReader(&r.br)
	}
}

func (r *reader) pos() int       { return len(r.data) - r.br.Len() }
func (r *reader) remaining() int { return r.br.Len() }

func (r *reader) peek() (byte, error) {
	c, err := r.dec.PeekCode()
	if err != nil {
		return 0, invalidf("truncated message")
	}
	return c, nil
}

// take returns the next n bytes of the input.
func (r *reader) take(n int) ([]byte, error) {
	if n < 0 || n > r.remaining() {
		return nil, invalidf("value of %d bytes longer than the message", n)
	}
	p := r.pos()
	_, _ = r.br.Seek(int64(n), io.SeekCurrent)
	return r.data[p : p+n : p+n], nil
}

func malformed(err error) error {
	return invalidf("malformed msgpack: %v", err)
}

// isMap, isArray, isUint and isInt classify msgpack type codes.
func isMap(c byte) bool {
	return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32
}

func isArray(c byte) bool {
	return msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32
}

func isUint(c byte) bool {
	return c <= msgpcode.PosFixedNumHigh || (c >= msgpcode.Uint8 && c <= msgpcode.Uint64)
}

func isInt(c byte) bool {
	return c >= msgpcode.NegFixedNumLow || (c >= msgpcode.Int8 && c <= msgpcode.Int64)
}

// conv converts one msgpack value to JSON, as notepack.io decodes it and
// JSON.stringify would then write it, except for binary values.
type conv struct {
	r        *reader
	maxDepth int
	maxAtts  int  // < 0: no limit
	binary   bool // binary values become placeholders (else Buffer.toJSON objects)
	out      []byte
	atts     [][]byte
	scratch  []byte

	placeholderSeen bool // a map with "_placeholder": true was decoded
	// The first element of the top-level array: its kind (kindUndefined if
	// there is none) and its JSON text out[firstStart:firstEnd].
	firstKind            kind
	firstStart, firstEnd int
}

// value converts the next value, at nesting depth depth, appending its JSON
// form to cv.out (nothing for undefined).
func (cv *conv) value(depth int) (kind, error) {
	r := cv.r
	c, err := r.peek()
	if err != nil {
		return 0, err
	}
	switch {
	case isUint(c):
		n, err := r.dec.DecodeUint64()
		if err != nil {
			return 0, malformed(err)
		}
		cv.out = strconv.AppendUint(cv.out, n, 10)
		return kindNumber, nil
	case isInt(c):
		n, err := r.dec.DecodeInt64()
		if err != nil {
			return 0, malformed(err)
		}
		cv.out = strconv.AppendInt(cv.out, n, 10)
		return kindNumber, nil
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := r.dec.DecodeFloat64()
		if err != nil {
			return 0, malformed(err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			cv.out = append(cv.out, "null"...) // JSON.stringify(NaN)
			return kindNull, nil
		}
		cv.out = appendNumber(cv.out, f)
		return kindNumber, nil
	case c == msgpcode.Nil:
		_, _ = r.br.ReadByte()
		cv.out = append(cv.out, "null"...)
		return kindNull, nil
	case c == msgpcode.False:
		_, _ = r.br.ReadByte()
		cv.out = append(cv.out, "false"...)
		return kindFalse, nil
	case c == msgpcode.True:
		_, _ = r.br.ReadByte()
		cv.out = append(cv.out, "true"...)
		return kindTrue, nil
	case msgpcode.IsString(c):
		b, err := cv.bytes()
		if err != nil {
			return 0, err
		}
		cv.out = appendString(cv.out, b)
		return kindString, nil
	case msgpcode.IsBin(c):
		b, err := cv.bytes()
		if err != nil {
			return 0, err
		}
		return kindBinary, cv.binaryValue(b)
	case isArray(c):
		return kindArray, cv.array(depth)
	case isMap(c):
		return kindMap, cv.object(depth)
	case msgpcode.IsExt(c):
		return cv.ext(c)
	}
	return 0, invalidf("unknown msgpack code 0x%02x", c)
}

// bytes reads a str or bin value.
func (cv *conv) bytes() ([]byte, error) {
	n, err := cv.r.dec.DecodeBytesLen()
	if err != nil {
		return nil, malformed(err)
	}
	return cv.r.take(n)
}

func (cv *conv) array(depth int) error {
	r := cv.r
	if depth >= cv.maxDepth {
		return invalidf("nested deeper than %d", cv.maxDepth)
	}
	n, err := r.dec.DecodeArrayLen()
	if err != nil {
		return malformed(err)
	}
	if n > r.remaining() {
		return invalidf("array of %d elements longer than the message", n)
	}
	cv.out = append(cv.out, '[')
	for i := range n {
		if i > 0 {
			cv.out = append(cv.out, ',')
		}
		start := len(cv.out)
		k, err := cv.value(depth + 1)
		if err != nil {
			return err
		}
		if k == kindUndefined {
			cv.out = append(cv.out, "null"...) // JSON.stringify([undefined])
			k = kindNull
		}
		if depth == 0 && i == 0 {
			cv.firstKind, cv.firstStart, cv.firstEnd = k, start, len(cv.out)
		}
	}
	cv.out = append(cv.out, ']')
	return nil
}

func (cv *conv) object(depth int) error {
	r := cv.r
	if depth >= cv.maxDepth {
		return invalidf("nested deeper than %d", cv.maxDepth)
	}
	n, err := r.dec.DecodeMapLen()
	if err != nil {
		return malformed(err)
	}
	if n > r.remaining()/2 {
		return invalidf("map of %d entries longer than the message", n)
	}
	cv.out = append(cv.out, '{')
	members := 0
	isPlaceholder := false
	for range n {
		mark := len(cv.out)
		if members > 0 {
			cv.out = append(cv.out, ',')
		}
		key, err := cv.key()
		if err != nil {
			return err
		}
		cv.out = appendString(cv.out, key)
		cv.out = append(cv.out, ':')
		placeholderKey := string(key) == "_placeholder"
		k, err := cv.value(depth + 1)
		if err != nil {
			return err
		}
		if placeholderKey { // a repeated key: the last one counts
			isPlaceholder = k == kindTrue
		}
		if k == kindUndefined {
			cv.out = cv.out[:mark] // JSON.stringify({a: undefined}) is {}
			continue
		}
		members++
	}
	if isPlaceholder {
		cv.placeholderSeen = true
	}
	cv.out = append(cv.out, '}')
	return nil
}

// key reads a map key and returns it as JavaScript turns it into a property
// name: strings as they are, numbers, booleans, null and undefined as
// String() writes them. Other keys are rejected. The result is valid until
// the next call.
func (cv *conv) key() ([]byte, error) {
	r := cv.r
	c, err := r.peek()
	if err != nil {
		return nil, err
	}
	if msgpcode.IsString(c) {
		return cv.bytes()
	}
	save := cv.out
	cv.out = cv.scratch[:0]
	defer func() { cv.scratch, cv.out = cv.out, save }()
	switch {
	case isUint(c), isInt(c), c == msgpcode.Nil, c == msgpcode.True, c == msgpcode.False:
		if _, err := cv.value(0); err != nil {
			return nil, err
		}
	case c == msgpcode.Float || c == msgpcode.Double:
		f, err := r.dec.DecodeFloat64()
		if err != nil {
			return nil, malformed(err)
		}
		switch {
		case math.IsNaN(f):
			cv.out = append(cv.out, "NaN"...)
		case math.IsInf(f, 1):
			cv.out = append(cv.out, "Infinity"...)
		case math.IsInf(f, -1):
			cv.out = append(cv.out, "-Infinity"...)
		default:
			cv.out = appendNumber(cv.out, f)
		}
	case c == msgpcode.FixExt1:
		if _, err := cv.value(0); err != nil {
			return nil, err
		}
		if len(cv.out) > 0 { // an ext value other than undefined
			return nil, invalidf("unsupported map key")
		}
		cv.out = append(cv.out, "undefined"...)
	default:
		return nil, invalidf("unsupported map key (msgpack code 0x%02x)", c)
	}
	return cv.out, nil
}

// ext converts an ext value as notepack.io decodes it: type 0 is undefined
// (fixext 1), a Date (fixext 8) or an ArrayBuffer (ext 8/16/32); any other
// value becomes the array [type, <binary>].
func (cv *conv) ext(c byte) (kind, error) {
	id, n, err := cv.r.dec.DecodeExtHeader()
	if err != nil {
		return 0, malformed(err)
	}
	b, err := cv.r.take(n)
	if err != nil {
		return 0, err
	}
	if id == 0 {
		switch c {
		case msgpcode.FixExt1:
			return kindUndefined, nil
		case msgpcode.FixExt8:
			return cv.date(b), nil
		case msgpcode.Ext8, msgpcode.Ext16, msgpcode.Ext32:
			return kindBinary, cv.binaryValue(b)
		}
	}
	cv.out = append(cv.out, '[')
	cv.out = strconv.AppendInt(cv.out, int64(id), 10)
	cv.out = append(cv.out, ',')
	if err := cv.binaryValue(b); err != nil {
		return 0, err
	}
	cv.out = append(cv.out, ']')
	return kindArray, nil
}

// maxDateMillis is the largest absolute time value of a JavaScript Date.
const maxDateMillis = 8.64e15

// date writes the timestamp (milliseconds since the epoch, big-endian int64)
// as Date.prototype.toJSON does, or null for an invalid date.
func (cv *conv) date(b []byte) kind {
	hi := int64(int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])))
	lo := int64(uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]))
	ms := hi<<32 + lo
	if ms > maxDateMillis || ms < -maxDateMillis {
		cv.out = append(cv.out, "null"...)
		return kindNull
	}
	t := time.UnixMilli(ms).UTC()
	var buf [32]byte
	s := buf[:0]
	switch y := t.Year(); {
	case y >= 0 && y <= 9999:
		s = appendPadded(s, y, 4)
	case y < 0:
		s = appendPadded(append(s, '-'), -y, 6)
	default:
		s = appendPadded(append(s, '+'), y, 6)
	}
	s = appendPadded(append(s, '-'), int(t.Month()), 2)
	s = appendPadded(append(s, '-'), t.Day(), 2)
	s = appendPadded(append(s, 'T'), t.Hour(), 2)
	s = appendPadded(append(s, ':'), t.Minute(), 2)
	s = appendPadded(append(s, ':'), t.Second(), 2)
	s = appendPadded(append(s, '.'), t.Nanosecond()/1e6, 3)
	s = append(s, 'Z')
	cv.out = appendString(cv.out, s)
	return kindDate
}

func appendPadded(dst []byte, n, width int) []byte {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// binaryValue writes a binary value: a placeholder for a new attachment in
// events and acks, else the JSON form of a Node.js Buffer, which is what the
// default parser would carry for it.
func (cv *conv) binaryValue(b []byte) error {
	if !cv.binary {
		cv.out = append(cv.out, `{"type":"Buffer","data":[`...)
		for i, x := range b {
			if i > 0 {
				cv.out = append(cv.out, ',')
			}
			cv.out = strconv.AppendUint(cv.out, uint64(x), 10)
		}
		cv.out = append(cv.out, "]}"...)
		return nil
	}
	if cv.maxAtts >= 0 && len(cv.atts) >= cv.maxAtts {
		return parser.ErrTooManyAttachments
	}
	cv.out = append(cv.out, `{"_placeholder":true,"num":`...)
	cv.out = strconv.AppendInt(cv.out, int64(len(cv.atts)), 10)
	cv.out = append(cv.out, '}')
	cv.atts = append(cv.atts, b)
	return nil
}

// appendNumber writes a finite float as JavaScript's String(n) (and
// JSON.stringify) does.
func appendNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0') // -0 too
	}
	format := byte('f')
	if a := math.Abs(f); a < 1e-6 || a >= 1e21 {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 -> 1e-7, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendString writes s as a JSON string as JSON.stringify does: only '"',
// '\\' and control characters are escaped. Invalid UTF-8 becomes U+FFFD, as
// Node.js decodes it.
func appendString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
