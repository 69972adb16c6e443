package msgpack

import (
	"testing"

	"github.com/gosio/socketio/parser"
)

func benchPacket(b *testing.B) *parser.Packet {
	p, err := parser.NewEvent("/", "update", map[string]any{"id": 42, "name": "héllo", "tags": []string{"a", "b"}},
		[]byte("0123456789abcdef0123456789abcdef"), 3.25)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkEncode(b *testing.B) {
	p := benchPacket(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Parser{}).Encode(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	msgs, err := Parser{}.Encode(benchPacket(b))
	if err != nil {
		b.Fatal(err)
	}
	d := Parser{}.NewDecoder()
	b.ReportAllocs()
	b.SetBytes(int64(len(msgs[0].Data)))
	for b.Loop() {
		if _, err := d.Add(msgs[0].Data, true); err != nil {
			b.Fatal(err)
		}
	}
}
