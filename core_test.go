package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/internal/testutil"
	"github.com/gosio/socketio/parser"
)

// countingParser counts the events it encodes.
type countingParser struct {
	parser.JSONParser
	events atomic.Int64
}

func (c *countingParser) Encode(p *parser.Packet) ([]parser.Message, error) {
	if p.Type == parser.Event || p.Type == parser.BinaryEvent {
		c.events.Add(1)
	}
	return c.JSONParser.Encode(p)
}

// A broadcast encodes its packet once, and every recipient gets the same
// bytes, binary attachments included.
func TestBroadcastEncodesOnce(t *testing.T) {
	cp := &countingParser{}
	io, url, _ := newTestServer(t, socketio.Config{Parser: cp})
	var raws []*testutil.RawWS
	for range 20 {
		c, _ := rawSocket(t, url, "/")
		raws = append(raws, c)
	}
	before := cp.events.Load()
	if err := io.Emit("news", "hello", map[string]any{"blob": []byte{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range raws {
		c.Expect(`451-["news","hello",{"blob":{"_placeholder":true,"num":0}}]`)
		if m := c.Next(); !m.Binary || m.Data != "\x01\x02\x03" {
			t.Fatalf("attachment %+v", m)
		}
	}
	if n := cp.events.Load() - before; n != 1 {
		t.Fatalf("broadcast to 20 sockets encoded %d times, want 1", n)
	}
}

// pollingSocket opens a polling session connected to "/" and returns its
// sid; it does not poll afterwards unless asked.
func pollingSocket(t *testing.T, url string) (sid string, get func() string) {
	t.Helper()
	do := func(method, q, body string) string {
		req, _ := http.NewRequest(method, url+"/socket.io/?EIO=4&transport=polling"+q, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	open := do("GET", "", "")
	sid = open[strings.Index(open, `"sid":"`)+7:][:20]
	q := "&sid=" + sid
	if r := do("POST", q, "40"); r != "ok" {
		t.Fatalf("connect POST %q", r)
	}
	if r := do("GET", q, ""); !strings.HasPrefix(r, "40{") {
		t.Fatalf("connect reply %q", r)
	}
	return sid, func() string { return do("GET", q, "") }
}

// One recipient that takes nothing is disconnected when its queue is full;
// the broadcast reaches every other recipient in full and never waits.
func TestSlowRecipientDoesNotBlockBroadcast(t *testing.T) {
	io, url, rec := newTestServer(t, socketio.Config{Engine: engineio.Config{MaxBufferedBytes: 64 << 10}})
	slowSid, _ := pollingSocket(t, url)
	var slowID string
	for _, s := range io.MainNamespace().Sockets() {
		if s.Conn().ID() == slowSid {
			slowID = s.ID()
		}
	}
	var fast []*testutil.RawWS
	for range 3 {
		c, _ := rawSocket(t, url, "/")
		fast = append(fast, c)
	}
	payload := strings.Repeat("p", 1000)
	const n = 300 // 300 KB in all: well over the slow client's 64 KiB
	// The fast clients read while the broadcast runs.
	var wg sync.WaitGroup
	errs := make(chan error, len(fast))
	for _, c := range fast {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n {
				m := c.Next()
				if !strings.HasPrefix(m.Data, `42["tick",`+strconv.Itoa(i)+`,`) {
					errs <- fmt.Errorf("fast client got %.30q, want tick %d", m.Data, i)
					return
				}
			}
		}()
	}
	start := time.Now()
	for i := range n {
		_ = io.Emit("tick", i, payload)
		if i%10 == 9 {
			time.Sleep(time.Millisecond) // a steady stream, not one burst
		}
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("broadcasting took %v: something waited for the slow client", el)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if r := rec.reason(t, slowID); r != engineio.ReasonTransportError {
		t.Fatalf("slow client reason %q", r)
	}
}

// A volatile emit is dropped while the transport cannot send at once (no
// poll waiting), and sent when it can.
func TestVolatileDropsWhenBusy(t *testing.T) {
	io, url, _ := newTestServer(t, socketio.Config{})
	sid, get := pollingSocket(t, url)
	var s *socketio.Socket
	for _, x := range io.MainNamespace().Sockets() {
		if x.Conn().ID() == sid {
			s = x
		}
	}
	if err := s.Volatile().Emit("v", 1); err != nil { // no GET held: dropped
		t.Fatal(err)
	}
	_ = s.Emit("marker")
	if got := get(); got != `42["marker"]` {
		t.Fatalf("poll = %q, want only the marker", got)
	}
	res := make(chan string, 1)
	go func() { res <- get() }()
	deadline := time.Now().Add(5 * time.Second)
	for !s.Conn().Writable() {
		if time.Now().After(deadline) {
			t.Fatal("poll never held")
		}
		time.Sleep(2 * time.Millisecond)
	}
	_ = s.Volatile().Emit("v", 2)
	if got := <-res; got != `42["v",2]` {
		t.Fatalf("poll = %q", got)
	}
}

func TestTypedHandlerErrorsAndPacketMiddleware(t *testing.T) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 8)
	got := make(chan int, 8)
	io.OnConnection(func(s *socketio.Socket) {
		s.Use(func(e *socketio.Event) error {
			if e.Name == "forbidden" {
				return errors.New("forbidden event")
			}
			return nil
		})
		s.OnError(func(err error) { errs <- err.Error() })
		socketio.On(s, "num", func(n int) { got <- n })
		s.Once("once", func(*socketio.Event) { got <- -1 })
		s.On("gone", func(*socketio.Event) { got <- -2 })
		s.Off("gone")
	})
	url := serve(t, io)
	c, _ := rawSocket(t, url, "/")
	c.Send(`42["num","not a number"]`)
	if e := <-errs; !strings.Contains(e, `event "num"`) {
		t.Fatalf("error %q", e)
	}
	c.Send(`42["forbidden"]`)
	if e := <-errs; e != "forbidden event" {
		t.Fatalf("error %q", e)
	}
	c.Send(`42["once"]`)
	c.Send(`42["once"]`)
	c.Send(`42["gone"]`)
	c.Send(`42["num",5]`)
	if n := <-got; n != -1 {
		t.Fatalf("got %d, want the once handler", n)
	}
	if n := <-got; n != 5 {
		t.Fatalf("got %d: the once handler ran twice or Off did not remove", n)
	}
}

func serve(t *testing.T, io *socketio.Server) string {
	t.Helper()
	hs := httptest.NewServer(io)
	t.Cleanup(func() { hs.Close(); _ = io.Close() })
	return hs.URL
}

// Emits from many goroutines to one socket are all delivered, each packet
// whole.
func TestConcurrentEmits(t *testing.T) {
	io, url, _ := newTestServer(t, socketio.Config{})
	c, id := rawSocket(t, url, "/")
	s := io.MainNamespace().Socket(id)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				_ = s.Emit("c", g, i, []byte{byte(g), byte(i)})
			}
		}()
	}
	wg.Wait()
	for range 400 {
		m := c.Next()
		if !strings.HasPrefix(m.Data, `451-["c",`) {
			t.Fatalf("got %q", m.Data)
		}
		if b := c.Next(); !b.Binary || len(b.Data) != 2 {
			t.Fatalf("attachment %+v", b)
		}
	}
}

