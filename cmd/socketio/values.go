package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gosio/socketio/parser"
)

// Binary values are written, and may be typed, as {"$binary":"<base64>"}:
// JSON has no bytes, and Socket.IO carries them as attachments.
const binaryKey = "$binary"

// node is a parsed JSON value that keeps the order of object keys and the
// exact text of numbers, so that what the CLI prints is what the peer sent.
type node struct {
	kind   byte // 'o' object, 'a' array, 's' scalar
	keys   []string
	vals   []*node
	scalar json.RawMessage
}

const maxDepth = 1000

func parseNode(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return n, nil
}

func readNode(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: 'o'}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := readNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, k)
				n.vals = append(n.vals, v)
			}
			_, err := dec.Token() // '}'
			return n, err
		case '[':
			n := &node{kind: 'a'}
			for dec.More() {
				v, err := readNode(dec, depth+1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
			_, err := dec.Token() // ']'
			return n, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return &node{kind: 's', scalar: json.RawMessage(t)}, nil
	default: // string, bool, nil
		b, err := marshalNoEscape(t)
		if err != nil {
			return nil, err
		}
		return &node{kind: 's', scalar: b}, nil
	}
}

func marshalNoEscape(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func (n *node) get(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// attachment returns the attachment a Socket.IO placeholder
// {"_placeholder":true,"num":N} refers to.
func (n *node) attachment(atts [][]byte) ([]byte, bool) {
	if n.kind != 'o' || len(n.keys) != 2 {
		return nil, false
	}
	p, num := n.get("_placeholder"), n.get("num")
	if p == nil || num == nil || string(p.scalar) != "true" || num.kind != 's' {
		return nil, false
	}
	var i int
	if err := json.Unmarshal(num.scalar, &i); err != nil || i < 0 || i >= len(atts) {
		return nil, false
	}
	return atts[i], true
}

// binaryMarker returns the bytes of a {"$binary":"<base64>"} object.
func (n *node) binaryMarker() ([]byte, bool, error) {
	if n.kind != 'o' || len(n.keys) != 1 || n.keys[0] != binaryKey {
		return nil, false, nil
	}
	var s string
	if err := json.Unmarshal(n.vals[0].scalar, &s); err != nil {
		return nil, true, fmt.Errorf("%s: want a base64 string", binaryKey)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %v", binaryKey, err)
	}
	return b, true, nil
}

// style says how to write a value: binary values and, for the pretty
// form, colors.
type style struct {
	binary func(b *strings.Builder, data []byte)
	color  bool
}

// write writes n as compact JSON, placeholders replaced by their
// attachment in st's form.
func (n *node) write(b *strings.Builder, atts [][]byte, st style) {
	if data, ok := n.attachment(atts); ok {
		st.binary(b, data)
		return
	}
	switch n.kind {
	case 'o':
		b.WriteByte('{')
		for i, k := range n.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := marshalNoEscape(k)
			b.Write(kb)
			b.WriteByte(':')
			n.vals[i].write(b, atts, st)
		}
		b.WriteByte('}')
	case 'a':
		b.WriteByte('[')
		for i, v := range n.vals {
			if i > 0 {
				b.WriteByte(',')
			}
			v.write(b, atts, st)
		}
		b.WriteByte(']')
	default:
		if st.color {
			b.WriteString(scalarColor(n.scalar))
			b.Write(n.scalar)
			b.WriteString(ansiReset)
			return
		}
		b.Write(n.scalar)
	}
}

// value converts n to a Go value to emit: objects become maps, numbers
// json.Number, placeholders their attachment and, with markers (what a
// user typed), {"$binary":...} its bytes; []byte values are sent as
// attachments.
func (n *node) value(atts [][]byte, markers bool) (any, error) {
	if data, ok := n.attachment(atts); ok {
		return data, nil
	}
	if markers {
		if data, ok, err := n.binaryMarker(); ok || err != nil {
			return data, err
		}
	}
	switch n.kind {
	case 'o':
		m := make(map[string]any, len(n.keys))
		for i, k := range n.keys {
			v, err := n.vals[i].value(atts, markers)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case 'a':
		l := make([]any, len(n.vals))
		for i, e := range n.vals {
			v, err := e.value(atts, markers)
			if err != nil {
				return nil, err
			}
			l[i] = v
		}
		return l, nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(n.scalar))
	dec.UseNumber()
	err := dec.Decode(&v)
	return v, err
}

// hasBinary reports whether n holds a placeholder or a binary marker.
func (n *node) hasBinary(atts [][]byte) bool {
	if _, ok := n.attachment(atts); ok {
		return true
	}
	if _, ok, _ := n.binaryMarker(); ok {
		return true
	}
	for _, v := range n.vals {
		if v.hasBinary(atts) {
			return true
		}
	}
	return false
}

// emitArg turns one JSON argument typed by the user into the value to
// emit: the JSON as it is, or, when it holds {"$binary":...} markers, a
// value whose bytes travel as binary attachments.
func emitArg(text string) (any, error) {
	n, err := parseNode([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("not JSON (%v): %s (quote strings: '\"text\"')", err, text)
	}
	if !n.hasBinary(nil) {
		var b strings.Builder
		n.write(&b, nil, style{})
		return json.RawMessage(b.String()), nil
	}
	return n.value(nil, true)
}

// emitArgs is emitArg for each argument.
func emitArgs(texts []string) ([]any, error) {
	args := make([]any, len(texts))
	for i, t := range texts {
		v, err := emitArg(t)
		if err != nil {
			return nil, fmt.Errorf("argument %d: %w", i+1, err)
		}
		args[i] = v
	}
	return args, nil
}

// echoArgs returns received arguments ready to be sent again: raw JSON
// when there is no binary, else values with their attachments.
func echoArgs(a parser.Args) ([]any, error) {
	out := make([]any, a.Len())
	atts := a.Attachments()
	for i := range out {
		raw := a.Raw(i)
		if len(atts) == 0 {
			out[i] = raw
			continue
		}
		n, err := parseNode(raw)
		if err != nil {
			return nil, err
		}
		if out[i], err = n.value(atts, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// jsonBinary writes data as {"$binary":"<base64>"}.
func jsonBinary(b *strings.Builder, data []byte) {
	b.WriteString(`{"` + binaryKey + `":"`)
	b.WriteString(base64.StdEncoding.EncodeToString(data))
	b.WriteString(`"}`)
}

// argsJSON writes the arguments as a JSON array, binary values as
// {"$binary":"<base64>"}.
func argsJSON(a parser.Args) (string, error) {
	return renderArgs(a, ",", "[", "]", style{binary: jsonBinary})
}

// renderArgs writes each argument, in st's form, between open and close,
// separated by sep.
func renderArgs(a parser.Args, sep, open, close string, st style) (string, error) {
	var b strings.Builder
	b.WriteString(open)
	for i := range a.Len() {
		n, err := parseNode(a.Raw(i))
		if err != nil {
			return "", fmt.Errorf("argument %d: %w", i+1, err)
		}
		if i > 0 {
			b.WriteString(sep)
		}
		n.write(&b, a.Attachments(), st)
	}
	b.WriteString(close)
	return b.String(), nil
}

// parseLine reads a line typed in connect: an event name, then zero or
// more JSON values separated by spaces. A name with spaces, or one that
// starts with a quote, a colon or '#', is written as a JSON string.
func parseLine(line string) (event string, args []any, err error) {
	line = strings.TrimSpace(line)
	rest := ""
	if strings.HasPrefix(line, `"`) {
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&event); err != nil {
			return "", nil, fmt.Errorf("event name: %v", err)
		}
		rest = line[dec.InputOffset():]
	} else {
		event = line
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			event, rest = line[:i], line[i:]
		}
	}
	if event == "" {
		return "", nil, errors.New("no event name")
	}
	texts, err := splitJSON(rest)
	if err != nil {
		return "", nil, err
	}
	args, err = emitArgs(texts)
	return event, args, err
}

// splitJSON cuts s into consecutive JSON values.
func splitJSON(s string) ([]string, error) {
	var out []string
	dec := json.NewDecoder(strings.NewReader(s))
	for i := 1; ; i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("argument %d: not JSON (%v) (quote strings: \"text\")", i, err)
		}
		out = append(out, string(raw))
	}
}
