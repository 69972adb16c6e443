package parser

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
)

// SplitArray returns the elements of the JSON array data (the payload of an
// EVENT or ACK). The elements share memory with data and keep their
// placeholders; pass them to Unmarshal or Reconstruct with the packet's
// attachments.
func SplitArray(data json.RawMessage) ([]json.RawMessage, error) {
	elems, err := splitArray(data)
	if err != nil {
		return nil, invalidf("payload is not a JSON array")
	}
	return elems, nil
}

// DecodeEvent returns the name and the raw arguments of an EVENT or
// BinaryEvent packet. A numeric name is returned in its JavaScript string
// form ("1", "2.5"). The arguments share memory with p.Data and keep their
// placeholders: decode each with Unmarshal(arg, p.Attachments, &v) or
// Reconstruct(arg, p.Attachments).
func DecodeEvent(p *Packet) (name string, args []json.RawMessage, err error) {
	if p.Type != Event && p.Type != BinaryEvent {
		return "", nil, invalidf("%s packet is not an event", p.Type)
	}
	elems, err := SplitArray(p.Data)
	if err != nil {
		return "", nil, err
	}
	if name, err = eventName(p.Data); err != nil {
		return "", nil, err
	}
	return name, elems[1:], nil
}

// Reconstruct decodes the JSON value raw as json.Unmarshal does into an any
// (objects become map[string]any, numbers float64), except that when
// attachments is not empty every placeholder {"_placeholder":true,"num":N}
// becomes the []byte attachments[N] (not a copy).
//
// Pass the packet's Attachments: they are non-empty exactly for BinaryEvent
// and BinaryAck packets, the only ones whose placeholders stand for binary
// data. A placeholder without a valid index is an error.
func Reconstruct(raw json.RawMessage, attachments [][]byte) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if len(attachments) == 0 {
		return v, nil
	}
	return restore(v, attachments)
}

func restore(v any, atts [][]byte) (any, error) {
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			r, err := restore(e, atts)
			if err != nil {
				return nil, err
			}
			x[i] = r
		}
	case map[string]any:
		if x["_placeholder"] == true {
			n, ok := x["num"].(float64)
			if !ok || n != math.Trunc(n) || n < 0 || n >= float64(len(atts)) {
				return nil, invalidf("placeholder without a valid attachment number (have %d attachments)", len(atts))
			}
			return atts[int(n)], nil
		}
		for k, e := range x {
			r, err := restore(e, atts)
			if err != nil {
				return nil, err
			}
			x[k] = r
		}
	}
	return v, nil
}

// Unmarshal decodes the JSON value raw into v like json.Unmarshal, with the
// binary attachments put back: when attachments is not empty, each
// placeholder is decoded as if it were the attachment, so that a []byte
// destination receives the attachment's bytes (a copy).
//
// If v is a *any, the result is that of Reconstruct. Otherwise placeholders
// are handed to encoding/json as base64 strings, which is what it decodes
// into []byte; a destination of another type (an interface inside a map or a
// struct, a string) receives that base64 string. Use []byte fields for binary
// data, or decode into *any.
func Unmarshal(raw json.RawMessage, attachments [][]byte, v any) error {
	if ps, ok := v.(*string); ok && ps != nil {
		if s, ok := plainString(raw); ok {
			*ps = s // what encoding/json gives, without its machinery
			return nil
		}
	}
	if len(attachments) == 0 {
		return json.Unmarshal(raw, v)
	}
	if pv, ok := v.(*any); ok && pv != nil {
		r, err := Reconstruct(raw, attachments)
		if err != nil {
			return err
		}
		*pv = r
		return nil
	}
	found, err := findPlaceholders(raw, len(attachments))
	if err != nil {
		if err == errSyntax {
			return json.Unmarshal(raw, v) // reports the syntax error
		}
		return err
	}
	if len(found) == 0 {
		return json.Unmarshal(raw, v)
	}
	if pb, ok := v.(*[]byte); ok && pb != nil && len(found) == 1 &&
		skipSpace(raw, 0) == found[0].start && skipSpace(raw, found[0].end) == len(raw) {
		*pb = bytes.Clone(attachments[found[0].num]) // the whole value is one attachment
		if *pb == nil {
			*pb = []byte{}
		}
		return nil
	}
	size := len(raw)
	for _, p := range found {
		size += base64.StdEncoding.EncodedLen(len(attachments[p.num])) + 2 - (p.end - p.start)
	}
	out := make([]byte, 0, size)
	last := 0
	for _, p := range found {
		out = append(out, raw[last:p.start]...)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[p.num])
		out = append(out, '"')
		last = p.end
	}
	out = append(out, raw[last:]...)
	return json.Unmarshal(out, v)
}

// EventName returns the name of an EVENT or BINARY_EVENT packet without
// decoding its arguments (a number in its JavaScript string form, the name
// a Node server would look up).
func EventName(p *Packet) (string, error) {
	if p.Type != Event && p.Type != BinaryEvent {
		return "", invalidf("%s packet has no event name", p.Type)
	}
	return eventName(p.Data)
}
