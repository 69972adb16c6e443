package redis

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/parser"
)

// Request types of the classic protocol (@socket.io/redis-adapter's
// RequestType).
const (
	reqSockets              = 0
	reqAllRooms             = 1
	reqRemoteJoin           = 2
	reqRemoteLeave          = 3
	reqRemoteDisconnect     = 4
	reqRemoteFetch          = 5
	reqServerSideEmit       = 6
	reqBroadcast            = 7
	reqBroadcastClientCount = 8
	reqBroadcastAck         = 9
)

// packetTree is the packet as the classic adapter relays it:
// {type:2, data:[...], nsp}, binary values as msgpack bin.
func packetTree(p *parser.Packet) (*object, error) {
	data, err := decodeJSON(p.Data, p.Attachments)
	if err != nil {
		return nil, err
	}
	nsp := p.Namespace
	if nsp == "" {
		nsp = "/"
	}
	return obj("type", int64(2), "data", data, "nsp", nsp), nil
}

// treePacket turns a relayed packet back into a Socket.IO packet of nsp.
func treePacket(v any, nsp string) (*parser.Packet, error) {
	o, ok := v.(*object)
	if !ok {
		return nil, errors.New("redis adapter: packet is not an object")
	}
	pn := "/"
	if n, ok := o.get("nsp"); ok && n != nil {
		s, ok := n.(string)
		if !ok {
			return nil, errors.New("redis adapter: bad packet namespace")
		}
		pn = s
	}
	if pn != nsp {
		return nil, errWrongNsp
	}
	if t, _ := o.get("type"); t != nil {
		if n, ok := asInt(t); !ok || (n != 2 && n != 5) {
			return nil, errors.New("redis adapter: relayed packet is not an event")
		}
	}
	d, _ := o.get("data")
	arr, ok := d.([]any)
	if !ok || len(arr) == 0 {
		return nil, errors.New("redis adapter: relayed packet without data")
	}
	if _, ok := arr[0].(string); !ok {
		return nil, errors.New("redis adapter: relayed event without a name")
	}
	raw, atts, err := encodeJSON(arr, placeholders)
	if err != nil {
		return nil, err
	}
	typ := parser.Event
	if len(atts) > 0 {
		typ = parser.BinaryEvent
	}
	return &parser.Packet{Type: typ, Namespace: nsp, Data: raw, Attachments: atts}, nil
}

var errWrongNsp = errors.New("redis adapter: packet of another namespace")

// flagsTree writes the flags that are set, in socket.io's order.
func flagsTree(f adapter.BroadcastFlags) *object {
	o := &object{}
	if f.Volatile {
		o.set("volatile", true)
	}
	if f.Compress != nil {
		o.set("compress", *f.Compress)
	}
	if f.ExpectSingleResponse {
		o.set("expectSingleResponse", true)
	}
	if f.Timeout > 0 {
		o.set("timeout", f.Timeout.Milliseconds())
	}
	return o
}

func treeFlags(v any) adapter.BroadcastFlags {
	var f adapter.BroadcastFlags
	o, _ := v.(*object)
	if b, _ := o.get("volatile"); b == true {
		f.Volatile = true
	}
	if b, ok := o.get("compress"); ok {
		if c, ok := b.(bool); ok {
			f.Compress = &c
		}
	}
	if t, ok := o.get("timeout"); ok {
		if ms, ok := asInt(t); ok && ms > 0 {
			f.Timeout = time.Duration(ms) * time.Millisecond
		}
	}
	if b, _ := o.get("expectSingleResponse"); b == true {
		f.ExpectSingleResponse = true
	}
	return f
}

func roomList(r []string) []string {
	if r == nil {
		return []string{}
	}
	return r
}

// optsTree is {rooms, except, flags}; withFlags false leaves flags out (as
// the join/leave/disconnect/fetch requests do).
func optsTree(o adapter.BroadcastOptions, withFlags bool) *object {
	t := obj("rooms", roomList(dedup(o.Rooms)), "except", roomList(dedup(o.Except)))
	if withFlags {
		t.set("flags", flagsTree(o.Flags))
	}
	return t
}

