package msgpack

// A reference JSON-to-msgpack encoder for the differential fuzz test: it
// parses with encoding/json's tokenizer into a tree and writes with
// vmihailenco/msgpack's Encoder, independently of encode.go's scanner and
// writers.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

const maxEncodeDepth = 10000

// refEncodeJSON writes the JSON value data as msgpack, placeholders becoming
// the bin values of atts when atts is not empty.
func refEncodeJSON(data []byte, atts [][]byte) ([]byte, error) {
	n, err := parseJSON(data)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	w := jsonWriter{enc: enc, atts: atts}
	if err := w.node(n); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// node is a parsed JSON value; object members keep their order.
type node struct {
	kind  byte   // '{', '[', '"' (string), '0' (number), 't', 'f' or 'n' (null)
	text  string // a string's value, a number's literal
	keys  []string
	elems []*node // array elements, or object member values
}

// parseJSON parses data into a tree, keeping repeated keys.
func parseJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := parseValue(dec, 0)
	if err != nil {
		return nil, invalidf("payload is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidf("payload is not valid JSON: data after the value")
	}
	return n, nil
}

var errTooDeep = errors.New("nested too deeply")

func parseValue(dec *json.Decoder, depth int) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case string:
		return &node{kind: '"', text: v}, nil
	case json.Number:
		return &node{kind: '0', text: string(v)}, nil
	case bool:
		if v {
			return &node{kind: 't'}, nil
		}
		return &node{kind: 'f'}, nil
	case nil:
		return &node{kind: 'n'}, nil
	case json.Delim:
		if depth >= maxEncodeDepth {
			return nil, errTooDeep
		}
		n := &node{kind: byte(v)}
		for dec.More() {
			var key string
			if v == '{' {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, _ = kt.(string)
			}
			e, err := parseValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			if v == '[' {
				n.elems = append(n.elems, e)
				continue
			}
			n.keys = append(n.keys, key)
			n.elems = append(n.elems, e)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	}
	return nil, errors.New("unexpected token")
}

// member returns the index of the last member named key of the object n,
// or -1.
func (n *node) member(key string) int {
	for i := len(n.keys) - 1; i >= 0; i-- {
		if n.keys[i] == key {
			return i
		}
	}
	return -1
}

// jsonWriter writes parsed JSON as msgpack; placeholders become the msgpack
// bin values of atts when atts is not empty.
type jsonWriter struct {
	enc  *msgpack.Encoder
	atts [][]byte
}

func (w *jsonWriter) node(n *node) error {
	e := w.enc
	switch n.kind {
	case '{':
		if len(w.atts) > 0 {
			if num, ok := n.placeholder(); ok {
				if num < 0 || num >= len(w.atts) {
					return invalidf("placeholder without a valid attachment number (have %d attachments)", len(w.atts))
				}
				b := w.atts[num]
				if b == nil {
					b = []byte{} // EncodeBytes writes nil as msgpack nil
				}
				return e.EncodeBytes(b)
			}
		}
		_ = e.EncodeMapLen(len(n.keys))
		for i, k := range n.keys {
			_ = e.EncodeString(k)
			if err := w.node(n.elems[i]); err != nil {
				return err
			}
		}
		return nil
	case '[':
		_ = e.EncodeArrayLen(len(n.elems))
		for _, x := range n.elems {
			if err := w.node(x); err != nil {
				return err
			}
		}
		return nil
	case '"':
		return e.EncodeString(n.text)
	case '0':
		return encodeNumber(e, n.text)
	case 't':
		return e.EncodeBool(true)
	case 'f':
		return e.EncodeBool(false)
	}
	return e.EncodeNil()
}

// placeholder reports whether the object n is a placeholder (its
// "_placeholder" member is true, as socket.io-parser recognizes them) and
// returns its "num", or -1 when that is not a non-negative integer.
func (n *node) placeholder() (int, bool) {
	i := n.member("_placeholder")
	if i < 0 || n.elems[i].kind != 't' {
		return 0, false
	}
	j := n.member("num")
	if j < 0 || n.elems[j].kind != '0' {
		return -1, true
	}
	f, err := strconv.ParseFloat(n.elems[j].text, 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return -1, true
	}
	return int(f), true
}

// encodeNumber writes the JSON number literal s as notepack.io writes the
// JavaScript number: integral values as the smallest msgpack integer, others
// as float 64. Integer literals beyond 2^53 keep their exact value.
func encodeNumber(e *msgpack.Encoder, s string) error {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return e.EncodeInt(i)
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return e.EncodeUint(u)
		}
	}
	f, err := strconv.ParseFloat(s, 64) // out of range: ±Inf, as JSON.parse gives
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return invalidf("malformed number %q", s)
	}
	if f == math.Trunc(f) {
		switch {
		case f >= -(1<<63) && f < 1<<63:
			return e.EncodeInt(int64(f))
		case f >= 0 && f < 1<<64:
			return e.EncodeUint(uint64(f))
		}
	}
	return e.EncodeFloat64(f)
}
