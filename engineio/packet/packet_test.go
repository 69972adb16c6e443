package packet

import (
	"bytes"
	"errors"
	"testing"
)

// Golden vectors from the Engine.IO v4 specification (docs/protocol.md §2).
func TestEncodeDecodePacket(t *testing.T) {
	tests := []struct {
		name string
		pkt  Packet
		wire string
	}{
		{"open", Packet{Type: Open, Data: []byte(`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)},
			`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
		{"close", Packet{Type: Close, Data: []byte{}}, "1"},
		{"ping", Packet{Type: Ping, Data: []byte{}}, "2"},
		{"probe ping", Packet{Type: Ping, Data: []byte("probe")}, "2probe"},
		{"probe pong", Packet{Type: Pong, Data: []byte("probe")}, "3probe"},
		{"text message", Packet{Type: Message, Data: []byte("hello")}, "4hello"},
		{"multibyte message", Packet{Type: Message, Data: []byte("日本 — ß")}, "4日本 — ß"},
		{"binary message", Packet{Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true}, "bAQIDBA=="},
		{"empty binary", Packet{Type: Message, Data: []byte{}, Binary: true}, "b"},
		{"upgrade", Packet{Type: Upgrade, Data: []byte{}}, "5"},
		{"noop", Packet{Type: Noop, Data: []byte{}}, "6"},
		{"socket.io event", Packet{Type: Message, Data: []byte(`2["hello",1]`)}, `42["hello",1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.pkt.AppendText(nil)
			if string(got) != tt.wire {
				t.Fatalf("encode = %q, want %q", got, tt.wire)
			}
			if n := tt.pkt.EncodedLen(); n != len(tt.wire) {
				t.Fatalf("EncodedLen = %d, want %d", n, len(tt.wire))
			}
			p, err := Decode([]byte(tt.wire))
			if err != nil {
				t.Fatal(err)
			}
			if p.Type != tt.pkt.Type || p.Binary != tt.pkt.Binary || !bytes.Equal(p.Data, tt.pkt.Data) {
				t.Fatalf("decode = %+v, want %+v", p, tt.pkt)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	tests := []struct {
		name string
		pkts []Packet
		wire string
	}{
		{"three messages", []Packet{{Type: Message, Data: []byte("test1")}, {Type: Message, Data: []byte("test2")}, {Type: Message, Data: []byte("test3")}},
			"4test1\x1e4test2\x1e4test3"},
		{"text and binary", []Packet{{Type: Message, Data: []byte("hello")}, {Type: Message, Data: []byte{1, 2, 3, 4}, Binary: true}},
			"4hello\x1ebAQIDBA=="},
		{"spec sample", []Packet{{Type: Message, Data: []byte("hello")}, {Type: Ping, Data: []byte{}}, {Type: Message, Data: []byte("world")}},
			"4hello\x1e2\x1e4world"},
		{"single ping", []Packet{{Type: Ping, Data: []byte{}}}, "2"},
		{"socket.io binary event", []Packet{
			{Type: Message, Data: []byte(`52-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`)},
			{Type: Message, Data: []byte{1, 2, 3}, Binary: true},
			{Type: Message, Data: []byte{4, 5, 6}, Binary: true},
		}, `452-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]` + "\x1ebAQID\x1ebBAUG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendPayload(nil, tt.pkts...); string(got) != tt.wire {
				t.Fatalf("encode = %q, want %q", got, tt.wire)
			}
			got, err := DecodePayload([]byte(tt.wire))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.pkts) {
				t.Fatalf("decoded %d packets, want %d", len(got), len(tt.pkts))
			}
			for i := range got {
				if got[i].Type != tt.pkts[i].Type || got[i].Binary != tt.pkts[i].Binary || !bytes.Equal(got[i].Data, tt.pkts[i].Data) {
					t.Fatalf("packet %d = %+v, want %+v", i, got[i], tt.pkts[i])
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrEmpty},
		{"unknown type", "7", ErrUnknownType},
		{"letter", "abc", ErrUnknownType},
		{"bad base64", "b!!!", ErrBase64},
		{"bad padding", "bAQIDBA=", ErrBase64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.in))
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	payloads := []string{"", "\x1e", "4a\x1e", "\x1e4a", "4a\x1e\x1e4b", "4a\x1ex", "4a\x1eb%%"}
	for _, in := range payloads {
		if _, err := DecodePayload([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodePayload(%q) err = %v, want ErrInvalid", in, err)
		}
	}
}

func TestTypeString(t *testing.T) {
	if Ping.String() != "ping" || Type(9).String() != "Type(9)" || Type(9).Valid() || !Noop.Valid() {
		t.Fatal("Type.String/Valid")
	}
	if p := DecodeBinary([]byte{9}); !p.Binary || p.Type != Message {
		t.Fatal("DecodeBinary")
	}
}

// FuzzDecodePayload checks that any payload either fails cleanly or decodes
// into packets that encode back to the same bytes (base64 aside).
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"4hello\x1e2\x1e4world", "bAQIDBA==", "0{}", "2probe", "", "\x1e", "4a\x1ebAQ=="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pkts, err := DecodePayload(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		again, err := DecodePayload(AppendPayload(nil, pkts...))
		if err != nil || len(again) != len(pkts) {
			t.Fatalf("re-decode failed: %v", err)
		}
		for i := range pkts {
			if again[i].Type != pkts[i].Type || !bytes.Equal(again[i].Data, pkts[i].Data) {
				t.Fatalf("round trip changed packet %d", i)
			}
		}
	})
}

// FuzzDecode checks single-packet decoding never panics and round-trips.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"4hello", "2", "3probe", "bAQIDBA==", "6", "x", "b"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		if !p.Type.Valid() {
			t.Fatalf("invalid type %d decoded", p.Type)
		}
		q, err := Decode(p.AppendText(nil))
		if err != nil || q.Type != p.Type || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

var sink []byte

func BenchmarkEncodePayload(b *testing.B) {
	pkts := []Packet{
		{Type: Message, Data: []byte(`2["chat message","a reasonably sized chat message body"]`)},
		{Type: Ping, Data: []byte{}},
		{Type: Message, Data: bytes.Repeat([]byte{7}, 256), Binary: true},
	}
	b.ReportAllocs()
	buf := make([]byte, 0, 1024)
	for b.Loop() {
		sink = AppendPayload(buf[:0], pkts...)
	}
}

func BenchmarkDecodePayload(b *testing.B) {
	body := AppendPayload(nil,
		Packet{Type: Message, Data: []byte(`2["chat message","a reasonably sized chat message body"]`)},
		Packet{Type: Pong, Data: []byte{}},
		Packet{Type: Message, Data: bytes.Repeat([]byte{7}, 256), Binary: true})
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodePayload(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeText(b *testing.B) {
	msg := []byte(`42["chat message","a reasonably sized chat message body"]`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(msg); err != nil {
			b.Fatal(err)
		}
	}
}
