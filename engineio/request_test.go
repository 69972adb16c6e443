package engineio

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// A session's request keeps its header and URI packed; the maps made on
// first use hold what the request had, Host included, multiple values in
// order, long values and all.
func TestRequestSnapshot(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target string
		header http.Header
	}{
		{"plain", "/socket.io/?EIO=4&transport=websocket", http.Header{"Origin": {"http://a"}}},
		{"multi", "/socket.io/?EIO=4&a=1&a=2&b=%C3%A9", http.Header{"X-Many": {"1", "2", ""}, "Cookie": {"a=b; c=d"}}},
		{"long", "/socket.io/?EIO=4", http.Header{"X-Long": {strings.Repeat("v", 70000)}, strings.Repeat("K", 300): {"x"}}},
		{"host sent", "/socket.io/", http.Header{"Host": {"other.test"}}},
		{"none", "/socket.io/", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			r.Host = "example.test:3000"
			r.Header = tc.header
			now := time.Now()
			req := snapshot(r, now, nil)
			if req.RequestURI() != tc.target || req.URL().RequestURI() != tc.target || req.Time != now {
				t.Fatalf("uri %q, url %q", req.RequestURI(), req.URL())
			}
			want := http.Header{}
			for k, vs := range tc.header {
				want[k] = vs
			}
			if len(want["Host"]) == 0 {
				want["Host"] = []string{r.Host}
			}
			got := req.Header()
			if len(got) != len(want) {
				t.Fatalf("header %v, want %v", got, want)
			}
			for k, vs := range want {
				if !slices.Equal(got[k], vs) {
					t.Fatalf("header %q = %q, want %q", k, got[k], vs)
				}
			}
			q := r.URL.Query()
			if len(req.Query()) != len(q) {
				t.Fatalf("query %v, want %v", req.Query(), q)
			}
			for k, vs := range q {
				if !slices.Equal(req.Query()[k], vs) {
					t.Fatalf("query %q = %q, want %q", k, req.Query()[k], vs)
				}
			}
		})
	}
	// A Request made by hand answers with empty values.
	var zero Request
	if zero.Header() == nil || zero.URL() == nil || zero.Query() == nil || zero.Context() == nil {
		t.Fatal("zero Request")
	}
}

// A truncated packed header yields what could be read, never a panic.
func FuzzUnpackHeader(f *testing.F) {
	f.Add(packHeader(http.Header{"A": {"b", "c"}}, "h"))
	f.Add("\x05ab")
	f.Fuzz(func(t *testing.T, p string) {
		_ = unpackHeader(p)
	})
}
