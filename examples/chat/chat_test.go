package main

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/client"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startChat starts the chat server on a free 127.0.0.1 port; it stops with
// the test.
func startChat(t *testing.T) (url string, c *chat) {
	t.Helper()
	io, c, err := newServer()
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(newHandler(io, t.TempDir()))
	t.Cleanup(func() {
		hs.Close()
		if err := io.Close(); err != nil {
			t.Error(err)
		}
	})
	return hs.URL, c
}

// dial connects a Go client with the given auth payload (over WebSocket,
// without reconnection unless reconnect is set).
func dial(t *testing.T, url string, auth any, reconnect bool) (*client.Socket, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, url, &client.Options{
		Transports:        []string{"websocket"},
		NoReconnection:    !reconnect,
		ReconnectionDelay: 100 * time.Millisecond,
		Socket:            client.SocketOptions{Auth: auth},
	})
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

// enter connects a client named nick.
func enter(t *testing.T, url, nick string) *client.Socket {
	t.Helper()
	s, err := dial(t, url, map[string]any{"nick": nick}, false)
	if err != nil {
		t.Fatalf("%s: %v", nick, err)
	}
	return s
}

// next returns the next event called name that s received (skipping
// others), failing the test after 5 s.
func next(t *testing.T, s *client.Socket, name string) *client.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		e, err := s.Receive(ctx)
		if err != nil {
			t.Fatalf("waiting for %q: %v", name, err)
		}
		if e.Name == name {
			return e
		}
	}
}

// nextPresence returns the next presence event of s.
func nextPresence(t *testing.T, s *client.Socket) presence {
	t.Helper()
	var p presence
	if err := next(t, s, "presence").Bind(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// call emits event with args and decodes the ack into reply; it returns
// the ack's "error" field ("" when there is none).
func call(t *testing.T, s *client.Socket, reply any, event string, args ...any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ack, err := s.EmitWithAck(ctx, event, args...)
	if err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	var e errorReply
	if err := ack.Bind(&e); err != nil {
		t.Fatalf("%s: ack %v", event, err)
	}
	if e.Error == "" && reply != nil {
		if err := ack.Bind(reply); err != nil {
			t.Fatalf("%s: ack %v", event, err)
		}
	}
	return e.Error
}

func TestNickname(t *testing.T) {
	url, _ := startChat(t)
	for _, tc := range []struct {
		name string
		auth any
		want string // the connect error, "" for none
	}{
		{"no auth", nil, "choose a nickname"},
		{"blank", map[string]any{"nick": "  \t "}, "choose a nickname"},
		{"too long", map[string]any{"nick": strings.Repeat("ñ", 25)}, "a nickname has 24 characters at most"},
		{"control", map[string]any{"nick": "Ana\x07"}, "a nickname cannot hold control characters"},
		{"not a string", map[string]any{"nick": 42}, `the auth payload must be an object like {"nick": "Ana"}`},
		{"24 characters", map[string]any{"nick": strings.Repeat("ñ", 24)}, ""},
		{"spaces folded", map[string]any{"nick": "  Ana   María "}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := dial(t, url, tc.auth, false)
			var ce *client.ConnectError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && !errors.As(err, &ce):
				t.Fatalf("got %v, want the connect error %q", err, tc.want)
			case tc.want != "" && ce.Message != tc.want:
				t.Fatalf("connect error %q, want %q", ce.Message, tc.want)
			case tc.want == "":
				var r joinReply
				if e := call(t, s, &r, "join", "general"); e != "" {
					t.Fatal(e)
				}
				want := strings.Join(strings.Fields(tc.auth.(map[string]any)["nick"].(string)), " ")
				if !slices.Equal(r.Members, []string{want}) {
					t.Fatalf("members %q, want [%q]", r.Members, want)
				}
				s.Disconnect()
			}
		})
	}
}

