package reliability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
)

const (
	hostileDuration = 6 * time.Second
	hostileMaxBody  = 100_000
	honestP99Bound  = 2 * time.Second
)

// hostileStats counts what the hostile clients did and how the server
// answered; errs holds what went against the expectations.
type hostileStats struct {
	oversizeWS, oversizePoll, garbage, binary, floodConns, floodPackets, handshakes atomic.Int64
	mu                                                                              sync.Mutex
	errs                                                                            []string
}

func (h *hostileStats) fail(format string, args ...any) {
	h.mu.Lock()
	if len(h.errs) < 20 {
		h.errs = append(h.errs, fmt.Sprintf(format, args...))
	}
	h.mu.Unlock()
}

// connectRaw dials a lean WebSocket client and connects it to the main
// namespace, returning its socket id.
func connectRaw(url string, tune func(*net.TCPConn)) (*rawWS, string, error) {
	c, err := dialRaw(url, tune)
	if err != nil {
		return nil, "", err
	}
	if err := c.send("40"); err != nil {
		c.close()
		return nil, "", err
	}
	m, err := c.expectPrefix("40{", 10*time.Second)
	if err != nil {
		c.close()
		return nil, "", err
	}
	var reply struct{ SID string }
	_ = json.Unmarshal([]byte(m[2:]), &reply)
	return c, reply.SID, nil
}

