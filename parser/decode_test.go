package parser

import (
	"errors"
	"strings"
	"testing"
)

// malformedPackets must each be rejected by the decoder (Engine.IO prefix
// removed: "42{}" on the wire is "2{}" here).
var malformedPackets = []struct {
	name string
	text string
}{
	{"empty", ``},
	{"unknown type 7", `7`},
	{"unknown type 9", `9["x"]`},
	{"letter type", `abc`},
	{"slash type", `/admin,`},
	{"event payload object", `2{}`},
	{"event payload string", `2"x"`},
	{"id with letters", `2abc["message-with-ack",1]`},
	{"event without payload", `2`},
	{"event namespace without payload", `2/admin,`},
	{"event id without payload", `21`},
	{"event empty array", `2[]`},
	{"event empty array spaces", `2[ ]`},
	{"reserved connect", `2["connect"]`},
	{"reserved connect_error", `2["connect_error",1]`},
	{"reserved disconnect", `2/admin,["disconnect"]`},
	{"reserved disconnecting", `2["disconnecting"]`},
	{"reserved newListener", `2["newListener"]`},
	{"reserved removeListener", `2["removeListener"]`},
	{"reserved escaped", `2["\u0063onnect"]`},
	{"reserved binary event", `51-["disconnect",{"_placeholder":true,"num":0}]`},
	{"name true", `2[true]`},
	{"name null", `2[null]`},
	{"name object", `2[{}]`},
	{"name array", `2[["x"]]`},
	{"truncated json", `2["foo"`},
	{"trailing garbage", `2["foo"]x`},
	{"two values", `2["a"]["b"]`},
	{"trailing comma", `2["a",]`},
	{"bad number", `2[-]`},
	{"bad escape", `2["\x"]`},
	{"raw control char", "2[\"a\x01\"]"},
	{"namespace swallows payload", `2/admin["x"]`},
	{"ack without id", `3["bar"]`},
	{"ack without payload", `31`},
	{"ack object", `31{}`},
	{"ack string", `3/admin,13"x"`},
	{"binary ack without id", `61-["x",{"_placeholder":true,"num":0}]`},
	{"connect array", `0[]`},
	{"connect string", `0"x"`},
	{"connect null", `0null`},
	{"connect space", `0 `},
	{"connect truncated", `0/admin,{"a":`},
	{"connect two objects", `0{"a":1}{"b":2}`},
	{"disconnect object", `1{}`},
	{"disconnect namespace object", `1/admin,{}`},
	{"disconnect string", `1"bye"`},
	{"connect_error without payload", `4`},
	{"connect_error array", `4[]`},
	{"connect_error number", `4/x,"a"1`},
	{"connect_error truncated", `4{"message":"x"`},
	{"binary without count", `5["x"]`},
	{"binary alone", `5`},
	{"binary ack alone", `6`},
	{"binary empty count", `5-["x"]`},
	{"binary zero count", `50-["x"]`},
	{"binary zeros count", `500-["x"]`},
	{"binary letter count", `5a-["x"]`},
	{"binary hex count", `50x1-["x"]`},
	{"binary space count", `5 1-["x"]`},
	{"binary missing dash", `51["x"]`},
	{"binary count at end", `51`},
	{"too many attachments", `511-["x"]`},
	{"way too many attachments", `599999999999999999999999-["x"]`},
	{"id above 2^53-1", `29007199254740992["x"]`},
	{"id overflow", `2184467440737095516150["x"]`},
	{"ack id overflow", `399999999999999999999999999[]`},
}

