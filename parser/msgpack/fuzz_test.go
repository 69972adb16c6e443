package msgpack

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gosio/socketio/parser"
)

// FuzzDecode feeds arbitrary binary messages to the decoder: it must never
// panic, every error must wrap parser.ErrInvalidPacket, and a decoded packet
// must encode, after which one more decode/encode round is a fixed point.
// Seeds: testdata/fuzz/FuzzDecode (the golden vectors and some malformed
// messages) plus the golden vectors added here.
func FuzzDecode(f *testing.F) {
	for _, v := range loadGolden(f) {
		f.Add(mustHex(f, v.Hex))
	}
	p := Parser{MaxDepth: 64}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(nil), data...)
		pk, err := p.NewDecoder().Add(in, true)
		if err != nil {
			if !errors.Is(err, parser.ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap parser.ErrInvalidPacket", err)
			}
			return
		}
		msgs, err := p.Encode(pk)
		if err != nil {
			t.Fatalf("decoded packet %+v (data %s) does not encode: %v", pk, pk.Data, err)
		}
		p1, err := p.NewDecoder().Add(msgs[0].Data, true)
		if err != nil {
			t.Fatalf("our encoding %x does not decode: %v", msgs[0].Data, err)
		}
		msgs2, err := p.Encode(p1)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := p.NewDecoder().Add(msgs2[0].Data, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := samePacket(p2, p1); err != nil {
			t.Fatalf("not a fixed point: %v\nfirst %s\nthen %s", err, p1.Data, p2.Data)
		}
	})
}

// FuzzEncode compares the encoder with a reference implementation built on
// encoding/json's tokenizer and vmihailenco/msgpack's Encoder
// (ref_test.go): for any JSON text and number of attachments, both must
// accept or reject it, and write the same bytes. What is encoded must also
// decode.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{
		`1`, `"x"`, `{"a":[1,2.5,-3,true,false,null]}`, `"\u00e9\n\"\\"`, `{"_placeholder":true,"num":0}`,
		`[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0,"_placeholder":false}]`,
		`{"a":1,"a":2}`, `18446744073709551615`, `-9223372036854775808`, `1e400`, `-0`, `1.5e-7`, ` [ 1 , { "k" : [ ] } ] `,
		`{"_placeholder":true,"num":"0"}`, `{"\u005fplaceholder":true,"num":0.0}`, `[1,]`, `{"a"}`,
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, natts uint8) {
		payload := append(append([]byte(`["e",`), data...), ']')
		var atts [][]byte
		for i := range int(natts % 4) {
			atts = append(atts, bytes.Repeat([]byte{byte(i)}, i))
		}
		p := parser.Packet{Type: parser.Event, Namespace: "/", Data: payload, Attachments: atts}
		got, err := encodePacket(&p)
		var want []byte
		ref, refErr := refEncodeJSON(payload, atts)
		if refErr == nil {
			// type 2, data, nsp "/".
			want = append([]byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa4, 'd', 'a', 't', 'a'}, ref...)
			want = append(want, 0xa3, 'n', 's', 'p', 0xa1, '/')
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("%s: error %v, reference error %v", payload, err, refErr)
		}
		if err != nil {
			if !errors.Is(err, parser.ErrInvalidPacket) {
				t.Fatalf("error %v does not wrap parser.ErrInvalidPacket", err)
			}
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %x\nwant %x", payload, got, want)
		}
		if _, err := (Parser{MaxAttachments: -1, MaxDepth: 20000}).NewDecoder().Add(got, true); err != nil {
			t.Fatalf("%s: our encoding %x does not decode: %v", payload, got, err)
		}
	})
}
