package nats

import (
	"strings"
	"testing"
)

func TestToken(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "_2F"},
		{"/chat", "_2Fchat"},
		{"", "_"},
		{"/a.b*c>d e", "_2Fa_2Eb_2Ac_3Ed_20e"},
		{"/x_y", "_2Fx_5Fy"},
		{"/é", "_2F_C3_A9"},
		{"/Room-1", "_2FRoom-1"},
	} {
		got := Token(tc.in)
		if got != tc.want {
			t.Errorf("Token(%q) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := ParseToken(got)
		if err != nil || back != tc.in {
			t.Errorf("ParseToken(%q) = %q, %v; want %q", got, back, err, tc.in)
		}
	}
}

func TestParseTokenErrors(t *testing.T) {
	for _, bad := range []string{"_2", "a_", "_zz", "_2g", "x_4"} {
		if s, err := ParseToken(bad); err == nil {
			t.Errorf("ParseToken(%q) = %q, want an error", bad, s)
		}
	}
}

func FuzzToken(f *testing.F) {
	for _, s := range []string{"/", "/chat", "", "/a.b", "_", "/\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := Token(s)
		if tok == "" || strings.ContainsAny(tok, ". *>\t\r\n") {
			t.Fatalf("Token(%q) = %q: not one subject token", s, tok)
		}
		back, err := ParseToken(tok)
		if err != nil || back != s {
			t.Fatalf("ParseToken(Token(%q)) = %q, %v", s, back, err)
		}
		_, _ = ParseToken(s) // never panics
	})
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		o  Options
		ok bool
	}{
		{Options{}, true},
		{Options{Prefix: "app.sio"}, true},
		{Options{Prefix: "a..b"}, false},
		{Options{Prefix: "a.*"}, false},
		{Options{Prefix: "a b"}, false},
		{Options{Prefix: "a.>"}, false},
		{Options{JetStream: true}, true},
		{Options{JetStream: true, Stream: "a.b"}, false},
		{Options{JetStream: true, SessionBucket: "x/y"}, false},
	} {
		err := tc.o.withDefaults().validate()
		if (err == nil) != tc.ok {
			t.Errorf("%+v: validate() = %v, want ok=%v", tc.o, err, tc.ok)
		}
	}
	if got := (Options{}).withDefaults().Stream; got != "socket_io" {
		t.Errorf("default stream %q", got)
	}
}
