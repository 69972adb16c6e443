package msgpack

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gosio/socketio/parser"
	"github.com/vmihailenco/msgpack/v5"
)

// raw is already encoded msgpack, inserted as is by mp.
type raw []byte

// obj is a msgpack map written in the order of its key/value pairs.
type obj []any

// mp encodes v: raw as is, obj as an ordered map, []any as an array, other
// values with vmihailenco/msgpack.
func mp(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	var write func(v any)
	write = func(v any) {
		switch x := v.(type) {
		case raw:
			buf.Write(x)
		case obj:
			_ = enc.EncodeMapLen(len(x) / 2)
			for _, e := range x {
				write(e)
			}
		case []any:
			_ = enc.EncodeArrayLen(len(x))
			for _, e := range x {
				write(e)
			}
		default:
			if err := enc.Encode(x); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(v)
	return buf.Bytes()
}

var undefined = raw{0xd4, 0, 0}

func nested(depth int) []any {
	v := []any{"x"}
	for range depth {
		v = []any{v}
	}
	return append([]any{"deep"}, v)
}

func TestMalformed(t *testing.T) {
	ev := func(data any) obj { return obj{"type", 2, "data", data, "nsp", "/"} }
	bins := func(n int) []any {
		v := []any{"bins"}
		for range n {
			v = append(v, []byte{1})
		}
		return v
	}
	valid := mp(t, ev([]any{"ok"}))
	cases := []struct {
		name string
		msg  []byte
		text bool
		p    Parser
	}{
		{name: "text message", msg: []byte(`2["x"]`), text: true},
		{name: "empty message", msg: []byte{}},
		{name: "not a map", msg: mp(t, []any{2, "/", []any{"x"}})},
		{name: "a string", msg: mp(t, "hello")},
		{name: "truncated map", msg: valid[:len(valid)-2]},
		{name: "trailing bytes", msg: append(append([]byte{}, valid...), 0xc0)},
		{name: "no type", msg: mp(t, obj{"data", []any{"x"}, "nsp", "/"})},
		{name: "type 5 (no binary types)", msg: mp(t, obj{"type", 5, "data", []any{"x", []byte{1}}, "nsp", "/"})},
		{name: "type -1", msg: mp(t, obj{"type", -1, "nsp", "/"})},
		{name: "type string", msg: mp(t, obj{"type", "2", "data", []any{"x"}, "nsp", "/"})},
		{name: "type 2.5", msg: mp(t, obj{"type", 2.5, "data", []any{"x"}, "nsp", "/"})},
		{name: "type undefined", msg: mp(t, obj{"type", undefined, "nsp", "/"})},
		{name: "no nsp", msg: mp(t, obj{"type", 2, "data", []any{"x"}})},
		{name: "nsp number", msg: mp(t, obj{"type", 2, "data", []any{"x"}, "nsp", 1})},
		{name: "nsp without slash", msg: mp(t, obj{"type", 0, "nsp", "admin"})},
		{name: "nsp empty", msg: mp(t, obj{"type", 0, "nsp", ""})},
		{name: "event data map", msg: mp(t, ev(obj{"a", 1}))},
		{name: "event without data", msg: mp(t, obj{"type", 2, "nsp", "/"})},
		{name: "event data undefined", msg: mp(t, ev(undefined))},
		{name: "event empty array", msg: mp(t, ev([]any{}))},
		{name: "event reserved name", msg: mp(t, ev([]any{"connect", 1}))},
		{name: "event reserved name disconnecting", msg: mp(t, ev([]any{"disconnecting"}))},
		{name: "event name bool", msg: mp(t, ev([]any{true}))},
		{name: "event name null", msg: mp(t, ev([]any{nil}))},
		{name: "event name binary", msg: mp(t, ev([]any{[]byte("x")}))},
		{name: "event name NaN", msg: mp(t, ev([]any{raw{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}}))},
		{name: "ack without id", msg: mp(t, obj{"type", 3, "data", []any{1}, "nsp", "/"})},
		{name: "ack data string", msg: mp(t, obj{"type", 3, "data", "x", "id", 1, "nsp", "/"})},
		{name: "id negative", msg: mp(t, obj{"type", 2, "data", []any{"x"}, "id", -1, "nsp", "/"})},
		{name: "id float", msg: mp(t, obj{"type", 2, "data", []any{"x"}, "id", 1.5, "nsp", "/"})},
		{name: "id null", msg: mp(t, obj{"type", 2, "data", []any{"x"}, "id", nil, "nsp", "/"})},
		{name: "id above 2^53-1", msg: mp(t, obj{"type", 2, "data", []any{"x"}, "id", uint64(parser.MaxID + 1), "nsp", "/"})},
		{name: "connect data array", msg: mp(t, obj{"type", 0, "data", []any{1}, "nsp", "/"})},
		{name: "connect data null", msg: mp(t, obj{"type", 0, "data", nil, "nsp", "/"})},
		{name: "connect data binary", msg: mp(t, obj{"type", 0, "data", []byte{1}, "nsp", "/"})},
		{name: "disconnect with data", msg: mp(t, obj{"type", 1, "data", obj{}, "nsp", "/"})},
		{name: "connect_error number", msg: mp(t, obj{"type", 4, "data", 1, "nsp", "/"})},
		{name: "connect_error date", msg: mp(t, obj{"type", 4, "data", raw{0xd7, 0, 0, 0, 0, 0, 0, 0, 0, 1}, "nsp", "/"})},
		{name: "string longer than message", msg: mp(t, ev([]any{raw{0xd9, 0xff, 'a', 'b'}}))},
		{name: "bin32 longer than message", msg: mp(t, ev([]any{"x", raw{0xc6, 0xff, 0xff, 0xff, 0xff, 1}}))},
		{name: "array32 longer than message", msg: mp(t, ev(raw{0xdd, 0xff, 0xff, 0xff, 0xff, 0xa1, 'x'}))},
		{name: "map32 longer than message", msg: append([]byte{0xdf, 0xff, 0xff, 0xff, 0xff}, mp(t, "type")...)},
		{name: "ext longer than message", msg: mp(t, ev([]any{"x", raw{0xc9, 0, 0, 1, 0, 0}}))},
		{name: "truncated float", msg: mp(t, ev([]any{"x", raw{0xcb, 0, 0}}))},
		{name: "unused code 0xc1", msg: mp(t, ev([]any{"x", raw{0xc1}}))},
		{name: "array map key", msg: mp(t, ev([]any{"x", obj{[]any{1}, 2}}))},
		{name: "binary map key", msg: mp(t, ev([]any{"x", obj{[]byte("k"), 2}}))},
		{name: "too deep", msg: mp(t, ev(nested(DefaultMaxDepth+1)))},
		{name: "too deep in an ignored key", msg: mp(t, obj{"type", 2, "data", []any{"x"}, "nsp", "/", "extra", nested(DefaultMaxDepth + 1)})},
		{name: "too many binary values", msg: mp(t, ev(bins(parser.DefaultMaxAttachments+1)))},
		{name: "binary values and a placeholder map", msg: mp(t, ev([]any{"x", []byte{1}, obj{"_placeholder", true, "num", 0}}))},
		{name: "over MaxAttachments", msg: mp(t, ev(bins(3))), p: Parser{MaxAttachments: 2}},
		{name: "over MaxDepth", msg: mp(t, ev(nested(5))), p: Parser{MaxDepth: 4}},
		{name: "over MaxSize", msg: mp(t, ev([]any{"x", strings.Repeat("a", 100)})), p: Parser{MaxSize: 64}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := c.p.NewDecoder().Add(c.msg, !c.text)
			if err == nil {
				t.Fatalf("decoded %+v (data %s), want an error", p, p.Data)
			}
			if !errors.Is(err, parser.ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap parser.ErrInvalidPacket", err)
			}
		})
	}
}

// TestLimitsAccept checks that the limits are not off by one, and that
// values JavaScript accepts are accepted.
func TestLimitsAccept(t *testing.T) {
	ev := func(data any) obj { return obj{"type", 2, "data", data, "nsp", "/"} }
	bins := []any{"bins"}
	for range parser.DefaultMaxAttachments {
		bins = append(bins, []byte{1})
	}
	many := []any{"many"}
	for range 20 {
		many = append(many, []byte{2})
	}
	cases := []struct {
		name string
		msg  []byte
		p    Parser
		data string
		typ  parser.PacketType
	}{
		{name: "max attachments", msg: mp(t, ev(bins)), typ: parser.BinaryEvent},
		{name: "no attachment limit", msg: mp(t, ev(many)), p: Parser{MaxAttachments: -1}, typ: parser.BinaryEvent},
		{name: "max depth", msg: mp(t, ev(nested(DefaultMaxDepth-2))), typ: parser.Event},
		{name: "integral float type and id", msg: mp(t, obj{"type", 2.0, "data", []any{"x"}, "id", 5.0, "nsp", "/"}), data: `["x"]`, typ: parser.Event},
		{name: "float32", msg: mp(t, ev([]any{"f", float32(0.1)})), data: `["f",0.10000000149011612]`, typ: parser.Event},
		{name: "NaN and Infinity are null", msg: mp(t, ev([]any{"f", raw{0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1}, raw{0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0}})), data: `["f",null,null]`, typ: parser.Event},
		{name: "-0", msg: mp(t, ev([]any{"f", raw{0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0}})), data: `["f",0]`, typ: parser.Event},
		{name: "uint64 max", msg: mp(t, ev([]any{"n", uint64(1<<64 - 1)})), data: `["n",18446744073709551615]`, typ: parser.Event},
		{name: "non-string keys", msg: mp(t, ev([]any{"k", obj{1, "a", -2, "b", true, "c", nil, "d", 1.5, "e", undefined, "f"}})),
			data: `["k",{"1":"a","-2":"b","true":"c","null":"d","1.5":"e","undefined":"f"}]`, typ: parser.Event},
		{name: "invalid UTF-8", msg: mp(t, ev([]any{"s", raw{0xa2, 0xff, 'a'}})), data: "[\"s\",\"\uFFFDa\"]", typ: parser.Event},
		{name: "other ext types", msg: mp(t, ev([]any{"e", raw{0xd5, 0x05, 1, 2}})), data: `["e",[5,` + ph(0) + `]]`, typ: parser.BinaryEvent},
		{name: "placeholder map without binary is data", msg: mp(t, ev([]any{"p", obj{"_placeholder", true, "num", 0}})),
			data: `["p",{"_placeholder":true,"num":0}]`, typ: parser.Event},
		{name: "binary in connect auth", msg: mp(t, obj{"type", 0, "data", obj{"key", []byte{1, 2}}, "nsp", "/"}),
			data: `{"key":{"type":"Buffer","data":[1,2]}}`, typ: parser.Connect},
		{name: "extra keys and repeated keys", msg: mp(t, obj{"type", 0, "type", 2, "options", obj{"compress", true}, "data", []any{"a"}, "data", []any{"b"}, "nsp", "/x", "nsp", "/"}),
			data: `["b"]`, typ: parser.Event},
		// As notepack.io encodes new Date(-62167219200001), new
		// Date(253402300800000), and an invalid date, then JSON.stringify.
		{name: "dates", msg: mp(t, ev([]any{"d", raw{0xd7, 0, 0xff, 0xff, 0xc7, 0x75, 0x90, 0xfb, 0x9f, 0xff},
			raw{0xd7, 0, 0, 0, 0xe6, 0x77, 0xd2, 0x1f, 0xdc, 0}, raw{0xd7, 0, 0x7f, 0, 0, 0, 0, 0, 0, 0}})),
			data: `["d","-000001-12-31T23:59:59.999Z","+010000-01-01T00:00:00.000Z",null]`, typ: parser.Event},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := c.p.NewDecoder().Add(c.msg, true)
			if err != nil {
				t.Fatal(err)
			}
			if p.Type != c.typ {
				t.Fatalf("type %v, want %v", p.Type, c.typ)
			}
			if c.data != "" && string(p.Data) != c.data {
				t.Fatalf("data %s, want %s", p.Data, c.data)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	id := func(p parser.Packet) parser.Packet { p.SetID(1); return p }
	cases := []struct {
		name string
		p    parser.Packet
	}{
		{"unknown type", pkt(7, "/", "")},
		{"namespace without slash", pkt(parser.Event, "admin", `["x"]`)},
		{"id too large", withID(pkt(parser.Event, "/", `["x"]`), parser.MaxID+1)},
		{"ack without id", pkt(parser.Ack, "/", `[]`)},
		{"event without payload", pkt(parser.Event, "/", "")},
		{"event object", pkt(parser.Event, "/", `{}`)},
		{"connect array", pkt(parser.Connect, "/", `[]`)},
		{"disconnect payload", pkt(parser.Disconnect, "/", `{}`)},
		{"connect_error number", pkt(parser.ConnectError, "/", `1`)},
		{"attachments on connect", pkt(parser.Connect, "/", `{}`, []byte{1})},
		{"invalid JSON", pkt(parser.Event, "/", `["x",]`)},
		{"trailing JSON", pkt(parser.Event, "/", `["x"] 1`)},
		{"placeholder out of range", pkt(parser.BinaryEvent, "/", `["x",`+ph(1)+`]`, []byte{1})},
		{"placeholder without num", id(pkt(parser.BinaryAck, "/", `[{"_placeholder":true}]`, []byte{1}))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parser{}.Encode(&c.p)
			if !errors.Is(err, parser.ErrInvalidPacket) {
				t.Fatalf("error %v, want one wrapping parser.ErrInvalidPacket", err)
			}
		})
	}
}

// TestEncodeNumbers checks that JSON numbers become what notepack.io writes
// for the same JavaScript value.
func TestEncodeNumbers(t *testing.T) {
	cases := map[string]string{
		"0":                    "00",
		"-0":                   "00",
		"1.0":                  "01",
		"1e3":                  "cd03e8",
		"-1":                   "ff",
		"2.5":                  "cb4004000000000000",
		"9223372036854775807":  "cf7fffffffffffffff",
		"-9223372036854775808": "d38000000000000000",
		"18446744073709551615": "cfffffffffffffffff",
		"18446744073709551616": "cb43f0000000000000",
		"1e400":                "cb7ff0000000000000",
	}
	for lit, want := range cases {
		p := pkt(parser.Event, "/", `["n",`+lit+`]`)
		msgs, err := Parser{}.Encode(&p)
		if err != nil {
			t.Fatal(err)
		}
		// type 2, data ["n", <number>], nsp "/": the number follows "a16e".
		got := msgs[0].Data
		i := bytes.Index(got, []byte{0x92, 0xa1, 'n'})
		j := bytes.Index(got, []byte{0xa3, 'n', 's', 'p'})
		if i < 0 || j < 0 {
			t.Fatalf("%s: unexpected encoding %x", lit, got)
		}
		if h := strings.ToLower(bytesHex(got[i+3 : j])); h != want {
			t.Errorf("%s: encoded %s, want %s", lit, h, want)
		}
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&0xf])
	}
	return string(out)
}

func TestNilAttachmentAndRepeatedKeys(t *testing.T) {
	p := pkt(parser.BinaryEvent, "/", `["x",{"a":1,"b":2,"a":`+ph(0)+`}]`, nil)
	msgs, err := Parser{}.Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decode(t, msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	// Repeated keys are kept: JavaScript keeps the last value.
	want := pkt(parser.BinaryEvent, "/", `["x",{"a":1,"b":2,"a":`+ph(0)+`}]`, []byte{})
	if err := samePacket(got, &want); err != nil {
		t.Fatal(err)
	}
}

func TestDecoderOwnsNoState(t *testing.T) {
	d := Parser{}.NewDecoder()
	d.Reset()
	for range 3 {
		p, err := d.Add(mp(t, obj{"type", 2, "data", []any{"x", []byte{1}}, "nsp", "/"}), true)
		if err != nil || p.Type != parser.BinaryEvent {
			t.Fatalf("%+v %v", p, err)
		}
		if _, err := d.Add([]byte{0xc1}, true); err == nil {
			t.Fatal("no error")
		}
	}
}
