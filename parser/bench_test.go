package parser

import (
	"encoding/json"
	"testing"
)

var benchEvent = &Packet{Type: Event, Namespace: "/chat", ID: 42, HasID: true,
	Data: raw(`["message",{"user":"alice","text":"hello world","ts":1735689600000,"tags":["a","b"]}]`)}

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Encode(benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendText(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	for b.Loop() {
		var err error
		if buf, err = AppendText(buf[:0], benchEvent); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	text, _, _ := Encode(benchEvent)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		if _, err := d.Add(text, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBinary(b *testing.B) {
	text := []byte(`52-["message",{"_placeholder":true,"num":0},{"nested":{"_placeholder":true,"num":1}}]`)
	atts := bins("010203", "040506")
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		if _, err := d.Add(text, false); err != nil {
			b.Fatal(err)
		}
		d.Add(atts[0], true)
		if p, err := d.Add(atts[1], true); err != nil || p == nil {
			b.Fatal(err)
		}
	}
}

type benchMsg struct {
	User string `json:"user"`
	Text string `json:"text"`
	TS   int64  `json:"ts"`
}

func BenchmarkNewEvent(b *testing.B) {
	msg := benchMsg{"alice", "hello world", 1735689600000}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewEvent("/chat", "message", msg, 1, "two"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewEventBinary(b *testing.B) {
	payload := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewEvent("/", "upload", map[string]any{"name": "f.bin", "data": payload}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeEventUnmarshal(b *testing.B) {
	text, _, _ := Encode(benchEvent)
	b.ReportAllocs()
	var d Decoder
	for b.Loop() {
		p, err := d.Add(text, false)
		if err != nil {
			b.Fatal(err)
		}
		_, args, err := DecodeEvent(p)
		if err != nil {
			b.Fatal(err)
		}
		var m benchMsg
		if err := Unmarshal(args[0], p.Attachments, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalBinary(b *testing.B) {
	arg := json.RawMessage(`{"name":"f.bin","data":{"_placeholder":true,"num":0}}`)
	atts := [][]byte{make([]byte, 4096)}
	b.ReportAllocs()
	for b.Loop() {
		var v struct {
			Name string `json:"name"`
			Data []byte `json:"data"`
		}
		if err := Unmarshal(arg, atts, &v); err != nil {
			b.Fatal(err)
		}
	}
}
