package msgpack

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
)

// The Go client speaks msgpack too: events and acks with nested binary,
// over each transport, against our server configured with this parser.
func TestGoClient(t *testing.T) {
	for _, tr := range [][]string{{"websocket"}, {"polling"}, {"polling", "websocket"}} {
		t.Run(tr[len(tr)-1]+"-"+tr[0], func(t *testing.T) {
			url := newServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := client.Dial(ctx, url, &client.Options{Transports: tr, Parser: Parser{}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			type blob struct {
				Name string `json:"name"`
				Data []byte `json:"data"`
			}
			res, err := s.EmitWithAck(ctx, "echo-ack", "héllo", blob{"x", []byte{1, 2, 3}})
			if err != nil {
				t.Fatal(err)
			}
			var (
				txt string
				b   blob
			)
			if err := res.Bind(&txt, &b); err != nil || txt != "héllo" || b.Name != "x" || !bytes.Equal(b.Data, []byte{1, 2, 3}) {
				t.Fatalf("ack %q %+v (%v)", txt, b, err)
			}
			if err := s.Emit("echo", []byte{9, 8}); err != nil {
				t.Fatal(err)
			}
			ev, err := s.Receive(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			if err := ev.Bind(&got); ev.Name != "echo" || err != nil || !bytes.Equal(got, []byte{9, 8}) {
				t.Fatalf("event %s %v (%v)", ev.Name, got, err)
			}
		})
	}
}