func TestRooms(t *testing.T) {
	url, c := startChat(t)
	c.mu.Lock()
	c.maxRooms = 3 // the two default rooms and one more
	c.mu.Unlock()

	ana := enter(t, url, "Ana")
	var list roomList
	if err := next(t, ana, "rooms").Bind(&list); err != nil {
		t.Fatal(err)
	}
	if want := (roomList{Online: 1, Rooms: []roomInfo{{"general", 0}, {"random", 0}}}); fmt.Sprint(list) != fmt.Sprint(want) {
		t.Fatalf("rooms %v, want %v", list, want)
	}

	for _, tc := range []struct {
		arg  any
		want string
	}{
		{"", "name the room"},
		{"   ", "name the room"},
		{"a/b", "a room name holds letters, digits, - and _ only"},
		{"<script>", "a room name holds letters, digits, - and _ only"},
		{strings.Repeat("x", 33), "a room name has 32 characters at most"},
		{42, "join takes a room name"},
		{map[string]any{"room": "general"}, "join takes a room name"},
	} {
		if got := call(t, ana, nil, "join", tc.arg); got != tc.want {
			t.Errorf("join %v: %q, want %q", tc.arg, got, tc.want)
		}
	}
	if got := call(t, ana, nil, "join"); got != "name the room" {
		t.Errorf("join without a name: %q", got)
	}

	// A new room, in its canonical name, listed with its count.
	var r joinReply
	if e := call(t, ana, &r, "join", "  Go  Lang "); e != "" {
		t.Fatal(e)
	}
	if r.Room != "go-lang" || !slices.Equal(r.Members, []string{"Ana"}) || r.History == nil || len(r.History) != 0 {
		t.Fatalf("join reply %+v", r)
	}
	if err := next(t, ana, "rooms").Bind(&list); err != nil {
		t.Fatal(err)
	}
	if want := (roomList{Online: 1, Rooms: []roomInfo{{"general", 0}, {"random", 0}, {"go-lang", 1}}}); fmt.Sprint(list) != fmt.Sprint(want) {
		t.Fatalf("rooms %v, want %v", list, want)
	}

	// No fourth room; the existing ones can still be joined.
	ben := enter(t, url, "Ben")
	if got := call(t, ben, nil, "join", "other"); got != "there are 3 rooms already: join one of them" {
		t.Fatalf("a room past the limit: %q", got)
	}
	if e := call(t, ben, &r, "join", "go-lang"); e != "" {
		t.Fatal(e)
	}
	if p := nextPresence(t, ana); p.Kind != presenceJoined || p.Nick != "Ben" || p.Room != "go-lang" || !slices.Equal(p.Members, []string{"Ana", "Ben"}) {
		t.Fatalf("presence %+v", p)
	}

	// Joining another room leaves the current one.
	if e := call(t, ben, &r, "join", "random"); e != "" {
		t.Fatal(e)
	}
	if p := nextPresence(t, ana); p.Kind != presenceLeft || p.Nick != "Ben" || !slices.Equal(p.Members, []string{"Ana"}) {
		t.Fatalf("presence %+v", p)
	}

	// The last member leaving removes a room that is not a default one.
	if e := call(t, ana, nil, "leave"); e != "" {
		t.Fatal(e)
	}
	if e := call(t, ben, nil, "leave"); e != "" {
		t.Fatal(e)
	}
	for {
		if err := next(t, ana, "rooms").Bind(&list); err != nil {
			t.Fatal(err)
		}
		if want := (roomList{Online: 2, Rooms: []roomInfo{{"general", 0}, {"random", 0}}}); fmt.Sprint(list) == fmt.Sprint(want) {
			break
		}
	}
	if e := call(t, ben, nil, "join", "other"); e != "" {
		t.Fatalf("a room once there is space again: %q", e)
	}
}

func TestMessages(t *testing.T) {
	url, _ := startChat(t)
	ana := enter(t, url, "Ana")
	ben := enter(t, url, "Ben")

	if got := call(t, ana, nil, "message", map[string]any{"cid": "c0", "text": "hi"}); got != "join a room first" {
		t.Fatalf("a message outside a room: %q", got)
	}
	for _, s := range []*client.Socket{ana, ben} {
		if e := call(t, s, nil, "join", "general"); e != "" {
			t.Fatal(e)
		}
	}
	for _, tc := range []struct {
		arg  any
		want string
	}{
		{map[string]any{"cid": "c1", "text": "   "}, "the message is empty"},
		{map[string]any{"cid": "c1", "text": strings.Repeat("é", 1001)}, "a message has 1000 characters at most"},
		{map[string]any{"text": "hi"}, "a message needs a cid of 1 to 64 bytes"},
		{map[string]any{"cid": strings.Repeat("c", 65), "text": "hi"}, "a message needs a cid of 1 to 64 bytes"},
		{"hi", `message takes {"cid": "...", "text": "..."}`},
		{map[string]any{"cid": 1, "text": "hi"}, `message takes {"cid": "...", "text": "..."}`},
	} {
		if got := call(t, ana, nil, "message", tc.arg); got != tc.want {
			t.Errorf("message %v: %q, want %q", tc.arg, got, tc.want)
		}
	}

	var first, again postReply
	if e := call(t, ana, &first, "message", map[string]any{"cid": "c1", "text": "  hola  "}); e != "" {
		t.Fatal(e)
	}
	var m Message
	if err := next(t, ben, "message").Bind(&m); err != nil {
		t.Fatal(err)
	}
	if m.ID != first.ID || m.CID != "c1" || m.From != "Ana" || m.Text != "hola" || m.Room != "general" || m.TS != first.TS {
		t.Fatalf("message %+v, ack %+v", m, first)
	}
	// Sent again (a lost ack): the same answer, and Ben does not get it twice.
	if e := call(t, ana, &again, "message", map[string]any{"cid": "c1", "text": "hola"}); e != "" || again != first {
		t.Fatalf("resent: %+v %q, want %+v", again, e, first)
	}
	// Ben's own cid c1 is his: a message of its own.
	var bens postReply
	if e := call(t, ben, &bens, "message", map[string]any{"cid": "c1", "text": "qué tal"}); e != "" || bens.ID == first.ID {
		t.Fatalf("Ben's c1: %+v %q", bens, e)
	}
	if e := call(t, ana, nil, "message", map[string]any{"cid": "c2", "text": "bien"}); e != "" {
		t.Fatal(e)
	}
	if err := next(t, ben, "message").Bind(&m); err != nil || m.CID != "c2" {
		t.Fatalf("Ben's next message %+v (%v), want c2", m, err)
	}

	// The history keeps the last historySize messages, oldest first.
	for i := range historySize + 5 {
		if e := call(t, ana, nil, "message", map[string]any{"cid": fmt.Sprint("h", i), "text": fmt.Sprint("n", i)}); e != "" {
			t.Fatal(e)
		}
	}
	cy := enter(t, url, "Cy")
	var r joinReply
	if e := call(t, cy, &r, "join", "general"); e != "" {
		t.Fatal(e)
	}
	if len(r.History) != historySize || r.History[0].Text != "n5" || r.History[historySize-1].Text != fmt.Sprint("n", historySize+4) {
		t.Fatalf("history of %d, from %+v", len(r.History), r.History[0])
	}
	if !slices.Equal(r.Members, []string{"Ana", "Ben", "Cy"}) {
		t.Fatalf("members %v", r.Members)
	}
}

