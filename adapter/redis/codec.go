package redis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The codec works on a small tree of JavaScript-like values, so that what
// travels through Redis keeps the shape notepack.io (the Node adapter's
// msgpack codec) and JSON.stringify give it:
//
//	nil, bool, int64, uint64 (integers above MaxInt64), float64 (non-integers,
//	NaN, ±Inf), string, []byte (a Buffer), []any, *object (a JS object with
//	its key order), time.Time (a Date).
//
// Integers are kept apart from floats so that re-encoding gives notepack's
// bytes: 1.0 is written as the integer 1, as in JavaScript.

// object is a JavaScript object: string keys in order.
type object struct {
	keys []string
	vals []any
}

// obj builds an object from key, value pairs.
func obj(kv ...any) *object {
	o := &object{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.set(kv[i].(string), kv[i+1])
	}
	return o
}

func (o *object) set(k string, v any) {
	for i, kk := range o.keys {
		if kk == k {
			o.vals[i] = v
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *object) get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	for i, kk := range o.keys {
		if kk == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

// maxDepth bounds the nesting of decoded values (a malformed or hostile
// message cannot exhaust the stack).
const maxDepth = 512

var errDepth = errors.New("redis adapter: value nested too deeply")

// ---- msgpack ----

// encodeMsgpack writes v as notepack.io would.
func encodeMsgpack(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	enc.UseCompactFloats(true)
	if err := writeMsgpack(enc, v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeMsgpack(enc *msgpack.Encoder, v any, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch x := v.(type) {
	case nil:
		return enc.EncodeNil()
	case bool:
		return enc.EncodeBool(x)
	case int64:
		return enc.EncodeInt(x)
	case int:
		return enc.EncodeInt(int64(x))
	case uint64:
		return enc.EncodeUint(x)
	case float64:
		return enc.EncodeFloat64(x)
	case string:
		return enc.EncodeString(x)
	case []byte:
		return enc.EncodeBytes(x)
	case time.Time:
		return enc.EncodeTime(x)
	case []any:
		if err := enc.EncodeArrayLen(len(x)); err != nil {
			return err
		}
		for _, e := range x {
			if err := writeMsgpack(enc, e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []string:
		if err := enc.EncodeArrayLen(len(x)); err != nil {
			return err
		}
		for _, e := range x {
			if err := enc.EncodeString(e); err != nil {
				return err
			}
		}
		return nil
	case *object:
		if x == nil {
			return enc.EncodeNil()
		}
		if err := enc.EncodeMapLen(len(x.keys)); err != nil {
			return err
		}
		for i, k := range x.keys {
			if err := enc.EncodeString(k); err != nil {
				return err
			}
			if err := writeMsgpack(enc, x.vals[i], depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("redis adapter: cannot encode %T", v)
}

// decodeMsgpack reads one msgpack value into the value tree. It never
// panics; malformed input gives an error.
func decodeMsgpack(b []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("redis adapter: malformed msgpack: %v", r)
		}
	}()
	r := bytes.NewReader(b)
	dec := msgpack.NewDecoder(r)
	v, err = readMsgpack(dec, r, 0)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return v, err
}

func readMsgpack(dec *msgpack.Decoder, r *bytes.Reader, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	c, err := dec.PeekCode()
	if err != nil {
		return nil, err
	}
	switch {
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		n, err := containerLen(r, dec.DecodeMapLen)
		if n < 0 || err != nil {
			return nil, err
		}
		o := &object{keys: make([]string, 0, n), vals: make([]any, 0, n)}
		for range n {
			k, err := readMsgpack(dec, r, depth+1)
			if err != nil {
				return nil, err
			}
			val, err := readMsgpack(dec, r, depth+1)
			if err != nil {
				return nil, err
			}
			o.set(jsString(k), val)
		}
		return o, nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		n, err := containerLen(r, dec.DecodeArrayLen)
		if n < 0 || err != nil {
			return nil, err
		}
		a := make([]any, 0, n)
		for range n {
			e, err := readMsgpack(dec, r, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, e)
		}
		return a, nil
	}
	if err := checkLength(c, r); err != nil {
		return nil, err
	}
	x, err := dec.DecodeInterface()
	if err != nil {
		return nil, err
	}
	return normalize(x)
}

// containerLen reads the length of a map or an array with decodeLen: -1
// for nil, and an error when it announces more elements than bytes remain.
func containerLen(r *bytes.Reader, decodeLen func() (int, error)) (int, error) {
	n, err := decodeLen()
	if err != nil {
		return 0, err
	}
	if n > r.Len() {
		return 0, io.ErrUnexpectedEOF
	}
	return n, nil
}

// checkLength refuses a string, binary or extension whose announced length
// exceeds the bytes left, before the decoder allocates for it.
func checkLength(c byte, r *bytes.Reader) error {
	var size int // bytes of the length field
	switch c {
	case msgpcode.Str8, msgpcode.Bin8, msgpcode.Ext8:
		size = 1
	case msgpcode.Str16, msgpcode.Bin16, msgpcode.Ext16:
		size = 2
	case msgpcode.Str32, msgpcode.Bin32, msgpcode.Ext32:
		size = 4
	default:
		return nil
	}
	var hdr [5]byte
	pos, _ := r.Seek(0, io.SeekCurrent)
	n, _ := r.ReadAt(hdr[:1+size], pos)
	if n < 1+size {
		return io.ErrUnexpectedEOF
	}
	var l uint64
	for _, x := range hdr[1 : 1+size] {
		l = l<<8 | uint64(x)
	}
	if l > uint64(r.Len()) {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// normalize maps the scalar types of the msgpack decoder to the tree's.
func normalize(x any) (any, error) {
	switch v := x.(type) {
	case nil, bool, string, []byte, float64:
		return v, nil
	case int8:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case int64:
		return v, nil
	case uint8:
		return int64(v), nil
	case uint16:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case uint64:
		if v <= math.MaxInt64 {
			return int64(v), nil
		}
		return v, nil
	case float32:
		return float64(v), nil
	case time.Time:
		return v, nil
	}
	return nil, fmt.Errorf("redis adapter: unsupported msgpack value %T", x)
}

// ---- JSON ----

// decodeJSON reads a JSON value into the tree, keeping key order and
// integers. With attachments, placeholders {"_placeholder":true,"num":N}
// become the attachments' bytes.
func decodeJSON(raw []byte, atts [][]byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readJSON(dec, atts, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("redis adapter: trailing data after JSON value")
	}
	return v, nil
}

func readJSON(dec *json.Decoder, atts [][]byte, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '[':
			a := []any{}
			for dec.More() {
				e, err := readJSON(dec, atts, depth+1)
				if err != nil {
					return nil, err
				}
				a = append(a, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return a, nil
		case '{':
			o := &object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("redis adapter: bad JSON key")
				}
				e, err := readJSON(dec, atts, depth+1)
				if err != nil {
					return nil, err
				}
				o.set(k, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			if len(atts) > 0 && len(o.keys) == 2 {
				if ph, _ := o.get("_placeholder"); ph == true {
					if n, ok := o.get("num"); ok {
						if i, ok := n.(int64); ok && i >= 0 && i < int64(len(atts)) {
							return atts[i], nil
						}
					}
				}
			}
			return o, nil
		}
		return nil, errors.New("redis adapter: unexpected JSON delimiter")
	case json.Number:
		return jsonNumber(string(t))
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("redis adapter: unexpected JSON token %T", tok)
}

func jsonNumber(s string) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of range: JavaScript would read Infinity.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, nil
		}
		return nil, err
	}
	if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return int64(f), nil
	}
	return f, nil
}

// jsonMode says how encodeJSON writes binary values.
type jsonMode int

const (
	// placeholders: each []byte becomes a Socket.IO placeholder and is
	// returned as an attachment.
	placeholders jsonMode = iota
	// nodeBuffers: each []byte becomes {"type":"Buffer","data":[...]}, as
	// JSON.stringify writes a Node Buffer.
	nodeBuffers
)

// encodeJSON writes v as JSON.stringify would (no HTML escaping, NaN and
// infinities as null, dates as ISO strings).
func encodeJSON(v any, mode jsonMode) (json.RawMessage, [][]byte, error) {
	w := &jsonWriter{mode: mode}
	if err := w.value(v, 0); err != nil {
		return nil, nil, err
	}
	return w.buf.Bytes(), w.atts, nil
}

type jsonWriter struct {
	buf  bytes.Buffer
	mode jsonMode
	atts [][]byte
}

func (w *jsonWriter) value(v any, depth int) error {
	if depth > maxDepth {
		return errDepth
	}
	switch x := v.(type) {
	case nil:
		w.buf.WriteString("null")
	case bool:
		w.buf.WriteString(strconv.FormatBool(x))
	case int64:
		w.buf.WriteString(strconv.FormatInt(x, 10))
	case int:
		w.buf.WriteString(strconv.Itoa(x))
	case uint64:
		w.buf.WriteString(strconv.FormatUint(x, 10))
	case float64:
		w.buf.WriteString(jsFloat(x))
	case string:
		w.str(x)
	case time.Time:
		w.str(jsDate(x))
	case []byte:
		if w.mode == placeholders {
			w.buf.WriteString(`{"_placeholder":true,"num":`)
			w.buf.WriteString(strconv.Itoa(len(w.atts)))
			w.buf.WriteByte('}')
			w.atts = append(w.atts, x)
			return nil
		}
		w.buf.WriteString(`{"type":"Buffer","data":[`)
		for i, c := range x {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.buf.WriteString(strconv.Itoa(int(c)))
		}
		w.buf.WriteString("]}")
	case []any:
		w.buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			if err := w.value(e, depth+1); err != nil {
				return err
			}
		}
		w.buf.WriteByte(']')
	case []string:
		w.buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.str(e)
		}
		w.buf.WriteByte(']')
	case *object:
		if x == nil {
			w.buf.WriteString("null")
			return nil
		}
		w.buf.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.str(k)
			w.buf.WriteByte(':')
			if err := w.value(x.vals[i], depth+1); err != nil {
				return err
			}
		}
		w.buf.WriteByte('}')
	case json.RawMessage:
		w.buf.Write(x)
	default:
		return fmt.Errorf("redis adapter: cannot encode %T as JSON", v)
	}
	return nil
}

func (w *jsonWriter) str(s string) {
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	w.buf.Truncate(w.buf.Len() - 1) // the encoder's newline
}

// jsFloat formats f as JavaScript's JSON.stringify.
func jsFloat(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null"
	}
	if f == 0 {
		return "0"
	}
	b, _ := json.Marshal(f) // encoding/json uses the ECMAScript format
	return string(b)
}

// jsDate formats t as Date.prototype.toISOString.
func jsDate(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// jsString converts a value to a string as JavaScript's String() does for
// room names and object keys.
func jsString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		switch {
		case math.IsNaN(x):
			return "NaN"
		case math.IsInf(x, 1):
			return "Infinity"
		case math.IsInf(x, -1):
			return "-Infinity"
		}
		return jsFloat(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

// asInt reads a number as an int64 (false when v is not a number).
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case uint64:
		return math.MaxInt64, true
	case float64:
		if math.IsNaN(x) {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

// asStrings reads an array of room names (numbers accepted).
func asStrings(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, e := range a {
		out = append(out, jsString(e))
	}
	return out
}

// decodePayload decodes a request or response: JSON when it starts with
// '{', msgpack otherwise.
func decodePayload(b []byte) (*object, error) {
	var v any
	var err error
	if len(b) > 0 && b[0] == '{' {
		v, err = decodeJSON(b, nil)
	} else {
		v, err = decodeMsgpack(b)
	}
	if err != nil {
		return nil, err
	}
	o, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("redis adapter: message is a %T, not an object", v)
	}
	return o, nil
}
