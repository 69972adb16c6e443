package socketio

import (
	"bytes"
	"testing"
)

// validUTF8 replaces ill-formed sequences as Node's UTF-8 decoder does
// (expected values printed by Node 20's Buffer.toString("utf8")).
func TestValidUTF8LikeNode(t *testing.T) {
	const r = "\uFFFD"
	for _, tc := range []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"日本語 — ß €", "日本語 — ß €"},
		{"\xff\xfe hi", r + r + " hi"},
		{"\xe2\x82", r},
		{"\xe2\x82X", r + "X"},
		{"\xe0\x80\x80", r + r + r},
		{"\xed\xa0\x80", r + r + r}, // a surrogate
		{"\xf0\x90\x80", r},
		{"\xf4\x90\x80\x80", r + r + r + r}, // over U+10FFFF
		{"\xc0\xaf", r + r},                 // overlong
		{"a\x80b", "a" + r + "b"},
		{"\xf0\x9f\x98", r},
		{"\xc3", r},
		{"\xf5\x80", r + r},
		{`42["relay","` + "\xff\xfe" + ` hi"]`, `42["relay","` + r + r + ` hi"]`},
	} {
		if got := validUTF8([]byte(tc.in)); !bytes.Equal(got, []byte(tc.want)) {
			t.Errorf("validUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
