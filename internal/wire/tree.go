// Package wire holds what the cluster adapters share on the wire: a tree of
// JavaScript-like values with its JSON and msgpack codecs (the notepack.io
// bridge), the shapes socket.io-adapter gives packets, options and sockets,
// and the bookkeeping of cluster requests. It has no dependencies outside
// the standard library and the core module, so that every adapter module
// (and the msgpack parser) uses the same one.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// The codec works on a small tree of JavaScript-like values, so that what
// travels between servers keeps the shape notepack.io (the Node adapter's
// msgpack codec) and JSON.stringify give it:
//
//	nil, bool, int64, uint64 (integers above MaxInt64), float64 (non-integers,
//	NaN, ±Inf), string, []byte (a Buffer), []any, *Object (a JS object with
//	its key order), time.Time (a Date).
//
// Integers are kept apart from floats so that re-encoding gives notepack's
// bytes: 1.0 is written as the integer 1, as in JavaScript.

// Object is a JavaScript object: string keys in their order.
type Object struct {
	Keys []string
	Vals []any
}

// Obj builds an Object from key, value pairs.
func Obj(kv ...any) *Object {
	o := &Object{}
	for i := 0; i+1 < len(kv); i += 2 {
		o.Set(kv[i].(string), kv[i+1])
	}
	return o
}

// Set sets the value of key k, appending k when it is new.
func (o *Object) Set(k string, v any) {
	for i, kk := range o.Keys {
		if kk == k {
			o.Vals[i] = v
			return
		}
	}
	o.Keys = append(o.Keys, k)
	o.Vals = append(o.Vals, v)
}

// Get returns the value of key k (false when absent or o is nil).
func (o *Object) Get(k string) (any, bool) {
	if o == nil {
		return nil, false
	}
	for i, kk := range o.Keys {
		if kk == k {
			return o.Vals[i], true
		}
	}
	return nil, false
}

// maxDepth bounds the nesting of decoded values (a malformed or hostile
// message cannot exhaust the stack).
const maxDepth = 512

var errDepth = errors.New("wire: value nested too deeply")

// ---- JSON ----

// DecodeJSON reads a JSON value into the tree, keeping key order and
// integers. With attachments, Placeholders {"_placeholder":true,"num":N}
// become the attachments' bytes.
func DecodeJSON(raw []byte, atts [][]byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := readJSON(dec, atts, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("wire: trailing data after JSON value")
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
			o := &Object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errors.New("wire: bad JSON key")
				}
				e, err := readJSON(dec, atts, depth+1)
				if err != nil {
					return nil, err
				}
				o.Set(k, e)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			if len(atts) > 0 && len(o.Keys) == 2 {
				if ph, _ := o.Get("_placeholder"); ph == true {
					if n, ok := o.Get("num"); ok {
						if i, ok := n.(int64); ok && i >= 0 && i < int64(len(atts)) {
							return atts[i], nil
						}
					}
				}
			}
			return o, nil
		}
		return nil, errors.New("wire: unexpected JSON delimiter")
	case json.Number:
		return jsonNumber(string(t))
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("wire: unexpected JSON token %T", tok)
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

// JSONMode says how EncodeJSON writes binary values.
type JSONMode int

const (
	// Placeholders: each []byte becomes a Socket.IO placeholder and is
	// returned as an attachment.
	Placeholders JSONMode = iota
	// NodeBuffers: each []byte becomes {"type":"Buffer","data":[...]}, as
	// JSON.stringify writes a Node Buffer.
	NodeBuffers
)

// EncodeJSON writes v as JSON.stringify would (no HTML escaping, NaN and
// infinities as null, dates as ISO strings).
func EncodeJSON(v any, mode JSONMode) (json.RawMessage, [][]byte, error) {
	w := &jsonWriter{mode: mode}
	if err := w.value(v, 0); err != nil {
		return nil, nil, err
	}
	return w.buf.Bytes(), w.atts, nil
}

type jsonWriter struct {
	buf  bytes.Buffer
	mode JSONMode
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
		if w.mode == Placeholders {
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
	case *Object:
		if x == nil {
			w.buf.WriteString("null")
			return nil
		}
		w.buf.WriteByte('{')
		for i, k := range x.Keys {
			if i > 0 {
				w.buf.WriteByte(',')
			}
			w.str(k)
			w.buf.WriteByte(':')
			if err := w.value(x.Vals[i], depth+1); err != nil {
				return err
			}
		}
		w.buf.WriteByte('}')
	case json.RawMessage:
		w.buf.Write(x)
	default:
		return fmt.Errorf("wire: cannot encode %T as JSON", v)
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

// JSString converts a value to a string as JavaScript's String() does for
// room names and Object keys.
func JSString(v any) string {
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

// AsInt reads a number as an int64 (false when v is not a number).
func AsInt(v any) (int64, bool) {
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

// AsStrings reads an array of room names (numbers accepted).
func AsStrings(v any) []string {
	a, _ := v.([]any)
	out := make([]string, 0, len(a))
	for _, e := range a {
		out = append(out, JSString(e))
	}
	return out
}

// DecodePayload decodes a request or response: JSON when it starts with
// '{', msgpack otherwise.
func DecodePayload(b []byte) (*Object, error) {
	var v any
	var err error
	if len(b) > 0 && b[0] == '{' {
		v, err = DecodeJSON(b, nil)
	} else {
		v, err = DecodeMsgpack(b)
	}
	if err != nil {
		return nil, err
	}
	o, ok := v.(*Object)
	if !ok {
		return nil, fmt.Errorf("wire: message is a %T, not an Object", v)
	}
	return o, nil
}

// HasBinary reports whether v holds a []byte.
func HasBinary(v any) bool {
	switch x := v.(type) {
	case []byte:
		return true
	case []any:
		for _, e := range x {
			if HasBinary(e) {
				return true
			}
		}
	case *Object:
		if x == nil {
			return false
		}
		for _, e := range x.Vals {
			if HasBinary(e) {
				return true
			}
		}
	}
	return false
}

// EncodeData writes the data of a cluster message: msgpack (binary true)
// when mayBinary and it holds binary values, JSON otherwise.
func EncodeData(data *Object, mayBinary bool) (b []byte, binary bool, err error) {
	if data == nil {
		data = &Object{}
	}
	if mayBinary && HasBinary(data) {
		b, err = EncodeMsgpack(data)
		return b, true, err
	}
	b, _, err = EncodeJSON(data, NodeBuffers)
	return b, false, err
}
