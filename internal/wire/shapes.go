package wire

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/parser"
)

// PacketTree is the packet as the classic adapter relays it:
// {type:2, data:[...], nsp}, binary values as msgpack bin.
func PacketTree(p *parser.Packet) (*Object, error) {
	data, err := DecodeJSON(p.Data, p.Attachments)
	if err != nil {
		return nil, err
	}
	nsp := p.Namespace
	if nsp == "" {
		nsp = "/"
	}
	return Obj("type", int64(2), "data", data, "nsp", nsp), nil
}

// TreePacket turns a relayed packet back into a Socket.IO packet of nsp.
func TreePacket(v any, nsp string) (*parser.Packet, error) {
	o, ok := v.(*Object)
	if !ok {
		return nil, errors.New("adapter: packet is not an Object")
	}
	pn := "/"
	if n, ok := o.Get("nsp"); ok && n != nil {
		s, ok := n.(string)
		if !ok {
			return nil, errors.New("adapter: bad packet namespace")
		}
		pn = s
	}
	if pn != nsp {
		return nil, ErrWrongNsp
	}
	if t, _ := o.Get("type"); t != nil {
		if n, ok := AsInt(t); !ok || (n != 2 && n != 5) {
			return nil, errors.New("adapter: relayed packet is not an event")
		}
	}
	d, _ := o.Get("data")
	arr, ok := d.([]any)
	if !ok || len(arr) == 0 {
		return nil, errors.New("adapter: relayed packet without data")
	}
	if _, ok := arr[0].(string); !ok {
		return nil, errors.New("adapter: relayed event without a name")
	}
	raw, atts, err := EncodeJSON(arr, Placeholders)
	if err != nil {
		return nil, err
	}
	typ := parser.Event
	if len(atts) > 0 {
		typ = parser.BinaryEvent
	}
	return &parser.Packet{Type: typ, Namespace: nsp, Data: raw, Attachments: atts}, nil
}

var ErrWrongNsp = errors.New("adapter: packet of another namespace")

// FlagsTree writes the flags that are set, in socket.io's order.
func FlagsTree(f adapter.BroadcastFlags) *Object {
	o := &Object{}
	if f.Volatile {
		o.Set("volatile", true)
	}
	if f.Compress != nil {
		o.Set("compress", *f.Compress)
	}
	if f.ExpectSingleResponse {
		o.Set("expectSingleResponse", true)
	}
	if f.Timeout > 0 {
		o.Set("timeout", f.Timeout.Milliseconds())
	}
	return o
}

