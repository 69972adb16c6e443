package socketio_test

import (
	"encoding/json"
	"strings"
	"testing"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
)

// rawSocket opens a WebSocket Engine.IO session and, unless nsp is "",
// connects it to the namespace; it returns the connection and the socket id.
func rawSocket(t *testing.T, url, nsp string) (*testutil.RawWS, string) {
	t.Helper()
	c, _, err := testutil.DialWS(t, url, "/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Next(); !strings.HasPrefix(m.Data, "0{") {
		t.Fatalf("open packet %q", m.Data)
	}
	if nsp == "" {
		return c, ""
	}
	prefix := ""
	if nsp != "/" {
		prefix = nsp + ","
	}
	c.Send("40" + prefix)
	m := c.Next()
	if !strings.HasPrefix(m.Data, "40"+prefix+"{") {
		t.Fatalf("connect reply %q", m.Data)
	}
	var reply struct{ SID string }
	_ = json.Unmarshal([]byte(m.Data[2+len(prefix):]), &reply)
	return c, reply.SID
}

// TestMalformedPackets sends one bad Socket.IO packet per case: the
// connection is closed, the socket's disconnect reason is "parse error", and
// a healthy client on the same server keeps working.
func TestMalformedPackets(t *testing.T) {
	_, url, rec := newTestServer(t, socketio.Config{})
	healthy, _ := rawSocket(t, url, "/")
	check := func(t *testing.T) {
		t.Helper()
		healthy.Send(`42["echo","still here"]`)
		healthy.Expect(`42["echo","still here"]`)
	}

	cases := []struct {
		name   string
		frames []string // "bin:" prefix sends a binary frame
	}{
		{"not a socket.io packet", []string{"4abc"}},
		{"empty socket.io packet", []string{"4"}},
		{"unknown packet type", []string{"47"}},
		{"event payload is an object", []string{"42{}"}},
		{"event with letters for an id", []string{`42abc["echo",1]`}},
		{"event with an empty array", []string{"42[]"}},
		{"event with bad JSON", []string{`42["echo",1`}},
		{"event without payload", []string{"42"}},
		{"reserved name connect", []string{`42["connect"]`}},
		{"reserved name disconnect", []string{`42["disconnect"]`}},
		{"reserved name disconnecting", []string{`42["disconnecting"]`}},
		{"reserved name newListener", []string{`42["newListener"]`}},
		{"reserved name removeListener", []string{`42["removeListener"]`}},
		{"object as event name", []string{`42[{"a":1},2]`}},
		{"boolean as event name", []string{`42[true]`}},
		{"null as event name", []string{`42[null]`}},
		{"huge ack id", []string{`4299999999999999999999["echo"]`}},
		{"ack without id", []string{`43["x"]`}},
		{"ack with an object payload", []string{`431{}`}},
		{"connect_error from a client", []string{`44{"message":"x"}`}},
		{"zero attachments", []string{`450-["echo",{"_placeholder":true,"num":0}]`}},
		{"attachments over the limit", []string{`4511-["echo",{"_placeholder":true,"num":0}]`}},
		{"attachment count not a number", []string{`45x-["echo"]`}},
		{"attachment count without dash", []string{`451["echo",{"_placeholder":true,"num":0}]`}},
		{"text while an attachment is expected", []string{`451-["echo",{"_placeholder":true,"num":0}]`, `42["echo"]`}},
		{"binary without a binary packet", []string{"bin:\x01\x02"}},
		{"placeholder out of range", []string{`451-["echo",{"_placeholder":true,"num":3}]`, "bin:\x01"}},
		{"event for a namespace not joined", []string{`42/admin,["echo"]`}},
		{"second connect to a namespace", []string{"40"}},
		{"disconnect for a namespace not joined", []string{"41/admin,"}},
		{"connect with an array payload", []string{"40/admin,[1]"}},
		{"connect with a string payload", []string{`40/admin,"token"`}},
		{"namespace without slash", []string{`42admin,["echo"]`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, id := rawSocket(t, url, "/")
			for _, f := range tc.frames {
				if b, ok := strings.CutPrefix(f, "bin:"); ok {
					c.SendBinary([]byte(b))
				} else {
					c.Send(f)
				}
			}
			if r := rec.reason(t, id); r != engineio.ReasonParseError {
				t.Fatalf("disconnect reason %q, want %q", r, engineio.ReasonParseError)
			}
			c.WaitClosed()
			check(t)
		})
	}

	t.Run("event before connect", func(t *testing.T) {
		c, _ := rawSocket(t, url, "")
		c.Send(`42["echo",1]`)
		c.WaitClosed()
		check(t)
	})
}