func TestTyping(t *testing.T) {
	url, _ := startChat(t)
	ana := enter(t, url, "Ana")
	ben := enter(t, url, "Ben")
	for _, s := range []*client.Socket{ana, ben} {
		if e := call(t, s, nil, "join", "general"); e != "" {
			t.Fatal(e)
		}
	}
	// Not a boolean: ignored.
	if err := ana.Emit("typing", map[string]any{"typing": true}); err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{true, false} {
		if err := ana.Emit("typing", on); err != nil {
			t.Fatal(err)
		}
		var ty typing
		if err := next(t, ben, "typing").Bind(&ty); err != nil {
			t.Fatal(err)
		}
		if ty != (typing{Room: "general", Nick: "Ana", ID: ana.ID(), Typing: on}) {
			t.Fatalf("typing %+v, want %v", ty, on)
		}
	}
}

// A client that closes its page leaves its room; one that loses its
// connection is "offline", and "back" when its session is recovered, with
// the messages sent meanwhile.
func TestPresenceAndRecovery(t *testing.T) {
	url, _ := startChat(t)
	px := newCutProxy(t, strings.TrimPrefix(url, "http://"))
	defer px.Close()
	ana := enter(t, url, "Ana")
	ben, err := dial(t, "http://"+px.Addr(), map[string]any{"nick": "Ben"}, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*client.Socket{ana, ben} {
		if e := call(t, s, nil, "join", "general"); e != "" {
			t.Fatal(e)
		}
	}
	nextPresence(t, ana) // Ben joined
	benID := ben.ID()

	px.block()
	if p := nextPresence(t, ana); p.Kind != presenceOffline || p.Nick != "Ben" || p.ID != benID || !slices.Equal(p.Members, []string{"Ana"}) {
		t.Fatalf("presence %+v", p)
	}
	var sent postReply
	if e := call(t, ana, &sent, "message", map[string]any{"cid": "a1", "text": "¿sigues ahí?"}); e != "" {
		t.Fatal(e)
	}
	px.unblock()
	if p := nextPresence(t, ana); p.Kind != presenceBack || p.ID != benID || !slices.Equal(p.Members, []string{"Ana", "Ben"}) {
		t.Fatalf("presence %+v", p)
	}
	var m Message
	if err := next(t, ben, "message").Bind(&m); err != nil || m.ID != sent.ID {
		t.Fatalf("Ben's missed message %+v (%v), want %s", m, err, sent.ID)
	}
	if !ben.Recovered() || ben.ID() != benID {
		t.Fatalf("recovered %v, id %s (was %s)", ben.Recovered(), ben.ID(), benID)
	}
	// Still in the room: his messages reach Ana.
	if e := call(t, ben, nil, "message", map[string]any{"cid": "b1", "text": "sí"}); e != "" {
		t.Fatal(e)
	}
	if err := next(t, ana, "message").Bind(&m); err != nil || m.Text != "sí" {
		t.Fatalf("Ana got %+v (%v)", m, err)
	}

	ben.Disconnect()
	if p := nextPresence(t, ana); p.Kind != presenceLeft || p.Nick != "Ben" || !slices.Equal(p.Members, []string{"Ana"}) {
		t.Fatalf("presence %+v", p)
	}
}
