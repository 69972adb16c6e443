package parser

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// goldenVectors are the Socket.IO packets of docs/protocol.md §3 (spec and
// observed examples) and §4 (wire traces), without the Engine.IO "4" prefix.
var goldenVectors = []struct {
	name string
	text string
	atts [][]byte
	want Packet
	// decodeOnly marks non-canonical input: the encoder writes the comma.
	decodeOnly bool
}{
	{name: "connect main", text: `0`, want: Packet{Type: Connect, Namespace: "/"}},
	{name: "connect admin auth", text: `0/admin,{"token":"123"}`, want: Packet{Type: Connect, Namespace: "/admin", Data: raw(`{"token":"123"}`)}},
	{name: "connect reply main", text: `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`, want: Packet{Type: Connect, Namespace: "/", Data: raw(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}},
	{name: "connect reply admin", text: `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`, want: Packet{Type: Connect, Namespace: "/admin", Data: raw(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
	{name: "connect reply with pid", text: `0{"sid":"7f3BtSKSz0FIXY_MAAAA","pid":"F3bW3xPRlHB7DqloAAAB"}`, want: Packet{Type: Connect, Namespace: "/", Data: raw(`{"sid":"7f3BtSKSz0FIXY_MAAAA","pid":"F3bW3xPRlHB7DqloAAAB"}`)}},
	{name: "connect_error", text: `4{"message":"Not authorized"}`, want: Packet{Type: ConnectError, Namespace: "/", Data: raw(`{"message":"Not authorized"}`)}},
	{name: "connect_error invalid namespace", text: `4/random,{"message":"Invalid namespace"}`, want: Packet{Type: ConnectError, Namespace: "/random", Data: raw(`{"message":"Invalid namespace"}`)}},
	{name: "connect_error with data", text: `4/admin,{"message":"Not authorized","data":{"reason":"expired"}}`, want: Packet{Type: ConnectError, Namespace: "/admin", Data: raw(`{"message":"Not authorized","data":{"reason":"expired"}}`)}},
	{name: "connect_error string", text: `4"Not authorized"`, want: Packet{Type: ConnectError, Namespace: "/", Data: raw(`"Not authorized"`)}},
	{name: "event foo", text: `2["foo"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["foo"]`)}},
	{name: "event admin", text: `2/admin,["bar"]`, want: Packet{Type: Event, Namespace: "/admin", Data: raw(`["bar"]`)}},
	{name: "event hey jude", text: `2["hey","Jude"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["hey","Jude"]`)}},
	{name: "binary event", text: `51-["baz",{"_placeholder":true,"num":0}]`, atts: bins("01020304"),
		want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["baz",{"_placeholder":true,"num":0}]`), Attachments: bins("01020304")}},
	{name: "binary event admin 2 attachments", text: `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, atts: bins("0102", "0304"),
		want: Packet{Type: BinaryEvent, Namespace: "/admin", Data: raw(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: bins("0102", "0304")}},
	{name: "event with ack id", text: `212["foo"]`, want: Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: raw(`["foo"]`)}},
	{name: "ack admin", text: `3/admin,13["bar"]`, want: Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: raw(`["bar"]`)}},
	{name: "binary ack", text: `61-15["bar",{"_placeholder":true,"num":0}]`, atts: bins("01020304"),
		want: Packet{Type: BinaryAck, Namespace: "/", ID: 15, HasID: true, Data: raw(`["bar",{"_placeholder":true,"num":0}]`), Attachments: bins("01020304")}},
	{name: "binary ack admin", text: `61-/admin,1[{"_placeholder":true,"num":0}]`, atts: bins("ff"),
		want: Packet{Type: BinaryAck, Namespace: "/admin", ID: 1, HasID: true, Data: raw(`[{"_placeholder":true,"num":0}]`), Attachments: bins("ff")}},
	{name: "disconnect main", text: `1`, want: Packet{Type: Disconnect, Namespace: "/"}},
	{name: "disconnect admin", text: `1/admin,`, want: Packet{Type: Disconnect, Namespace: "/admin"}},
	{name: "event message", text: `2["message",1,"2",{"3":[true]}]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["message",1,"2",{"3":[true]}]`)}},
	{name: "event message-back", text: `2["message-back",1,"2",{"3":[true]}]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["message-back",1,"2",{"3":[true]}]`)}},
	{name: "event ack id 456", text: `2456["message-with-ack",1,"2",{"3":[false]}]`, want: Packet{Type: Event, Namespace: "/", ID: 456, HasID: true, Data: raw(`["message-with-ack",1,"2",{"3":[false]}]`)}},
	{name: "ack 456", text: `3456[1,"2",{"3":[false]}]`, want: Packet{Type: Ack, Namespace: "/", ID: 456, HasID: true, Data: raw(`[1,"2",{"3":[false]}]`)}},
	{name: "binary event 2 flat", text: `52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, atts: bins("010203", "040506"),
		want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: bins("010203", "040506")}},
	{name: "binary event 789", text: `52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, atts: bins("010203", "040506"),
		want: Packet{Type: BinaryEvent, Namespace: "/", ID: 789, HasID: true, Data: raw(`["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: bins("010203", "040506")}},
	{name: "binary ack 789", text: `62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, atts: bins("010203", "040506"),
		want: Packet{Type: BinaryAck, Namespace: "/", ID: 789, HasID: true, Data: raw(`[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`), Attachments: bins("010203", "040506")}},
	// §4.1
	{name: "trace hello", text: `2["hello"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["hello"]`)}},
	{name: "trace world", text: `2["world"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["world"]`)}},
	{name: "trace connect admin", text: `0/admin,`, want: Packet{Type: Connect, Namespace: "/admin"}},
	{name: "trace connect admin reply", text: `0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}`, want: Packet{Type: Connect, Namespace: "/admin", Data: raw(`{"sid":"-G5j-67EZFp-q59rADQM"}`)}},
	{name: "trace tellme", text: `2/admin,1["tellme"]`, want: Packet{Type: Event, Namespace: "/admin", ID: 1, HasID: true, Data: raw(`["tellme"]`)}},
	// §4.2 and §4.3
	{name: "trace connect auth", text: `0{"token":"abc"}`, want: Packet{Type: Connect, Namespace: "/", Data: raw(`{"token":"abc"}`)}},
	{name: "trace connect reply", text: `0{"sid":"42VeApSA_2DxuJwxAAAA"}`, want: Packet{Type: Connect, Namespace: "/", Data: raw(`{"sid":"42VeApSA_2DxuJwxAAAA"}`)}},
	{name: "trace auth event", text: `2["auth",{"token":"abc"}]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["auth",{"token":"abc"}]`)}},
	{name: "trace nested binary", text: `52-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, atts: bins("010203", "040506"),
		want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`), Attachments: bins("010203", "040506")}},
	{name: "trace nested binary back", text: `52-["message-back",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, atts: bins("010203", "040506"),
		want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["message-back",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`), Attachments: bins("010203", "040506")}},
	{name: "trace binary with ack", text: `51-0["message-with-ack","hello",{"_placeholder":true,"num":0}]`, atts: bins("0708"),
		want: Packet{Type: BinaryEvent, Namespace: "/", ID: 0, HasID: true, Data: raw(`["message-with-ack","hello",{"_placeholder":true,"num":0}]`), Attachments: bins("0708")}},
	{name: "trace binary ack 0", text: `61-0["hello",{"_placeholder":true,"num":0}]`, atts: bins("0708"),
		want: Packet{Type: BinaryAck, Namespace: "/", ID: 0, HasID: true, Data: raw(`["hello",{"_placeholder":true,"num":0}]`), Attachments: bins("0708")}},
	{name: "trace connect custom", text: `0/custom,{"a":1}`, want: Packet{Type: Connect, Namespace: "/custom", Data: raw(`{"a":1}`)}},
	{name: "trace connect custom reply", text: `0/custom,{"sid":"nqeNhA4YTQgovT-7AAAB"}`, want: Packet{Type: Connect, Namespace: "/custom", Data: raw(`{"sid":"nqeNhA4YTQgovT-7AAAB"}`)}},
	{name: "trace custom auth", text: `2/custom,["auth",{"a":1}]`, want: Packet{Type: Event, Namespace: "/custom", Data: raw(`["auth",{"a":1}]`)}},
	{name: "trace connect random", text: `0/random,`, want: Packet{Type: Connect, Namespace: "/random"}},
	{name: "trace disconnect custom", text: `1/custom,`, want: Packet{Type: Disconnect, Namespace: "/custom"}},
	{name: "trace offset", text: `2["hi","Q8N06Gl"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["hi","Q8N06Gl"]`)}},
	{name: "trace after leave", text: `2["message","x"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["message","x"]`)}},
	{name: "multibyte utf-8", text: `2["message","日本語 — Привет ß"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["message","日本語 — Привет ß"]`)}},
	// Accepted without the trailing comma (§3.2, §3.7).
	{name: "connect custom no comma", text: `0/custom`, want: Packet{Type: Connect, Namespace: "/custom"}, decodeOnly: true},
	{name: "disconnect custom no comma", text: `1/custom`, want: Packet{Type: Disconnect, Namespace: "/custom"}, decodeOnly: true},
	{name: "connect random no comma", text: `0/random`, want: Packet{Type: Connect, Namespace: "/random"}, decodeOnly: true},
	// Accepted like Node, written canonically.
	{name: "explicit main namespace", text: `2/,["x"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["x"]`)}, decodeOnly: true},
	{name: "numeric event name", text: `2[1,"a"]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`[1,"a"]`)}},
	{name: "empty ack", text: `37[]`, want: Packet{Type: Ack, Namespace: "/", ID: 7, HasID: true, Data: raw(`[]`)}},
	{name: "max id", text: `29007199254740991["x"]`, want: Packet{Type: Event, Namespace: "/", ID: MaxID, HasID: true, Data: raw(`["x"]`)}},
	{name: "placeholder in plain event is data", text: `2["x",{"_placeholder":true,"num":3}]`, want: Packet{Type: Event, Namespace: "/", Data: raw(`["x",{"_placeholder":true,"num":3}]`)}},
	{name: "ten attachments", text: `510-["x"]`, atts: bins("00", "01", "02", "03", "04", "05", "06", "07", "08", "09"),
		want: Packet{Type: BinaryEvent, Namespace: "/", Data: raw(`["x"]`), Attachments: bins("00", "01", "02", "03", "04", "05", "06", "07", "08", "09")}},
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// bins decodes hex strings into attachments.
func bins(hexes ...string) [][]byte {
	out := make([][]byte, len(hexes))
	for i, h := range hexes {
		b := make([]byte, len(h)/2)
		for j := range b {
			b[j] = unhex(h[2*j])<<4 | unhex(h[2*j+1])
		}
		out[i] = b
	}
	return out
}

func unhex(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}

// decodeAll feeds a text message and its attachments to a fresh decoder and
// expects exactly one packet, completed by the last message.
func decodeAll(t testing.TB, d *Decoder, text string, atts [][]byte) (*Packet, error) {
	t.Helper()
	p, err := d.Add([]byte(text), false)
	if err != nil || len(atts) == 0 {
		return p, err
	}
	if p != nil {
		t.Fatalf("packet returned before its %d attachments", len(atts))
	}
	for i, a := range atts {
		p, err = d.Add(a, true)
		if err != nil {
			return nil, err
		}
		if i < len(atts)-1 && p != nil {
			t.Fatalf("packet returned after %d of %d attachments", i+1, len(atts))
		}
	}
	return p, nil
}

func samePacket(a, b *Packet) bool {
	return a.Type == b.Type && a.Namespace == b.Namespace && a.HasID == b.HasID && a.ID == b.ID &&
		bytes.Equal(a.Data, b.Data) && reflect.DeepEqual(normAtts(a.Attachments), normAtts(b.Attachments))
}

func normAtts(a [][]byte) [][]byte {
	if len(a) == 0 {
		return nil
	}
	return a
}

func TestGoldenDecode(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenVectors {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := decodeAll(t, &Decoder{}, tc.text, tc.atts)
			if err != nil {
				t.Fatalf("decode %q: %v", tc.text, err)
			}
			if p == nil || !samePacket(p, &tc.want) {
				t.Fatalf("decode %q = %+v, want %+v", tc.text, p, tc.want)
			}
		})
	}
}

func TestGoldenEncode(t *testing.T) {
	t.Parallel()
	for _, tc := range goldenVectors {
		if tc.decodeOnly {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text, atts, err := Encode(&tc.want)
			if err != nil {
				t.Fatalf("Encode(%+v): %v", tc.want, err)
			}
			if string(text) != tc.text {
				t.Errorf("Encode text = %s, want %s", text, tc.text)
			}
			if !reflect.DeepEqual(normAtts(atts), normAtts(tc.atts)) {
				t.Errorf("Encode attachments = %x, want %x", atts, tc.atts)
			}
			msgs, err := JSONParser{}.Encode(&tc.want)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != 1+len(tc.atts) || msgs[0].Binary || string(msgs[0].Data) != tc.text {
				t.Fatalf("JSONParser.Encode = %+v", msgs)
			}
			for i, m := range msgs[1:] {
				if !m.Binary || !bytes.Equal(m.Data, tc.atts[i]) {
					t.Errorf("message %d = %+v, want binary %x", i+1, m, tc.atts[i])
				}
			}
		})
	}
}

// TestEncodeEmptyNamespace checks that "" is written like "/".
func TestEncodeEmptyNamespace(t *testing.T) {
	t.Parallel()
	text, _, err := Encode(&Packet{Type: Event, Data: raw(`["x"]`)})
	if err != nil || string(text) != `2["x"]` {
		t.Fatalf("Encode = %s, %v", text, err)
	}
	out, err := AppendText([]byte("4"), &Packet{Type: Disconnect, Namespace: "/a"})
	if err != nil || string(out) != `41/a,` {
		t.Fatalf("AppendText = %s, %v", out, err)
	}
}

// TestGoldenBuilders builds the observed binary packets from Go values.
func TestGoldenBuilders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		p    func() (*Packet, error)
		text string
		atts [][]byte
	}{
		{"nested binary event", func() (*Packet, error) {
			return NewEvent("/", "message", []byte{1, 2, 3}, map[string]any{"nested": []byte{4, 5, 6}})
		}, `52-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, bins("010203", "040506")},
		{"binary event with ack", func() (*Packet, error) {
			p, err := NewEvent("/", "message-with-ack", "hello", []byte{7, 8})
			if p != nil {
				p.SetID(0)
			}
			return p, err
		}, `51-0["message-with-ack","hello",{"_placeholder":true,"num":0}]`, bins("0708")},
		{"binary ack", func() (*Packet, error) { return NewAck("/", 0, "hello", []byte{7, 8}) },
			`61-0["hello",{"_placeholder":true,"num":0}]`, bins("0708")},
		{"binary ack admin", func() (*Packet, error) { return NewAck("/admin", 1, []byte{0xff}) },
			`61-/admin,1[{"_placeholder":true,"num":0}]`, bins("ff")},
		{"two attachments admin", func() (*Packet, error) { return NewEvent("/admin", "baz", []byte{1, 2}, []byte{3, 4}) },
			`52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, bins("0102", "0304")},
		{"text event", func() (*Packet, error) {
			return NewEvent("/", "message", 1, "2", map[string]any{"3": []any{true}})
		}, `2["message",1,"2",{"3":[true]}]`, nil},
		{"raw args", func() (*Packet, error) {
			return NewEvent("/custom", "auth", json.RawMessage(`{"a":1}`))
		}, `2/custom,["auth",{"a":1}]`, nil},
		{"ack 456", func() (*Packet, error) { return NewAck("/", 456, 1, "2", map[string][]bool{"3": {false}}) },
			`3456[1,"2",{"3":[false]}]`, nil},
		{"empty ack", func() (*Packet, error) { return NewAck("/", 3) }, `33[]`, nil},
		{"event data", func() (*Packet, error) {
			d, err := EventData("hey", json.RawMessage(`"Jude"`))
			return &Packet{Type: Event, Data: d}, err
		}, `2["hey","Jude"]`, nil},
		{"raw array", func() (*Packet, error) {
			d, err := RawArray(json.RawMessage(`1`), json.RawMessage(` "2" `), json.RawMessage(`{"3":[false]}`))
			return &Packet{Type: Ack, ID: 456, HasID: true, Data: d}, err
		}, `3456[1,"2",{"3":[false]}]`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := tc.p()
			if err != nil {
				t.Fatal(err)
			}
			text, atts, err := Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			if string(text) != tc.text || !reflect.DeepEqual(normAtts(atts), normAtts(tc.atts)) {
				t.Fatalf("got %s %x, want %s %x", text, atts, tc.text, tc.atts)
			}
		})
	}
}

// TestPollingTrace replays the polling bodies of docs/protocol.md §4.3 that
// carry binary packets: Engine.IO records split on \x1e, "4" text messages
// and "b" base64 binary messages.
func TestPollingTrace(t *testing.T) {
	t.Parallel()
	bodies := []struct {
		body string
		want []string // encoded packets, attachments as base64 after a space
	}{
		{
			body: "452-[\"message\",{\"_placeholder\":true,\"num\":0},{\"nested\":{\"_placeholder\":true,\"num\":1}}]\x1ebAQID\x1ebBAUG\x1e451-0[\"message-with-ack\",\"hello\",{\"_placeholder\":true,\"num\":0}]\x1ebBwg=",
			want: []string{
				`52-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}] AQID BAUG`,
				`51-0["message-with-ack","hello",{"_placeholder":true,"num":0}] Bwg=`,
			},
		},
		{
			body: "452-[\"message-back\",{\"_placeholder\":true,\"num\":0},{\"nested\":{\"_placeholder\":true,\"num\":1}}]\x1ebAQID\x1ebBAUG\x1e461-0[\"hello\",{\"_placeholder\":true,\"num\":0}]\x1ebBwg=",
			want: []string{
				`52-["message-back",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}] AQID BAUG`,
				`61-0["hello",{"_placeholder":true,"num":0}] Bwg=`,
			},
		},
		{
			body: "40{\"sid\":\"A1Of4TjLQUxwWfbSAAAA\"}\x1e42[\"auth\",{\"token\":\"abc\"}]",
			want: []string{`0{"sid":"A1Of4TjLQUxwWfbSAAAA"}`, `2["auth",{"token":"abc"}]`},
		},
		{
			body: "42/custom,[\"auth\",{\"a\":1}]\x1e44/random,{\"message\":\"Invalid namespace\"}",
			want: []string{`2/custom,["auth",{"a":1}]`, `4/random,{"message":"Invalid namespace"}`},
		},
	}
	for _, b := range bodies {
		var d Decoder
		var got []string
		for _, rec := range strings.Split(b.body, "\x1e") {
			var p *Packet
			var err error
			switch rec[0] {
			case '4':
				p, err = d.Add([]byte(rec[1:]), false)
			case 'b':
				bin, derr := base64.StdEncoding.DecodeString(rec[1:])
				if derr != nil {
					t.Fatal(derr)
				}
				p, err = d.Add(bin, true)
			default:
				t.Fatalf("unexpected record %q", rec)
			}
			if err != nil {
				t.Fatalf("record %q: %v", rec, err)
			}
			if p == nil {
				continue
			}
			// Re-encode as the server would answer.
			text, atts, err := Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			s := string(text)
			for _, a := range atts {
				s += " " + base64.StdEncoding.EncodeToString(a)
			}
			got = append(got, s)
		}
		if !reflect.DeepEqual(got, b.want) {
			t.Errorf("body %q:\n got  %q\n want %q", b.body, got, b.want)
		}
	}
}

// TestTraceArguments decodes the arguments of the traced binary event.
func TestTraceArguments(t *testing.T) {
	t.Parallel()
	p, err := decodeAll(t, &Decoder{}, `52-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`, bins("010203", "040506"))
	if err != nil {
		t.Fatal(err)
	}
	name, args, err := DecodeEvent(p)
	if err != nil || name != "message" || len(args) != 2 {
		t.Fatalf("DecodeEvent = %q, %d args, %v", name, len(args), err)
	}
	a0, err := Reconstruct(args[0], p.Attachments)
	if err != nil || !reflect.DeepEqual(a0, []byte{1, 2, 3}) {
		t.Fatalf("arg 0 = %#v, %v", a0, err)
	}
	a1, err := Reconstruct(args[1], p.Attachments)
	if err != nil || !reflect.DeepEqual(a1, map[string]any{"nested": []byte{4, 5, 6}}) {
		t.Fatalf("arg 1 = %#v, %v", a1, err)
	}
	var typed struct {
		Nested []byte `json:"nested"`
	}
	if err := Unmarshal(args[1], p.Attachments, &typed); err != nil || !bytes.Equal(typed.Nested, []byte{4, 5, 6}) {
		t.Fatalf("Unmarshal = %#v, %v", typed, err)
	}
	var b []byte
	if err := Unmarshal(args[0], p.Attachments, &b); err != nil || !bytes.Equal(b, []byte{1, 2, 3}) {
		t.Fatalf("Unmarshal = %x, %v", b, err)
	}
}

func TestPacketTypeString(t *testing.T) {
	t.Parallel()
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "PacketType(7)"}
	for i, w := range want {
		if got := PacketType(i).String(); got != w {
			t.Errorf("PacketType(%d).String() = %q, want %q", i, got, w)
		}
	}
	if !BinaryAck.IsBinary() || Ack.IsBinary() || PacketType(9).Valid() {
		t.Error("IsBinary/Valid")
	}
}

func TestErrorsWrapSentinel(t *testing.T) {
	t.Parallel()
	_, err := NewDecoder(1).Add([]byte(`52-["x"]`), false)
	if !errors.Is(err, ErrTooManyAttachments) || !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("err = %v", err)
	}
}
