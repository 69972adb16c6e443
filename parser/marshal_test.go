package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

type inner struct {
	Blob  []byte `json:"blob"`
	Label string `json:"label,omitempty"`
}

type Embedded struct {
	Shared []byte
	Deep   string
}

type withBinary struct {
	Name     string            `json:"name"`
	Photo    []byte            `json:"photo"`
	Thumbs   [][]byte          `json:"thumbs"`
	Inner    inner             `json:"inner"`
	PInner   *inner            `json:"pinner,omitempty"`
	ByKey    map[string][]byte `json:"byKey"`
	Any      any               `json:"any"`
	Skip     []byte            `json:"-"`
	private  []byte
	Optional []byte `json:"optional,omitempty"`
	Embedded
}

func TestMarshalNestedBinary(t *testing.T) {
	t.Parallel()
	v := withBinary{
		Name:     "x",
		Photo:    []byte{1},
		Thumbs:   [][]byte{{2}, {3}},
		Inner:    inner{Blob: []byte{4}},
		PInner:   &inner{Blob: []byte{5}, Label: "p"},
		ByKey:    map[string][]byte{"b": {7}, "a": {6}},
		Any:      []any{map[string]any{"k": []byte{8}}, [2][]byte{{9}, nil}},
		Skip:     []byte{0xee},
		private:  []byte{0xee},
		Embedded: Embedded{Shared: []byte{10}, Deep: "d"},
	}
	data, atts, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(n string) string { return `{"_placeholder":true,"num":` + n + `}` }
	want := `{"name":"x","photo":` + ph("0") + `,"thumbs":[` + ph("1") + `,` + ph("2") + `],` +
		`"inner":{"blob":` + ph("3") + `},"pinner":{"blob":` + ph("4") + `,"label":"p"},` +
		`"byKey":{"a":` + ph("5") + `,"b":` + ph("6") + `},"any":[{"k":` + ph("7") + `},[` + ph("8") + `,null]],` +
		`"Shared":` + ph("9") + `,"Deep":"d"}`
	if string(data) != want {
		t.Fatalf("Marshal =\n%s\nwant\n%s", data, want)
	}
	for i, a := range atts {
		if len(a) != 1 || a[0] != byte(i+1) {
			t.Fatalf("attachment %d = %x", i, a)
		}
	}
	if len(atts) != 10 {
		t.Fatalf("%d attachments", len(atts))
	}

	// Round trip through the wire and back into the typed value.
	p, err := NewEvent("/", "upload", v, []byte("tail"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != BinaryEvent || len(p.Attachments) != 11 {
		t.Fatalf("NewEvent = %v with %d attachments", p.Type, len(p.Attachments))
	}
	text, bin, err := Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(text), `511-["upload",{`) {
		t.Fatalf("text %s", text)
	}
	got, err := decodeAll(t, NewDecoder(11), string(text), bin)
	if err != nil {
		t.Fatal(err)
	}
	name, args, err := DecodeEvent(got)
	if err != nil || name != "upload" || len(args) != 2 {
		t.Fatalf("DecodeEvent: %q %d %v", name, len(args), err)
	}
	var back withBinary
	if err := Unmarshal(args[0], got.Attachments, &back); err != nil {
		t.Fatal(err)
	}
	want2 := v
	want2.Skip, want2.private = nil, nil
	want2.Any = nil
	back.Any = nil // an interface receives base64 text, as documented
	if !reflect.DeepEqual(back, want2) {
		t.Fatalf("round trip\n got %+v\nwant %+v", back, want2)
	}
	var tail []byte
	if err := Unmarshal(args[1], got.Attachments, &tail); err != nil || string(tail) != "tail" {
		t.Fatalf("tail = %q, %v", tail, err)
	}
	tree, err := Reconstruct(args[0], got.Attachments)
	if err != nil {
		t.Fatal(err)
	}
	anyField := tree.(map[string]any)["any"]
	if !reflect.DeepEqual(anyField, []any{map[string]any{"k": []byte{8}}, []any{[]byte{9}, nil}}) {
		t.Fatalf("reconstructed any = %#v", anyField)
	}
	var viaAny any
	if err := Unmarshal(args[0], got.Attachments, &viaAny); err != nil || !reflect.DeepEqual(viaAny, tree) {
		t.Fatalf("Unmarshal into *any = %#v, %v", viaAny, err)
	}
}

func TestMarshalSpecialValues(t *testing.T) {
	t.Parallel()
	ts := time.Date(2026, 1, 2, 3, 4, 5, 678e6, time.UTC)
	cases := []struct {
		name  string
		v     any
		want  string
		natts int
	}{
		{"nil", nil, `null`, 0},
		{"nil bytes", []byte(nil), `null`, 0},
		{"empty bytes", []byte{}, `{"_placeholder":true,"num":0}`, 1},
		{"byte array is numbers", [2]byte{1, 2}, `[1,2]`, 0},
		{"raw message kept", []any{json.RawMessage(`{"b":1,"a":2}`)}, `[{"b":1,"a":2}]`, 0},
		{"time", []any{ts}, `["2026-01-02T03:04:05.678Z"]`, 0},
		{"no html escaping", []any{"<a&b>"}, `["<a&b>"]`, 0},
		{"int keys sorted as text", map[int]any{10: []byte{1}, 9: "x"}, `{"10":{"_placeholder":true,"num":0},"9":"x"}`, 1},
		{"nil map", map[string]any(nil), `null`, 0},
		{"nil pointer", []any{(*inner)(nil)}, `[null]`, 0},
		{"named byte slice", []any{json.Number("12")}, `[12]`, 0},
		{"pointer to bytes", []any{&[]byte{1}}, `[{"_placeholder":true,"num":0}]`, 1},
		{"empty args", []any{}, `[]`, 0},
		{"float", []any{1.5, 1e21, float32(0.1)}, `[1.5,1e+21,0.1]`, 0},
	}
	for _, tc := range cases {
		data, atts, err := Marshal(tc.v)
		if err != nil || string(data) != tc.want || len(atts) != tc.natts {
			t.Errorf("%s: Marshal = %s, %d atts, %v; want %s, %d", tc.name, data, len(atts), err, tc.want, tc.natts)
		}
	}
	if data, atts, err := MarshalArgs(); err != nil || string(data) != `[]` || atts != nil {
		t.Errorf("MarshalArgs() = %s %v %v", data, atts, err)
	}
}

type node struct{ Next any }

type custom struct{ B []byte }

func (c custom) MarshalJSON() ([]byte, error) { return []byte(`"custom"`), nil }

type ptrCustom struct{ B []byte }

func (c *ptrCustom) MarshalJSON() ([]byte, error) { return []byte(`"ptr"`), nil }

func TestMarshalErrorsAndMarshalers(t *testing.T) {
	t.Parallel()
	n := &node{}
	n.Next = n
	if _, _, err := Marshal(n); !errors.Is(err, errTooDeep) {
		t.Errorf("cycle: %v", err)
	}
	if _, _, err := Marshal([]any{make(chan int)}); err == nil {
		t.Error("chan accepted")
	}
	if _, _, err := Marshal(map[[2]int]any{{1, 2}: 1}); err == nil {
		t.Error("array map key accepted")
	}
	data, atts, err := Marshal([]any{custom{B: []byte{1}}, &ptrCustom{B: []byte{1}}, []ptrCustom{{}}})
	if err != nil || string(data) != `["custom","ptr",["ptr"]]` || len(atts) != 0 {
		t.Errorf("marshalers: %s %d %v", data, len(atts), err)
	}
	if _, err := NewEvent("/", "disconnect"); !errors.Is(err, ErrInvalidPacket) {
		t.Errorf("reserved name: %v", err)
	}
	if _, err := EventData("connect"); err == nil {
		t.Error("EventData accepted a reserved name")
	}
	if _, err := RawArray(json.RawMessage(`{`)); err == nil {
		t.Error("RawArray accepted invalid JSON")
	}
}

// Struct shapes whose interface fields force Marshal to walk them itself: its
// output must equal encoding/json's.
type (
	Base struct {
		ID    int    `json:"id"`
		Note  string `json:"note,omitempty"`
		Inner any
	}
	conflictA struct{ Same int }
	conflictB struct{ Same int }
	Tagged    struct {
		Win int `json:"win"`
	}
	Untagged struct{ Win int }
	walkMe   struct {
		Base
		*Tagged
		Untagged
		conflictA
		conflictB
		Str     int             `json:"str,string"`
		PStr    *bool           `json:"pstr,string"`
		Quote   string          `json:"quote,string"`
		Zero    time.Time       `json:"zero,omitzero"`
		ZeroS   struct{ A int } `json:"zeros,omitzero"`
		Empty   []any           `json:"empty,omitempty"`
		Renamed any             `json:"re-named"`
		//lint:ignore SA5008 an invalid name, to check that the field name is used as encoding/json does
		BadTag any `json:"a\"b"`
		Hidden any `json:"-"`
		//lint:ignore SA5008 the member named "-", to check encoding/json's rule
		Dash     any            `json:"-,"`
		Map      map[string]any `json:"map"`
		Arr      [2]any
		unexport any
	}
)

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	tr := true
	values := []any{
		walkMe{},
		walkMe{
			Base:   Base{ID: 1, Note: "n", Inner: map[string]any{"z": 1, "a": []any{"<x>", 2.5, nil}}},
			Tagged: &Tagged{Win: 2}, Untagged: Untagged{Win: 3},
			conflictA: conflictA{4}, conflictB: conflictB{5},
			Str: 6, PStr: &tr, Quote: "q\"", ZeroS: struct{ A int }{1},
			Empty: []any{1}, Renamed: "r", BadTag: 1, Hidden: 1, Dash: 2,
			Map: map[string]any{"k": walkMe{}}, Arr: [2]any{1, "2"}, unexport: 3,
		},
		map[string]any{"b": []any{1, map[string]any{"c": nil}}, "a": "é"},
	}
	for i, v := range values {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		got, atts, err := Marshal(v)
		if err != nil || string(got) != want || len(atts) != 0 {
			t.Errorf("value %d:\n got  %s (%v)\n want %s", i, got, err, want)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	atts := bins("0102", "03")
	type target struct {
		A []byte            `json:"a"`
		B map[string][]byte `json:"b"`
		C []any             `json:"c"`
	}
	in := raw(`{"a":{"_placeholder":true,"num":0},"b":{"x":{"num":1,"_placeholder":true}},"c":[{"_placeholder":true,"num":1}]}`)
	var got target
	if err := Unmarshal(in, atts, &got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.A, []byte{1, 2}) || !bytes.Equal(got.B["x"], []byte{3}) || got.C[0] != "Aw==" {
		t.Fatalf("Unmarshal = %#v", got)
	}
	got.A[0] = 9
	if atts[0][0] != 1 {
		t.Fatal("Unmarshal result aliases the attachment")
	}
	// Without attachments placeholders are plain objects.
	var plain map[string]map[string]any
	if err := Unmarshal(raw(`{"a":{"_placeholder":true,"num":0}}`), nil, &plain); err != nil || plain["a"]["num"] != 0.0 {
		t.Fatalf("plain = %#v, %v", plain, err)
	}
	tree, err := Reconstruct(raw(`[{"_placeholder":true,"num":0}]`), nil)
	if err != nil || !reflect.DeepEqual(tree, []any{map[string]any{"_placeholder": true, "num": 0.0}}) {
		t.Fatalf("Reconstruct without attachments = %#v, %v", tree, err)
	}
	for _, bad := range []string{
		`{"_placeholder":true,"num":2}`, `[{"_placeholder":true}]`, `{"a":{"_placeholder":true,"num":-1}}`, `{"_placeholder":true,"num":1.5}`,
	} {
		var v target
		if err := Unmarshal(raw(bad), atts, &v); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("Unmarshal(%s) = %v", bad, err)
		}
		if _, err := Reconstruct(raw(bad), atts); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("Reconstruct(%s) = %v", bad, err)
		}
	}
	var v target
	if err := Unmarshal(raw(`{"a":`), atts, &v); err == nil {
		t.Error("Unmarshal accepted invalid JSON")
	}
	if err := Unmarshal(raw(`{"a":"AQI="}`), atts, &v); err != nil || !bytes.Equal(v.A, []byte{1, 2}) {
		t.Errorf("Unmarshal without placeholders = %v", err)
	}
}