func TreeFlags(v any) adapter.BroadcastFlags {
	var f adapter.BroadcastFlags
	o, _ := v.(*Object)
	if b, _ := o.Get("volatile"); b == true {
		f.Volatile = true
	}
	if b, ok := o.Get("compress"); ok {
		if c, ok := b.(bool); ok {
			f.Compress = &c
		}
	}
	if t, ok := o.Get("timeout"); ok {
		if ms, ok := AsInt(t); ok && ms > 0 {
			f.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
	if b, _ := o.Get("expectSingleResponse"); b == true {
		f.ExpectSingleResponse = true
	}
	return f
}

func RoomList(r []string) []string {
	if r == nil {
		return []string{}
	}
	return r
}

// OptsTree is {rooms, except, flags}; withFlags false leaves flags out (as
// the join/leave/disconnect/fetch requests do).
func OptsTree(o adapter.BroadcastOptions, withFlags bool) *Object {
	t := Obj("rooms", RoomList(Dedup(o.Rooms)), "except", RoomList(Dedup(o.Except)))
	if withFlags {
		t.Set("flags", FlagsTree(o.Flags))
	}
	return t
}

// Dedup returns r without repeated rooms, in order.
func Dedup(r []string) []string {
	if len(r) < 2 {
		return r
	}
	out := make([]string, 0, len(r))
	for _, s := range r {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func TreeOpts(v any) adapter.BroadcastOptions {
	o, _ := v.(*Object)
	var opts adapter.BroadcastOptions
	r, _ := o.Get("rooms")
	opts.Rooms = AsStrings(r)
	e, _ := o.Get("except")
	opts.Except = AsStrings(e)
	f, _ := o.Get("flags")
	opts.Flags = TreeFlags(f)
	return opts
}

// SocketTree describes a local socket as Node's fetchSockets response does.
func SocketTree(s adapter.SocketInfo) *Object {
	h := s.Handshake
	headers := &Object{}
	nh := adapter.NodeHeaders(h.Headers)
	for _, k := range slices.Sorted(maps.Keys(nh)) {
		switch v := nh[k].(type) {
		case []string:
			a := make([]any, len(v))
			for i, x := range v {
				a[i] = x
			}
			headers.Set(k, a)
		default:
			headers.Set(k, v)
		}
	}
	query := &Object{}
	for _, k := range slices.Sorted(maps.Keys(h.Query)) {
		vals := h.Query[k]
		if len(vals) == 1 {
			query.Set(k, vals[0])
		} else {
			a := make([]any, len(vals))
			for i, v := range vals {
				a[i] = v
			}
			query.Set(k, a)
		}
	}
	auth := any(&Object{})
	if h.Auth != nil {
		if v, err := FromGo(h.Auth); err == nil && v != nil {
			auth = v
		}
	}
	data := any(&Object{})
	if s.Data != nil {
		if v, err := FromGo(s.Data); err == nil && v != nil {
			data = v
		}
	}
	return Obj(
		"id", s.ID,
		"handshake", Obj(
			"headers", headers,
			"time", h.Time,
			"address", h.Address,
			"xdomain", h.XDomain,
			"secure", h.Secure,
			"issued", h.Issued,
			"url", h.URL,
			"query", query,
			"auth", auth,
		),
		"rooms", RoomList(s.Rooms),
		"data", data,
	)
}

// TreeSocket reads a socket described by another server.
func TreeSocket(v any) (adapter.SocketInfo, bool) {
	o, ok := v.(*Object)
	if !ok {
		return adapter.SocketInfo{}, false
	}
	var s adapter.SocketInfo
	id, _ := o.Get("id")
	s.ID, ok = id.(string)
	if !ok {
		return s, false
	}
	r, _ := o.Get("rooms")
	s.Rooms = AsStrings(r)
	if d, ok := o.Get("data"); ok {
		s.Data = ToGo(d)
	}
	hv, _ := o.Get("handshake")
	h, _ := hv.(*Object)
	hd, _ := h.Get("headers")
	s.Handshake.Headers = adapter.CanonicalHeaders(valuesMap(hd))
	str := func(k string) string {
		v, _ := h.Get(k)
		if v == nil {
			return ""
		}
		return JSString(v)
	}
	s.Handshake.Time = str("time")
	s.Handshake.Address = str("address")
	s.Handshake.URL = str("url")
	if b, _ := h.Get("xdomain"); b == true {
		s.Handshake.XDomain = true
	}
	if b, _ := h.Get("secure"); b == true {
		s.Handshake.Secure = true
	}
	if n, ok := h.Get("issued"); ok {
		s.Handshake.Issued, _ = AsInt(n)
	}
	q, _ := h.Get("query")
	s.Handshake.Query = valuesMap(q)
	s.Handshake.Auth = map[string]any{}
	if a, _ := h.Get("auth"); a != nil {
		if raw, _, err := EncodeJSON(a, NodeBuffers); err == nil {
			_ = json.Unmarshal(raw, &s.Handshake.Auth)
		}
	}
	return s, true
}

// FirstArg is the first argument of an ack, as the tree Node relays.
func FirstArg(r adapter.AckResponse) (any, error) {
	if len(r.Args) == 0 {
		return nil, nil
	}
	return DecodeJSON(r.Args[0], r.Attachments)
}

// RawArgs converts server-side emit arguments to the tree.
func RawArgs(args []json.RawMessage) ([]any, error) {
	out := make([]any, 0, len(args))
	for _, a := range args {
		v, err := DecodeJSON(a, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// JSONOf encodes a tree value as JSON, buffers as Node writes them.
func JSONOf(v any) json.RawMessage {
	raw, _, err := EncodeJSON(v, NodeBuffers)
	if err != nil {
		return json.RawMessage("null")
	}
	return raw
}

// valuesMap reads the headers or the query of a handshake: an Object whose
// values are strings or arrays of them.
func valuesMap(v any) map[string][]string {
	m := map[string][]string{}
	if v != nil {
		if o, ok := v.(*Object); ok {
			for i, k := range o.Keys {
				switch x := o.Vals[i].(type) {
				case []any:
					m[k] = AsStrings(x)
				default:
					m[k] = []string{JSString(x)}
				}
			}
		}
	}
	return m
}