// EmitWithAck from a handler, answered by the client, does not deadlock;
// a context deadline ends the wait.
func TestEmitWithAckFromHandler(t *testing.T) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan string, 2)
	io.OnConnection(func(s *socketio.Socket) {
		s.On("go", func(e *socketio.Event) {
			ctx, cancel := context.WithTimeout(s.Context(), 2*time.Second)
			defer cancel()
			res, err := s.EmitWithAck(ctx, "q", "x")
			if err != nil {
				results <- err.Error()
				return
			}
			var v string
			_ = res.Bind(&v)
			results <- v
		})
	})
	url := serve(t, io)
	c, _ := rawSocket(t, url, "/")
	c.Send(`42["go"]`)
	m := c.Next() // 420["q","x"]
	id, _, _ := strings.Cut(strings.TrimPrefix(m.Data, "42"), "[")
	c.Send(`43` + id + `["answer"]`)
	if r := <-results; r != "answer" {
		t.Fatalf("result %q", r)
	}
	if _, err := io.MainNamespace().Sockets()[0].EmitWithAck(context.Background(), "connect"); !errors.Is(err, socketio.ErrReservedEvent) {
		t.Fatalf("reserved event: %v", err)
	}
}

// OnDisconnecting runs while the socket is still in its rooms;
// OnDisconnect after it has left them. DisconnectSockets(true) sends every
// socket a DISCONNECT and closes the connections.
func TestDisconnectingSeesRooms(t *testing.T) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		phase, reason string
		rooms         []string
	}
	got := make(chan seen, 8)
	io.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		s.OnDisconnecting(func(reason string) { got <- seen{"disconnecting", reason, s.Rooms().Slice()} })
		s.OnDisconnect(func(reason string) { got <- seen{"disconnect", reason, s.Rooms().Slice()} })
	})
	url := serve(t, io)
	a, idA := rawSocket(t, url, "/")
	b, _ := rawSocket(t, url, "/")
	if n := len(io.To("lobby").SocketIDs()); n != 2 {
		t.Fatalf("%d sockets in the lobby", n)
	}
	if err := io.DisconnectSockets(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testutil.RawWS{a, b} {
		c.Expect("41")
		c.WaitClosed()
	}
	var phases []seen
	for range 4 {
		select {
		case s := <-got:
			phases = append(phases, s)
		case <-time.After(5 * time.Second):
			t.Fatalf("handlers ran: %+v", phases)
		}
	}
	for _, p := range phases {
		if p.reason != socketio.ReasonServerNamespaceDisconnect {
			t.Fatalf("reason %q", p.reason)
		}
		if p.phase == "disconnecting" && !slices.Contains(p.rooms, "lobby") {
			t.Fatalf("disconnecting without its rooms: %v", p.rooms)
		}
		if p.phase == "disconnect" && len(p.rooms) != 0 {
			t.Fatalf("disconnect still in rooms %v", p.rooms)
		}
	}
	if io.MainNamespace().Socket(idA) != nil || len(io.To("lobby").SocketIDs()) != 0 {
		t.Fatal("disconnected sockets still registered")
	}
}