func TestMalformedPackets(t *testing.T) {
	t.Parallel()
	if len(malformedPackets) < 25 {
		t.Fatalf("only %d malformed cases", len(malformedPackets))
	}
	for _, tc := range malformedPackets {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var d Decoder
			p, err := d.Add([]byte(tc.text), false)
			if err == nil {
				t.Fatalf("Add(%q) = %+v, want error", tc.text, p)
			}
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("Add(%q) error %v does not wrap ErrInvalidPacket", tc.text, err)
			}
			if d.Pending() != 0 {
				t.Fatalf("decoder left pending after error")
			}
			// The decoder is usable again.
			if p, err := d.Add([]byte(`2["ok"]`), false); err != nil || p == nil {
				t.Fatalf("after error: %v, %v", p, err)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		`7`:                       "unknown packet type",
		`5a-["x"]`:                "illegal attachments",
		`50-["x"]`:                "illegal attachments",
		`511-["x"]`:               "too many attachments",
		`2["connect"]`:            `reserved event name "connect"`,
		`29007199254740992["x"]`:  "ack id too large",
		`2{}`:                     "EVENT payload must be an array",
		`3["x"]`:                  "ACK packet without an ack id",
		`1{}`:                     "DISCONNECT packet must not have a payload",
		`0[]`:                     "CONNECT payload must be an object",
		`2["x"`:                   "not valid JSON",
		`2[]`:                     "empty array",
		`2[true]`:                 "string or a number",
		`4[]`:                     "CONNECT_ERROR payload must be an object or a string",
		`6-["x"]`:                 "illegal attachments",
		`51-["x",{"_placeholder"`: "not valid JSON",
	}
	for text, want := range cases {
		_, err := NewDecoder(0).Add([]byte(text), false)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "parser: invalid packet: ") {
			t.Errorf("Add(%q) error = %v, want it to contain %q", text, err, want)
		}
	}
}

func TestDecoderStream(t *testing.T) {
	t.Parallel()
	type msg struct {
		data   string
		binary bool
	}
	cases := []struct {
		name    string
		max     int
		msgs    []msg
		wantErr string // on the last message; "" = success on the last message
	}{
		{"binary without packet", 0, []msg{{"\x01", true}}, "unexpected binary message"},
		{"binary after complete packet", 0, []msg{{`2["x"]`, false}, {"\x01", true}}, "unexpected binary message"},
		{"one attachment too many", 0, []msg{{`51-["x",{"_placeholder":true,"num":0}]`, false}, {"\x01", true}, {"\x02", true}}, "unexpected binary message"},
		{"text while pending", 0, []msg{{`52-["x",{"_placeholder":true,"num":0}]`, false}, {"\x01", true}, {`2["y"]`, false}}, "1 binary attachment(s) are still expected"},
		{"text while all pending", 0, []msg{{`51-["x"]`, false}, {`51-["x"]`, false}}, "still expected"},
		{"placeholder num too big", 0, []msg{{`51-["x",{"_placeholder":true,"num":1}]`, false}, {"\x01", true}}, "no valid attachment number"},
		{"placeholder num negative", 0, []msg{{`51-["x",{"_placeholder":true,"num":-1}]`, false}, {"\x01", true}}, "no valid attachment number"},
		{"placeholder num string", 0, []msg{{`51-["x",{"_placeholder":true,"num":"0"}]`, false}, {"\x01", true}}, "no valid attachment number"},
		{"placeholder num fraction", 0, []msg{{`51-["x",{"_placeholder":true,"num":0.5}]`, false}, {"\x01", true}}, "no valid attachment number"},
		{"placeholder num missing", 0, []msg{{`61-1[{"_placeholder":true}]`, false}, {"\x01", true}}, "no valid attachment number"},
		{"placeholder nested bad", 0, []msg{{`52-["x",[{"a":{"_placeholder":true,"num":2}}]]`, false}, {"\x01", true}, {"\x02", true}}, "no valid attachment number"},
		{"limit configured", 2, []msg{{`53-["x"]`, false}}, "too many attachments"},
		{"limit configured ok", 2, []msg{{`52-["x"]`, false}, {"", true}, {"", true}}, ""},
		{"limit raised", 20, []msg{{`511-["x"]`, false}, {"", true}, {"", true}, {"", true}, {"", true}, {"", true}, {"", true}, {"", true}, {"", true}, {"", true}, {"", true}, {"", true}}, ""},
		{"placeholder not true", 0, []msg{{`51-["x",{"_placeholder":1,"num":9}]`, false}, {"\x01", true}}, ""},
		{"placeholder overridden key", 0, []msg{{`51-["x",{"_placeholder":true,"num":9,"num":0}]`, false}, {"\x01", true}}, ""},
		{"inside placeholder ignored", 0, []msg{{`51-["x",{"_placeholder":true,"num":0,"in":{"_placeholder":true,"num":9}}]`, false}, {"\x01", true}}, ""},
		{"unused attachment", 0, []msg{{`52-["x",{"_placeholder":true,"num":1}]`, false}, {"", true}, {"\x01", true}}, ""},
		{"escaped placeholder key", 0, []msg{{`51-["x",{"\u005fplaceholder":true,"num":1}]`, false}, {"\x01", true}}, "no valid attachment number"},
		{"repeated key drops placeholder", 0, []msg{{`51-["x",{"B":{"_placeholder":true,"num":5},"B":{"_placeholder":true,"num":0}}]`, false}, {"\x01", true}}, ""},
		{"repeated key drops nested placeholder", 0, []msg{{`51-["x",{"B":[{"c":{"_placeholder":true,"num":5}}],"a":1,"\u0042":null}]`, false}, {"\x01", true}}, ""},
		{"repeated key keeps later placeholder", 0, []msg{{`51-["x",{"B":1,"B":{"_placeholder":true,"num":5}}]`, false}, {"\x01", true}}, "no valid attachment number"},
		{"num exponent", 0, []msg{{`51-["x",{"_placeholder":true,"num":0e5}]`, false}, {"\x01", true}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := JSONParser{MaxAttachments: tc.max}.NewDecoder()
			for i, m := range tc.msgs {
				p, err := d.Add([]byte(m.data), m.binary)
				last := i == len(tc.msgs)-1
				if !last {
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					continue
				}
				if tc.wantErr == "" {
					if err != nil || p == nil {
						t.Fatalf("last message: %v, %v", p, err)
					}
					return
				}
				if err == nil || !errors.Is(err, ErrInvalidPacket) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("last message error = %v, want %q", err, tc.wantErr)
				}
				if p != nil {
					t.Fatalf("packet returned with an error")
				}
			}
			// Whatever happened, the decoder accepts a fresh packet.
			d.Reset()
			if p, err := d.Add([]byte(`2["ok"]`), false); err != nil || p == nil {
				t.Fatalf("after: %v, %v", p, err)
			}
		})
	}
}