// Honest clients (the Go client over WebSocket, polling, and polling
// upgraded to WebSocket) keep getting their echo acknowledged, with a
// bounded latency and without being disconnected, while hostile clients
// beside them send oversize payloads on both transports, garbage packets,
// binary packets whose attachments never come, floods of events and of
// handshakes, and slow readers never read a busy room's broadcasts. Each
// hostile behaviour must also get the server's answer: a closed
// connection, 413, "parse error", "transport error".
func TestHostileBesideHonest(t *testing.T) {
	lc := newLifecycle()
	srv, url := startServer(t, socketio.Config{
		Engine:              engineio.Config{MaxPayload: hostileMaxBody, MaxBufferedBytes: 256 << 10},
		BinaryPacketTimeout: time.Second,
		ConnectTimeout:      2 * time.Second,
	}, func(s *socketio.Socket) {
		lc.watch(s)
		s.On("echo", func(e *socketio.Event) {
			vals, _ := e.Args().Values()
			_ = e.Ack(vals...)
		})
		socketio.On(s, "join", func(room string) { s.Join(room) })
		s.On("noop", func(*socketio.Event) {})
	})

	stop := make(chan struct{})
	stopped := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	var h hostileStats
	var wg, hwg sync.WaitGroup // hostile, honest
	var haltOnce sync.Once
	halt := func() {
		haltOnce.Do(func() { close(stop) })
		hwg.Wait()
		wg.Wait()
	}
	defer halt() // also when the test fails early
	hostile := func(n int, fn func()) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stopped() {
					fn()
				}
			}()
		}
	}

	// A room with a steady stream of broadcasts that only slow readers join.
	wg.Add(1)
	go func() {
		defer wg.Done()
		chunk := strings.Repeat("f", 32<<10)
		for !stopped() {
			_ = srv.To("feed").Emit("feed", chunk)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	const slowReaders = 3
	var slowIDs []string
	for range slowReaders {
		c, id, err := connectRaw(url, func(c *net.TCPConn) { _ = c.SetReadBuffer(4096) })
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		if err := c.send(`42["join","feed"]`); err != nil {
			t.Fatal(err)
		}
		slowIDs = append(slowIDs, id) // and never read again
	}

	big := `42["echo","` + strings.Repeat("x", 2*hostileMaxBody) + `"]`
	hostile(1, func() { // oversize over WebSocket: the connection is closed
		c, _, err := connectRaw(url, nil)
		if err != nil {
			h.fail("oversize ws dial: %v", err)
			return
		}
		defer c.close()
		_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_ = c.send(big)
		if !c.waitClosed(5 * time.Second) {
			h.fail("a WebSocket message over MaxPayload did not close the connection")
			return
		}
		h.oversizeWS.Add(1)
	})
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer httpc.CloseIdleConnections()
	handshake := func() (string, error) {
		res, err := httpc.Get(url + "/socket.io/?EIO=4&transport=polling")
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var open struct{ SID string }
		if res.StatusCode != 200 || len(b) < 2 || json.Unmarshal(b[1:], &open) != nil {
			return "", fmt.Errorf("polling handshake: %s %q", res.Status, b)
		}
		return open.SID, nil
	}
	hostile(1, func() { // oversize polling POST: 413
		sid, err := handshake()
		if err != nil {
			h.fail("%v", err)
			return
		}
		res, err := httpc.Post(url+"/socket.io/?EIO=4&transport=polling&sid="+sid, "text/plain", strings.NewReader(big))
		if err != nil {
			h.fail("oversize POST: %v", err)
			return
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			h.fail("oversize POST answered %s, want 413", res.Status)
			return
		}
		h.oversizePoll.Add(1)
	})
	hostile(1, func() { // handshakes that never connect a namespace
		if _, err := handshake(); err != nil {
			h.fail("%v", err)
			return
		}
		h.handshakes.Add(1)
		time.Sleep(2 * time.Millisecond)
	})
	garbage := []string{`42["unclosed`, `4Z`, `42{"not":"an array"}`, `43x`, `4` + "\x00\x01"}
	var gi atomic.Int64
	hostile(1, func() { // garbage packets: "parse error"
		g := garbage[int(gi.Add(1))%len(garbage)]
		c, _, err := connectRaw(url, nil)
		if err != nil {
			h.fail("garbage dial: %v", err)
			return
		}
		defer c.close()
		_ = c.send(g)
		if !c.waitClosed(5 * time.Second) {
			h.fail("garbage %q did not close the connection", g)
			return
		}
		h.garbage.Add(1)
	})
	hostile(1, func() { // a binary packet whose attachment never comes
		c, _, err := connectRaw(url, nil)
		if err != nil {
			h.fail("binary dial: %v", err)
			return
		}
		defer c.close()
		_ = c.send(`451-["up",{"_placeholder":true,"num":0}]`)
		if !c.waitClosed(5 * time.Second) {
			h.fail("an incomplete binary packet did not close the connection after BinaryPacketTimeout")
			return
		}
		h.binary.Add(1)
	})
	hostile(2, func() { // floods of events, never reading
		c, _, err := connectRaw(url, nil)
		if err != nil {
			h.fail("flood dial: %v", err)
			return
		}
		defer c.close()
		h.floodConns.Add(1)
		for !stopped() {
			_ = c.c.SetWriteDeadline(time.Now().Add(time.Second))
			if err := c.send(`42["noop","flood"]`); err != nil {
				return
			}
			h.floodPackets.Add(1)
		}
	})

	// The honest clients.
	var smu sync.Mutex
	var samples []time.Duration
	var honestErrs []string
	var honestDisconnects atomic.Int64
	for _, tr := range [][]string{{client.WebSocket}, {client.Polling}, {client.Polling, client.WebSocket}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s, err := client.Dial(ctx, url, &client.Options{Transports: tr})
		cancel()
		if err != nil {
			t.Fatalf("honest client %v: %v", tr, err)
		}
		defer s.Close()
		s.OnDisconnect(func(string) { honestDisconnects.Add(1) })
		hwg.Add(1)
		go func() {
			defer hwg.Done()
			pad := strings.Repeat("h", 1024)
			n := 0
			for i := 0; !stopped(); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				start := time.Now()
				res, err := s.EmitWithAck(ctx, "echo", i, pad)
				d := time.Since(start)
				cancel()
				var got int
				var gotPad string
				if err == nil {
					err = res.Bind(&got, &gotPad)
				}
				smu.Lock()
				switch {
				case err != nil:
					honestErrs = append(honestErrs, fmt.Sprintf("%v #%d: %v", tr, i, err))
				case got != i || gotPad != pad:
					honestErrs = append(honestErrs, fmt.Sprintf("%v #%d: echo %d", tr, i, got))
				default:
					samples = append(samples, d)
					n++
				}
				smu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
			if n < 20 {
				smu.Lock()
				honestErrs = append(honestErrs, fmt.Sprintf("%v: only %d echoes in %v", tr, n, hostileDuration))
				smu.Unlock()
			}
		}()
	}
	time.Sleep(hostileDuration)
	// The slow readers were disconnected for not keeping up.
	for _, id := range slowIDs {
		lc.wait(t, "slow reader "+id+" disconnected", 10*time.Second, func() bool {
			return slices.Contains(lc.reasons[id], "transport error")
		})
	}
	halt()

	smu.Lock()
	defer smu.Unlock()
	slices.Sort(samples)
	q := func(p float64) time.Duration {
		if len(samples) == 0 {
			return 0
		}
		return samples[min(len(samples)-1, int(p*float64(len(samples))))]
	}
	t.Logf("honest: %d echoes, p50 %v, p99 %v, max %v", len(samples), q(0.5), q(0.99), q(1))
	t.Logf("hostile: %d oversize ws closed, %d oversize POSTs refused (413), %d garbage closed, %d incomplete binary closed, "+
		"%d flood connections (%d packets), %d bare handshakes, %d slow readers dropped; server saw %d parse errors, %d transport errors",
		h.oversizeWS.Load(), h.oversizePoll.Load(), h.garbage.Load(), h.binary.Load(), h.floodConns.Load(), h.floodPackets.Load(),
		h.handshakes.Load(), len(slowIDs), lc.count("parse error"), lc.count("transport error"))
	if len(honestErrs) > 0 {
		t.Fatalf("honest clients: %d failures: %v", len(honestErrs), honestErrs[:min(len(honestErrs), 10)])
	}
	if n := honestDisconnects.Load(); n > 0 {
		t.Fatalf("honest clients were disconnected %d times", n)
	}
	if p99 := q(0.99); p99 > honestP99Bound {
		t.Fatalf("honest p99 latency %v, bound %v", p99, honestP99Bound)
	}
	if len(h.errs) > 0 {
		t.Fatalf("hostile clients not answered as expected: %v", h.errs)
	}
	for name, n := range map[string]int64{"oversize ws": h.oversizeWS.Load(), "oversize POST": h.oversizePoll.Load(),
		"garbage": h.garbage.Load(), "incomplete binary": h.binary.Load(), "flood": h.floodPackets.Load()} {
		if n == 0 {
			t.Fatalf("no %s attempt completed: the load was not hostile", name)
		}
	}
	if lc.count("parse error") == 0 {
		t.Fatal("the server reported no parse error")
	}
}