func dedup(r []string) []string {
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

func treeOpts(v any) adapter.BroadcastOptions {
	o, _ := v.(*object)
	var opts adapter.BroadcastOptions
	r, _ := o.get("rooms")
	opts.Rooms = asStrings(r)
	e, _ := o.get("except")
	opts.Except = asStrings(e)
	f, _ := o.get("flags")
	opts.Flags = treeFlags(f)
	return opts
}

// socketTree describes a local socket as Node's fetchSockets response does.
func socketTree(s adapter.SocketInfo) *object {
	h := s.Handshake
	headers := &object{}
	nh := adapter.NodeHeaders(h.Headers)
	for _, k := range slices.Sorted(maps.Keys(nh)) {
		switch v := nh[k].(type) {
		case []string:
			a := make([]any, len(v))
			for i, x := range v {
				a[i] = x
			}
			headers.set(k, a)
		default:
			headers.set(k, v)
		}
	}
	query := &object{}
	for _, k := range slices.Sorted(maps.Keys(h.Query)) {
		vals := h.Query[k]
		if len(vals) == 1 {
			query.set(k, vals[0])
		} else {
			a := make([]any, len(vals))
			for i, v := range vals {
				a[i] = v
			}
			query.set(k, a)
		}
	}
	auth := any(&object{})
	if h.Auth != nil {
		if b, err := json.Marshal(h.Auth); err == nil {
			if v, err := decodeJSON(b, nil); err == nil {
				auth = v
			}
		}
	}
	data := any(&object{})
	if s.Data != nil {
		if b, err := json.Marshal(s.Data); err == nil {
			if v, err := decodeJSON(b, nil); err == nil {
				data = v
			}
		}
	}
	return obj(
		"id", s.ID,
		"handshake", obj(
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
		"rooms", roomList(s.Rooms),
		"data", data,
	)
}

// treeSocket reads a socket described by another server.
func treeSocket(v any) (adapter.SocketInfo, bool) {
	o, ok := v.(*object)
	if !ok {
		return adapter.SocketInfo{}, false
	}
	var s adapter.SocketInfo
	id, _ := o.get("id")
	s.ID, ok = id.(string)
	if !ok {
		return s, false
	}
	r, _ := o.get("rooms")
	s.Rooms = asStrings(r)
	if d, ok := o.get("data"); ok {
		raw, _, err := encodeJSON(d, nodeBuffers)
		if err == nil {
			var x any
			if json.Unmarshal(raw, &x) == nil {
				s.Data = x
			}
		}
	}
	hv, _ := o.get("handshake")
	h, _ := hv.(*object)
	hd, _ := h.get("headers")
	s.Handshake.Headers = adapter.CanonicalHeaders(valuesMap(hd))
	str := func(k string) string {
		v, _ := h.get(k)
		if v == nil {
			return ""
		}
		return jsString(v)
	}
	s.Handshake.Time = str("time")
	s.Handshake.Address = str("address")
	s.Handshake.URL = str("url")
	if b, _ := h.get("xdomain"); b == true {
		s.Handshake.XDomain = true
	}
	if b, _ := h.get("secure"); b == true {
		s.Handshake.Secure = true
	}
	if n, ok := h.get("issued"); ok {
		s.Handshake.Issued, _ = asInt(n)
	}
	q, _ := h.get("query")
	s.Handshake.Query = valuesMap(q)
	s.Handshake.Auth = map[string]any{}
	if a, _ := h.get("auth"); a != nil {
		if raw, _, err := encodeJSON(a, nodeBuffers); err == nil {
			_ = json.Unmarshal(raw, &s.Handshake.Auth)
		}
	}
	return s, true
}

// firstArg is the first argument of an ack, as the tree Node relays.
func firstArg(r adapter.AckResponse) (any, error) {
	if len(r.Args) == 0 {
		return nil, nil
	}
	return decodeJSON(r.Args[0], r.Attachments)
}

// rawArgs converts server-side emit arguments to the tree.
func rawArgs(args []json.RawMessage) ([]any, error) {
	out := make([]any, 0, len(args))
	for _, a := range args {
		v, err := decodeJSON(a, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// jsonOf encodes a tree value as JSON, buffers as Node writes them.
func jsonOf(v any) json.RawMessage {
	raw, _, err := encodeJSON(v, nodeBuffers)
	if err != nil {
		return json.RawMessage("null")
	}
	return raw
}

// valuesMap reads the headers or the query of a handshake: an object whose
// values are strings or arrays of them.
func valuesMap(v any) map[string][]string {
	m := map[string][]string{}
	if v != nil {
		if o, ok := v.(*object); ok {
			for i, k := range o.keys {
				switch x := o.vals[i].(type) {
				case []any:
					m[k] = asStrings(x)
				default:
					m[k] = []string{jsString(x)}
				}
			}
		}
	}
	return m
}