func TestDecoderPending(t *testing.T) {
	t.Parallel()
	d := NewDecoder(0)
	if _, err := d.Add([]byte(`53-["x"]`), false); err != nil {
		t.Fatal(err)
	}
	for want := 3; want > 0; want-- {
		if d.Pending() != want {
			t.Fatalf("Pending = %d, want %d", d.Pending(), want)
		}
		p, err := d.Add([]byte{byte(want)}, true)
		if err != nil || (want > 1) != (p == nil) {
			t.Fatalf("Add: %v, %v", p, err)
		}
	}
	if d.Pending() != 0 {
		t.Fatal("Pending after completion")
	}
	if _, err := d.Add([]byte(`51-["x"]`), false); err != nil {
		t.Fatal(err)
	}
	d.Reset()
	if d.Pending() != 0 {
		t.Fatal("Pending after Reset")
	}
	if _, err := d.Add([]byte{1}, true); err == nil {
		t.Fatal("binary accepted after Reset")
	}
}

func TestEncodeErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		p    Packet
	}{
		{"unknown type", Packet{Type: 7}},
		{"namespace without slash", Packet{Type: Connect, Namespace: "admin"}},
		{"namespace with comma", Packet{Type: Connect, Namespace: "/a,b"}},
		{"id too large", Packet{Type: Event, Data: raw(`["x"]`), ID: MaxID + 1, HasID: true}},
		{"event without data", Packet{Type: Event}},
		{"event object", Packet{Type: Event, Data: raw(`{}`)}},
		{"ack without id", Packet{Type: Ack, Data: raw(`[]`)}},
		{"binary ack without id", Packet{Type: Ack, Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: bins("01")}},
		{"disconnect with data", Packet{Type: Disconnect, Data: raw(`{}`)}},
		{"connect array", Packet{Type: Connect, Data: raw(`[]`)}},
		{"connect with attachments", Packet{Type: Connect, Data: raw(`{}`), Attachments: bins("01")}},
		{"connect_error without data", Packet{Type: ConnectError}},
		{"connect_error number", Packet{Type: ConnectError, Data: raw(`1`)}},
	}
	for _, tc := range cases {
		if _, _, err := Encode(&tc.p); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%s: Encode error = %v", tc.name, err)
		}
	}
}

