package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

type inner struct {
	Z int `json:"z"`
}

type sample struct {
	Name    string            `json:"name"`
	Bin     []byte            `json:"bin"`
	Skip    string            `json:"-"`
	Empty   string            `json:"empty,omitempty"`
	Count   int64             `json:"count,string"`
	Tags    []string          `json:"tags"`
	Meta    map[string]any    `json:"meta"`
	When    time.Time         `json:"when"`
	Ptr     *inner            `json:"ptr"`
	Raw     json.RawMessage   `json:"raw"`
	Headers map[string]string `json:"headers"`
	inner
	private int
}

// FromGo names and omits fields as encoding/json does, and keeps []byte as
// bytes (a Buffer on the wire).
func TestFromGo(t *testing.T) {
	when := time.Date(2026, 12, 2, 1, 2, 3, 4e6, time.UTC)
	v := sample{Name: "n", Bin: []byte{1, 2}, Skip: "x", Count: 7, Tags: []string{"a"}, Meta: map[string]any{"b": 1.5, "a": nil},
		When: when, Ptr: &inner{Z: 2}, Raw: json.RawMessage(`{"k":[1]}`), Headers: map[string]string{"h": "v"}, inner: inner{Z: 9}, private: 3}
	tree, err := FromGo(v)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := EncodeJSON(tree, NodeBuffers)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"n","bin":{"type":"Buffer","data":[1,2]},"count":"7","tags":["a"],"meta":{"a":null,"b":1.5},` +
		`"when":"2026-12-02T01:02:03.004Z","ptr":{"z":2},"raw":{"k":[1]},"headers":{"h":"v"},"z":9}`
	if string(got) != want {
		t.Fatalf("JSON\n got %s\nwant %s", got, want)
	}
	// Without bytes, the JSON is encoding/json's (up to the time format).
	plain := map[string]any{"a": []any{1, "x", true, nil}, "b": map[string]int{"y": 2, "x": 1}, "c": 2.5}
	tree, _ = FromGo(plain)
	got, _, _ = EncodeJSON(tree, NodeBuffers)
	std, _ := json.Marshal(plain)
	if !bytes.Equal(got, std) {
		t.Fatalf("JSON %s, encoding/json %s", got, std)
	}
	if _, err := FromGo(map[bool]int{true: 1}); err == nil {
		t.Fatal("a map with bool keys converted")
	}
	if _, err := FromGo(make(chan int)); err == nil {
		t.Fatal("a channel converted")
	}
}

// ToGo gives what encoding/json would decode into an any, with bytes kept:
// a value with []byte survives FromGo, msgpack and ToGo.
func TestToGoRoundTrip(t *testing.T) {
	in := map[string]any{"bin": []byte{1, 2, 3}, "n": 2, "f": 2.5, "s": "x", "l": []any{[]byte{4}}, "o": map[string]any{"k": true}}
	tree, err := FromGo(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeMsgpack(tree)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeMsgpack(b)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"bin": []byte{1, 2, 3}, "n": 2.0, "f": 2.5, "s": "x", "l": []any{[]byte{4}}, "o": map[string]any{"k": true}}
	if got := ToGo(back); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	// The JSON form of a Buffer reads as bytes too.
	j, _ := DecodeJSON([]byte(`{"b":{"type":"Buffer","data":[7,8]},"x":{"type":"Buffer","data":[300]}}`), nil)
	got := ToGo(j).(map[string]any)
	if !bytes.Equal(got["b"].([]byte), []byte{7, 8}) {
		t.Fatalf("b %#v", got["b"])
	}
	if _, ok := got["x"].(map[string]any); !ok {
		t.Fatalf("a Buffer-like object with a byte out of range read as %#v", got["x"])
	}
}

// The encoder picks notepack's forms.
func TestMsgpackForms(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{int64(0), "00"}, {int64(127), "7f"}, {int64(128), "cc80"}, {int64(65536), "ce00010000"}, {int64(-1), "ff"},
		{int64(-33), "d0df"}, {int64(-129), "d1ff7f"}, {int64(math.MinInt64), "d38000000000000000"},
		{uint64(math.MaxUint64), "cfffffffffffffffff"}, {1.0, "01"}, {2.5, "cb4004000000000000"}, {math.NaN(), "cb7ff8000000000001"},
		{"", "a0"}, {string(make([]byte, 32)), "d920" + hex.EncodeToString(make([]byte, 32))},
		{[]byte{}, "c400"}, {[]any{}, "90"}, {&Object{}, "80"}, {nil, "c0"}, {true, "c3"},
		{time.Unix(1704164645, 678e6).UTC(), "d7ffa1a5d60065937d25"}, {time.Unix(1704067200, 0), "d6ff65920080"},
	} {
		b, err := EncodeMsgpack(c.v)
		if err != nil {
			t.Fatal(err)
		}
		got := hex.EncodeToString(b)
		if c.want == "cb7ff8000000000001" { // NaN: any NaN payload
			if len(b) != 9 || b[0] != 0xcb {
				t.Fatalf("NaN: %s", got)
			}
			continue
		}
		if got != c.want {
			t.Fatalf("%#v: %s, want %s", c.v, got, c.want)
		}
	}
}

// Malformed msgpack and JSON are errors, never panics or huge allocations.
func TestMalformed(t *testing.T) {
	for _, h := range []string{"", "93", "dc", "ddffffffff", "dfffffffff", "c6ffffffff", "dbffffffff01", "c1", "d4ff00",
		"c7ff05", "93a1", "9301c4", "8101", "0101", "c7010a00"} {
		raw, _ := hex.DecodeString(h)
		if _, err := DecodeMsgpack(raw); err == nil {
			t.Fatalf("%s decoded", h)
		}
	}
	if v, err := DecodeMsgpack([]byte{0xd4, 0, 0}); err != nil || v != nil {
		t.Fatalf("undefined: %v %v", v, err)
	}
	// notepack 2's Date: 1704164645678 ms.
	if v, err := DecodeMsgpack([]byte{0xd7, 0, 0, 0, 0x01, 0x8c, 0xc8, 0x20, 0xdb, 0x2e}); err != nil ||
		!v.(time.Time).Equal(time.UnixMilli(1704164645678)) {
		t.Fatalf("notepack 2 date: %v %v", v, err)
	}
	deep := bytes.Repeat([]byte{0x91}, maxDepth+10)
	if _, err := DecodeMsgpack(append(deep, 0xc0)); err == nil {
		t.Fatal("deep nesting decoded")
	}
	for _, s := range []string{"{", `{"type":`, `{"a":1}x`, string(bytes.Repeat([]byte("["), 10000))} {
		if _, err := DecodePayload([]byte(s)); err == nil {
			t.Fatalf("%q decoded", s)
		}
	}
}

// FuzzDecode: whatever decodes re-encodes, and the re-encoded bytes are
// stable through another round trip.
func FuzzDecode(f *testing.F) {
	for _, h := range []string{"83a47479706502a46461746192a2657682a3627566c40378797aa46c6973749501cb4004000000000000a173c0c3a36e7370a12f",
		"d7ffa1a5d60065937d25", "9301c003", "dc0010000102030405060708090a0b0c0d0e0f"} {
		b, _ := hex.DecodeString(h)
		f.Add(b)
	}
	f.Add([]byte(`{"type":2,"data":{"a":[1,2.5,"x",null,true]},"nsp":"/"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := DecodeMsgpack(b); err == nil {
			enc, err := EncodeMsgpack(v)
			if err != nil {
				t.Fatalf("decoded value does not encode: %v", err)
			}
			v2, err := DecodeMsgpack(enc)
			if err != nil {
				t.Fatalf("re-encoded value does not decode: %v", err)
			}
			// The first encoding may normalise (a float holding an
			// integer becomes that integer); after it, bytes are stable.
			enc2, err := EncodeMsgpack(v2)
			if err != nil || !bytes.Equal(enc, enc2) {
				t.Fatalf("round trip changed the bytes: %x / %x (%v)", enc, enc2, err)
			}
			_ = ToGo(v)
		}
		if v, err := DecodeJSON(b, nil); err == nil {
			if _, _, err := EncodeJSON(v, Placeholders); err != nil {
				t.Fatalf("decoded JSON does not encode: %v", err)
			}
		}
	})
}
