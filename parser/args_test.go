package parser

import (
	"encoding/json"
	"testing"
)

func TestArgs(t *testing.T) {
	p, err := NewEvent("/", "ev", "s", 2, map[string]any{"b": []byte{1, 2}})
	if err != nil {
		t.Fatal(err)
	}
	_, raw, err := DecodeEvent(p)
	if err != nil {
		t.Fatal(err)
	}
	a := NewArgs(raw, p.Attachments)
	var s string
	var n int
	var obj struct{ B []byte }
	missing := "unchanged"
	if err := a.Bind(&s, &n, &obj, &missing); err != nil {
		t.Fatal(err)
	}
	if a.Len() != 3 || s != "s" || n != 2 || string(obj.B) != "\x01\x02" || missing != "unchanged" {
		t.Fatalf("bound %q %d %v %q", s, n, obj.B, missing)
	}
	if err := a.Decode(0, &n); err == nil {
		t.Fatal("a string decoded into an int")
	}
	vals, err := a.Values()
	if err != nil || len(vals) != 3 || string(vals[2].(map[string]any)["b"].([]byte)) != "\x01\x02" {
		t.Fatalf("values %v %v", vals, err)
	}
	if a.Raw(5) != nil || string(a.Raw(1)) != "2" || len(a.Attachments()) != 1 {
		t.Fatal("Raw/Attachments")
	}
	if NewArgs([]json.RawMessage{}, nil).Len() != 0 {
		t.Fatal("empty")
	}
}
