package adapter

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"
)

func TestHandshakeJSON(t *testing.T) {
	tests := []struct {
		name string
		hs   Handshake
		want string
	}{
		{
			name: "node shape",
			hs: Handshake{
				Headers: http.Header{"Host": {"localhost:3000"}, "Accept": {"a", "b"}, "Cookie": {"x=1", "y=2"}, "Set-Cookie": {"s=1"}},
				Time:    "Tue Dec 01 2026 22:00:00 GMT+0000 (Coordinated Universal Time)",
				Address: "127.0.0.1", XDomain: true, Issued: 1796162400000, URL: "/socket.io/?EIO=4",
				Query: url.Values{"EIO": {"4"}, "tag": {"a", "b"}, "empty": {""}},
				Auth:  map[string]any{"token": "t"},
			},
			want: `{"headers":{"accept":"a, b","cookie":"x=1; y=2","host":"localhost:3000","set-cookie":["s=1"]},` +
				`"time":"Tue Dec 01 2026 22:00:00 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1",` +
				`"xdomain":true,"secure":false,"issued":1796162400000,"url":"/socket.io/?EIO=4",` +
				`"query":{"EIO":"4","empty":"","tag":["a","b"]},"auth":{"token":"t"}}`,
		},
		{
			name: "empty",
			hs:   Handshake{},
			want: `{"headers":{},"time":"","address":"","xdomain":false,"secure":false,"issued":0,"url":"","query":{},"auth":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.hs)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
			var back Handshake
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(back)
			if string(again) != tt.want {
				t.Fatalf("round trip: %s", again)
			}
			if tt.hs.Headers != nil && back.Headers.Get("Host") != tt.hs.Headers.Get("Host") {
				t.Fatalf("canonical names lost: %v", back.Headers)
			}
			if !reflect.DeepEqual(back.Query["tag"], tt.hs.Query["tag"]) {
				t.Fatalf("query %v", back.Query)
			}
		})
	}
}

// A handshake encoded by Node (lower-case headers) reads with canonical
// names.
func TestHandshakeFromNode(t *testing.T) {
	var h Handshake
	err := json.Unmarshal([]byte(`{"headers":{"host":"h:1","user-agent":"node","set-cookie":["a","b"]},"query":{"EIO":"4"},"time":"x","issued":5}`), &h)
	if err != nil {
		t.Fatal(err)
	}
	if h.Headers.Get("User-Agent") != "node" || len(h.Headers.Values("Set-Cookie")) != 2 || h.Query.Get("EIO") != "4" || h.Issued != 5 || h.Auth == nil {
		t.Fatalf("%+v", h)
	}
	if err := json.Unmarshal([]byte(`{"headers":{"host":7}}`), &h); err == nil {
		t.Fatal("a number as a header value was accepted")
	}
}

func TestFormatTime(t *testing.T) {
	tm := time.Date(2026, 12, 1, 22, 0, 5, 0, time.UTC)
	if got, want := FormatTime(tm), "Tue Dec 01 2026 22:00:05 GMT+0000 (Coordinated Universal Time)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	cet := time.FixedZone("CET", 3600)
	if got, want := FormatTime(tm.In(cet)), "Tue Dec 01 2026 23:00:05 GMT+0100 (CET)"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
