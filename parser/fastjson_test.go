package parser

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// stdJSON is what encoding/json writes for v without HTML escaping, as
// Marshal does.
func stdJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// checkScalar fails t when appendScalar and encoding/json disagree on v:
// the same bytes, or both refusing.
func checkScalar(t *testing.T, v any) {
	t.Helper()
	want, err := stdJSON(v)
	got, ok := appendScalar([]byte("x"), v)
	switch {
	case err != nil && ok:
		t.Fatalf("%#v: appendScalar wrote %s, encoding/json refuses: %v", v, got, err)
	case err == nil && !ok:
		t.Fatalf("%#v: appendScalar refuses, encoding/json writes %s", v, want)
	case ok && string(got[1:]) != string(want):
		t.Fatalf("%#v: appendScalar %s, encoding/json %s", v, got[1:], want)
	}
}

// checkPlain fails t when plainString accepts raw but encoding/json decodes
// it to something else (or refuses it).
func checkPlain(t *testing.T, raw []byte) {
	t.Helper()
	s, ok := plainString(raw)
	if !ok {
		return
	}
	var want string
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("plainString(%q) = %q, encoding/json refuses: %v", raw, s, err)
	}
	if s != want {
		t.Fatalf("plainString(%q) = %q, encoding/json %q", raw, s, want)
	}
}

func TestAppendScalar(t *testing.T) {
	for _, v := range []any{
		nil, "", "plain", `quote " and \ backslash`, "\b\f\n\r\t\x00\x01\x1f\x7f",
		"<html> & 'x'", "é ü 日本 🎉", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80",
		true, false, 0, -1, math.MaxInt64, math.MinInt64, int8(-8), int16(300), int32(-70000),
		uint(7), uint8(255), uint16(65535), uint32(1 << 31), uint64(math.MaxUint64),
		0.0, math.Copysign(0, -1), 1.5, -2.25, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324,
		math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1),
		float32(1e-7), float32(1e21), float32(3.4028235e38), float32(0.1),
	} {
		checkScalar(t, v)
	}
	// Types that are not predeclared scalars go to encoding/json.
	type level string
	for _, v := range []any{level("x"), []int{1}, map[string]int{}, json.RawMessage(`1`)} {
		if _, ok := appendScalar(nil, v); ok {
			t.Errorf("appendScalar took %#v", v)
		}
	}
}

func TestPlainString(t *testing.T) {
	for _, c := range []struct {
		raw string
		ok  bool
	}{
		{`"abc"`, true},
		{`""`, true},
		{`"日本 é"`, true},
		{`"a\"b"`, false},    // escape
		{`"a\nb"`, false},    // escape
		{"\"a\nb\"", false},  // raw control character: invalid JSON
		{`"a"b"`, false},     // quote inside: invalid JSON
		{"\"\xff\"", false},  // invalid UTF-8: encoding/json replaces it
		{` "abc"`, false},    // space: left to encoding/json
		{`"abc`, false},      // unterminated
		{`"`, false},         // one quote
		{`abc`, false},       // not a string
		{`"<&>'"`, true},     // no HTML business on decoding
		{"\"\u2028\"", true}, // allowed unescaped in a JSON string
		{"\"\x7f\"", true},   // DEL is not a control character for JSON
	} {
		_, ok := plainString([]byte(c.raw))
		if ok != c.ok {
			t.Errorf("plainString(%q) ok = %v, want %v", c.raw, ok, c.ok)
		}
		checkPlain(t, []byte(c.raw))
	}
}

func TestMarshalArgsScalars(t *testing.T) {
	for _, args := range [][]any{
		nil, {}, {"a"}, {"a", 1, true, nil, 2.5}, {"x", []int{1}}, {math.NaN()},
	} {
		got, atts, gerr := MarshalArgs(args...)
		list := args
		if list == nil {
			list = []any{}
		}
		want, werr := stdJSON(list)
		if (gerr != nil) != (werr != nil) || string(got) != string(want) || atts != nil {
			t.Errorf("MarshalArgs(%#v) = %s, %v, %v; encoding/json %s, %v", args, got, atts, gerr, want, werr)
		}
	}
	p, err := NewEvent("/", "ev\"", "a", 2)
	if err != nil || string(p.Data) != `["ev\"","a",2]` || p.Type != Event {
		t.Errorf("NewEvent: %+v, %v", p, err)
	}
}

// FuzzFastJSON checks the fast paths against encoding/json: the writing of
// strings and numbers, and the reading of plain strings.
func FuzzFastJSON(f *testing.F) {
	f.Add("plain", 1.5, int64(3), []byte(`"x"`))
	f.Add("\x00\u2028\xff\"\\", 1e-7, int64(-1), []byte("\"\xc3\xa9\""))
	f.Add("", 1e21, int64(0), []byte(`"a\u0041"`))
	f.Fuzz(func(t *testing.T, s string, x float64, n int64, raw []byte) {
		checkScalar(t, s)
		checkScalar(t, x)
		checkScalar(t, float32(x))
		checkScalar(t, n)
		checkPlain(t, raw)
		checkPlain(t, append(append([]byte{'"'}, s...), '"'))
		// Whatever the fast path decides, Unmarshal agrees with
		// encoding/json.
		var got, want string
		gerr := Unmarshal(raw, nil, &got)
		werr := json.Unmarshal(raw, &want)
		if (gerr == nil) != (werr == nil) || got != want {
			t.Fatalf("Unmarshal(%q) = %q, %v; encoding/json %q, %v", raw, got, gerr, want, werr)
		}
	})
}