func TestScannerMatchesJSONValid(t *testing.T) {
	t.Parallel()
	inputs := []string{
		`1`, `-0.5e+3`, `"a\u00e9\n"`, `[1,[2,{"a":[]}]]`, ` {"a" : 1 , "b":[ true,false,null ]} `,
		`01`, `1.`, `.5`, `-`, `1e`, `"\u12"`, `"\q"`, `[1,]`, `{"a"}`, `{"a":1,}`, `{1:2}`, `nul`, `[`, `]`, ``,
		"\"\x7f\xff\"", strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	}
	for _, in := range inputs {
		end, err := skipValue([]byte(in), 0, 0)
		mine := err == nil && skipSpace([]byte(in), end) == len(in)
		if mine != json.Valid([]byte(in)) {
			t.Errorf("scanner(%.40q) = %v, json.Valid = %v", in, mine, !mine)
		}
		_, ferr := findPlaceholders([]byte(in), 1)
		if (ferr == nil) != mine {
			t.Errorf("findPlaceholders(%.40q) = %v", in, ferr)
		}
	}
}

func TestAppendArg(t *testing.T) {
	tests := []struct{ in, want string }{
		{`["ev"]`, `["ev","x1"]`},
		{`["ev",1,{"a":[2]}]`, `["ev",1,{"a":[2]},"x1"]`},
		{`[]`, `["x1"]`},
		{` [ "ev" ] `, `[ "ev" ,"x1"]`},
	}
	for _, tt := range tests {
		got, err := AppendArg(json.RawMessage(tt.in), "x1")
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendArg(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{``, `{}`, `"s"`, `[`} {
		if _, err := AppendArg(json.RawMessage(bad), "x"); err == nil {
			t.Errorf("AppendArg(%q) accepted a non-array", bad)
		}
	}
}