func TestEncodeNormalisesBinaryType(t *testing.T) {
	t.Parallel()
	text, _, err := Encode(&Packet{Type: BinaryEvent, Data: raw(`["x"]`)})
	if err != nil || string(text) != `2["x"]` {
		t.Fatalf("BinaryEvent without attachments: %s, %v", text, err)
	}
	text, _, err = Encode(&Packet{Type: Ack, ID: 2, HasID: true, Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: bins("01")})
	if err != nil || string(text) != `61-2[{"_placeholder":true,"num":0}]` {
		t.Fatalf("Ack with attachments: %s, %v", text, err)
	}
}

// TestDecodeReencode checks decode -> encode -> decode on every golden and
// a few odd but valid inputs.
func TestDecodeReencode(t *testing.T) {
	t.Parallel()
	inputs := []string{`2 ["x"]`, `0/a/b,{ }`, `4/x," y "`, `1/a,5`, `0/admin,7{}`, `2/é,["ü"]`, `2["x",-1.5e3,null]`}
	for _, g := range goldenVectors {
		if len(g.atts) == 0 {
			inputs = append(inputs, g.text)
		}
	}
	for _, in := range inputs {
		p, err := NewDecoder(0).Add([]byte(in), false)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		text, _, err := Encode(p)
		if err != nil {
			t.Fatalf("%q: encode: %v", in, err)
		}
		q, err := NewDecoder(0).Add(text, false)
		if err != nil || !samePacket(p, q) {
			t.Fatalf("%q -> %s -> %+v, %v", in, text, q, err)
		}
	}
}

func TestDecodeEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		text  string
		name  string
		nargs int
	}{
		{`2["foo"]`, "foo", 0},
		{`2[ "a\"b" , 1 ,{"x":[1,2]} ]`, `a"b`, 2},
		{`2[1]`, "1", 0},
		{`2[-2.50,"x"]`, "-2.5", 1},
		{`2[1e21]`, "1e+21", 0},
		{`2[1e-7]`, "1e-7", 0},
		{`2[0.000001]`, "0.000001", 0},
		{`2[-0]`, "0", 0},
		{`2[1e999]`, "Infinity", 0},
		{`2["\u00e9v\u00e9nement"]`, "événement", 0},
	}
	for _, tc := range cases {
		p, err := NewDecoder(0).Add([]byte(tc.text), false)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		name, args, err := DecodeEvent(p)
		if err != nil || name != tc.name || len(args) != tc.nargs {
			t.Errorf("DecodeEvent(%s) = %q, %q, %v; want %q with %d args", tc.text, name, args, err, tc.name, tc.nargs)
		}
	}
	if _, _, err := DecodeEvent(&Packet{Type: Ack, Data: raw(`["x"]`)}); err == nil {
		t.Error("DecodeEvent accepted an ACK")
	}
	args, err := SplitArray(raw(` [ 1 , "2" , {"3":[true]} ] `))
	if err != nil || len(args) != 3 || string(args[0]) != "1" || string(args[1]) != `"2"` || string(args[2]) != `{"3":[true]}` {
		t.Errorf("SplitArray = %q, %v", args, err)
	}
	for _, bad := range []string{``, `{}`, `[1,`, `[1]x`, `[1 2]`, `["a]`} {
		if _, err := SplitArray(raw(bad)); err == nil {
			t.Errorf("SplitArray(%q) succeeded", bad)
		}
	}
}
