package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/internal/gotrack"
)

// Transport names, for Options.Transports.
const (
	Polling   = "polling"
	WebSocket = "websocket"
)

// engineConfig is what an Engine.IO connection needs, resolved from Options.
type engineConfig struct {
	base         string // scheme://host/path/
	userQuery    url.Values
	header       http.Header
	httpClient   *http.Client
	tlsConfig    *tls.Config
	proxy        func(*http.Request) (*url.URL, error)
	transports   []string
	upgrade      bool
	probeTimeout time.Duration
	maxResponse  int
	logger       *slog.Logger
}

func (c *engineConfig) query(transport, sid string) url.Values {
	q := make(url.Values, len(c.userQuery)+3)
	for k, v := range c.userQuery {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", transport)
	if sid != "" {
		q.Set("sid", sid)
	}
	return q
}

var randCounter atomic.Uint64

// randomString is the cache-busting "t" parameter of polling requests.
func randomString() string {
	return strconv.FormatInt(time.Now().UnixMilli(), 36) + "." + strconv.FormatUint(randCounter.Add(1), 36)
}

// engineHandler receives what an engine reads. Calls come from one
// transport reader at a time, in order; onEngineClose is called once and no
// message follows it from that engine.
type engineHandler interface {
	onEngineMessage(e *engine, p packet.Packet)
	onEngineClose(e *engine, reason string, err error)
}

type handshakeData struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

type engineState uint8

const (
	engineOpen engineState = iota
	engineClosing
	engineClosed
)

// engine is one Engine.IO client session. Goroutines: the poll loop (while
// on polling), the WebSocket read loop (while on WebSocket, and during a
// probe), a writer that exists only while packets are queued, and the
// probe during an upgrade. All belong to the Manager's group.
type engine struct {
	cfg    *engineConfig
	g      *gotrack.Tracker
	h      engineHandler
	hs     handshakeData
	ctx    context.Context // cancelled when the session ends
	cancel context.CancelFunc

	mu           sync.Mutex
	cond         *sync.Cond
	state        engineState
	tr           transport
	poll         *polling // the polling transport, if the session started on it
	wq           []packet.Packet
	writing      bool
	upgrading    bool
	flushExpired bool
	pingTimer    *time.Timer
	early        []packet.Packet // packets that came with the polling handshake

	pollDone chan struct{}
	closed   chan struct{}
	once     sync.Once
}

// openEngine performs the handshake over the first configured transport.
// The returned engine reads nothing until start is called.
func openEngine(ctx context.Context, cfg *engineConfig, g *gotrack.Tracker, h engineHandler) (*engine, error) {
	e := &engine{cfg: cfg, g: g, h: h, pollDone: make(chan struct{}), closed: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	var err error
	switch cfg.transports[0] {
	case Polling:
		err = e.openPolling(ctx)
	default:
		err = e.openWebSocket(ctx)
	}
	if err != nil {
		e.cancel()
		return nil, err
	}
	e.resetPing()
	return e, nil
}

func (e *engine) openPolling(ctx context.Context) error {
	p := &polling{cfg: e.cfg}
	p.ctx, p.cancel = context.WithCancel(e.ctx)
	b, err := p.do(ctx, http.MethodGet, nil)
	if err != nil {
		p.cancel()
		return fmt.Errorf("polling handshake: %w", err)
	}
	pkts, err := packet.DecodePayload(b)
	if err == nil {
		err = e.parseOpen(pkts[0])
	}
	if err != nil {
		p.cancel()
		return fmt.Errorf("polling handshake: %w", err)
	}
	p.sid = e.hs.SID
	e.early = pkts[1:]
	e.tr, e.poll = p, p
	return nil
}

func (e *engine) openWebSocket(ctx context.Context) error {
	t, err := dialWS(ctx, e.cfg, e.g, "")
	if err != nil {
		return err
	}
	m, err := t.next(ctx)
	if err == nil {
		if m.binary {
			err = errors.New("binary message instead of the handshake")
		} else {
			var p packet.Packet
			if p, err = packet.Decode(m.data); err == nil {
				err = e.parseOpen(p)
			}
		}
	}
	if err != nil {
		t.close()
		return fmt.Errorf("websocket handshake: %w", err)
	}
	e.tr = t
	close(e.pollDone)
	return nil
}

func (e *engine) parseOpen(p packet.Packet) error {
	if p.Type != packet.Open {
		return fmt.Errorf("expected an open packet, got %s", p.Type)
	}
	if err := json.Unmarshal(p.Data, &e.hs); err != nil {
		return fmt.Errorf("bad handshake %q: %w", p.Data, err)
	}
	if e.hs.SID == "" {
		return fmt.Errorf("bad handshake %q: no sid", p.Data)
	}
	if e.hs.PingInterval <= 0 {
		e.hs.PingInterval = 25000
	}
	if e.hs.PingTimeout <= 0 {
		e.hs.PingTimeout = 20000
	}
	if e.hs.MaxPayload <= 0 {
		e.hs.MaxPayload = 1_000_000
	}
	return nil
}

// start begins reading (and probing for an upgrade).
func (e *engine) start() {
	switch t := e.tr.(type) {
	case *wsTransport:
		t.attach(e.onWSMsg, e.onWSClose)
	case *polling:
		if !e.g.Go(e.pollLoop) {
			close(e.pollDone)
			return
		}
		if e.cfg.upgrade && slices.Contains(e.hs.Upgrades, WebSocket) && slices.Contains(e.cfg.transports, WebSocket) {
			e.g.Go(e.probe)
		}
	}
}

// transportName returns the name of the current transport.
func (e *engine) transportName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tr.name()
}

func (e *engine) pollLoop() {
	defer close(e.pollDone)
	pkts := e.early
	e.early = nil
	for {
		for _, p := range pkts {
			if e.handle(p) {
				return
			}
		}
		e.mu.Lock()
		stop := e.state == engineClosed || e.upgrading
		e.mu.Unlock()
		if stop {
			return
		}
		var err error
		pkts, err = e.poll.poll()
		if err != nil {
			reason := ReasonTransportError
			if errors.Is(err, packet.ErrInvalid) {
				reason = ReasonParseError
			}
			e.fail(reason, err)
			return
		}
	}
}

// handle processes one received packet; it reports whether reading must
// stop.
func (e *engine) handle(p packet.Packet) bool {
	switch p.Type {
	case packet.Ping:
		e.resetPing()
		e.send(packet.Packet{Type: packet.Pong})
	case packet.Message:
		e.h.onEngineMessage(e, p)
	case packet.Close:
		e.fail(ReasonTransportClose, nil)
		return true
	}
	return false
}

func (e *engine) onWSMsg(m wsMsg) {
	if m.binary {
		e.handle(packet.DecodeBinary(m.data))
		return
	}
	p, err := packet.Decode(m.data)
	if err != nil {
		e.fail(ReasonParseError, err)
		return
	}
	e.handle(p)
}

func (e *engine) onWSClose(err error) {
	if err == nil || isCleanClose(err) {
		e.fail(ReasonTransportClose, err)
		return
	}
	e.fail(ReasonTransportError, err)
}

func (e *engine) resetPing() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state == engineClosed {
		return
	}
	d := time.Duration(e.hs.PingInterval+e.hs.PingTimeout) * time.Millisecond
	if e.pingTimer == nil {
		e.pingTimer = time.AfterFunc(d, func() {
			e.g.Run(func() { e.fail(ReasonPingTimeout, nil) })
		})
		return
	}
	e.pingTimer.Reset(d)
}

// send queues packets; it reports false when the session is closed.
func (e *engine) send(pkts ...packet.Packet) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.state != engineOpen {
		return false
	}
	e.wq = append(e.wq, pkts...)
	e.kickLocked()
	return true
}

// writable reports whether a packet sent now would go out at once (the
// JavaScript transport's "writable"): used by volatile emits.
func (e *engine) writable() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.state == engineOpen && !e.writing && !e.upgrading && len(e.wq) == 0
}

func (e *engine) kickLocked() {
	if e.writing || e.upgrading || len(e.wq) == 0 || e.state == engineClosed {
		return
	}
	e.writing = true
	if !e.g.Go(e.writeLoop) {
		e.writing = false
	}
}

func (e *engine) writeLoop() {
	for {
		e.mu.Lock()
		if e.state == engineClosed || e.upgrading || len(e.wq) == 0 {
			e.writing = false
			e.cond.Broadcast()
			e.mu.Unlock()
			return
		}
		n := len(e.wq)
		if _, ok := e.tr.(*polling); ok {
			size := 0
			n = 0
			for n < len(e.wq) {
				l := e.wq[n].EncodedLen() + 1
				if n > 0 && size+l > e.hs.MaxPayload {
					break
				}
				size += l
				n++
			}
		}
		batch := slices.Clone(e.wq[:n])
		e.wq = slices.Delete(e.wq, 0, n)
		tr := e.tr
		e.mu.Unlock()
		if err := tr.write(e.ctx, batch); err != nil {
			e.fail(ReasonTransportError, err)
		}
	}
}

// probe tries to move a polling session to WebSocket (the "2probe" /
// "3probe" / "5" exchange). A failed probe leaves the session on polling,
// and is logged.
func (e *engine) probe() {
	ctx, cancel := context.WithTimeout(e.ctx, e.cfg.probeTimeout)
	defer cancel()
	t, err := dialWS(ctx, e.cfg, e.g, e.hs.SID)
	if err != nil {
		e.probeFailed(err)
		return
	}
	done := false
	defer func() {
		if !done {
			t.close()
		}
	}()
	if err := t.writeText("2probe"); err != nil {
		e.probeFailed(err)
		return
	}
	m, err := t.next(ctx)
	if err == nil && (m.binary || string(m.data) != "3probe") {
		err = fmt.Errorf("probe answered with %q instead of \"3probe\"", m.data)
	}
	if err != nil {
		e.probeFailed(err)
		return
	}
	e.mu.Lock()
	if e.state != engineOpen {
		e.mu.Unlock()
		return
	}
	e.upgrading = true
	e.mu.Unlock()
	// The server answers the pending poll with a noop; no new poll starts.
	<-e.pollDone
	e.mu.Lock()
	for e.writing {
		e.cond.Wait()
	}
	if e.state == engineClosed {
		e.upgrading = false
		e.cond.Broadcast()
		e.mu.Unlock()
		return
	}
	e.mu.Unlock()
	werr := t.writeText("5")
	e.mu.Lock()
	if werr != nil || e.state == engineClosed {
		e.upgrading = false
		e.cond.Broadcast()
		e.mu.Unlock()
		if werr != nil {
			e.probeFailed(werr)
			e.fail(ReasonTransportError, werr)
		}
		return
	}
	e.tr = t
	e.upgrading = false
	e.cond.Broadcast()
	e.kickLocked()
	e.mu.Unlock()
	done = true
	t.attach(e.onWSMsg, e.onWSClose)
	e.poll.close()
}

// probeFailed logs a failed upgrade: a warning while the session goes on
// (on polling), a debug line when the session ending stopped the probe.
func (e *engine) probeFailed(err error) {
	if e.ctx.Err() != nil {
		e.cfg.logger.Debug("socket.io client: websocket upgrade stopped: the connection closed", "err", err)
		return
	}
	e.cfg.logger.Warn("socket.io client: websocket upgrade failed; staying on polling", "sid", e.hs.SID, "err", err)
}

// fail ends the session because of the transport (or the heartbeat) and
// tells the handler, once.
func (e *engine) fail(reason string, err error) {
	e.mu.Lock()
	if e.state == engineClosed {
		e.mu.Unlock()
		return
	}
	e.state = engineClosed
	tr := e.shutLocked()
	e.mu.Unlock()
	e.cancel()
	tr.close()
	e.once.Do(func() { close(e.closed) })
	e.h.onEngineClose(e, reason, err)
}

func (e *engine) shutLocked() transport {
	if e.pingTimer != nil {
		e.pingTimer.Stop()
	}
	e.wq = nil
	e.cond.Broadcast()
	return e.tr
}

// close ends the session from the client side: what is queued is sent
// first (for at most a second), then polling posts a close packet and a
// WebSocket is closed. The handler is not called.
func (e *engine) close() {
	e.mu.Lock()
	if e.state != engineOpen {
		e.mu.Unlock()
		return
	}
	e.state = engineClosing
	e.kickLocked()
	timer := time.AfterFunc(time.Second, func() {
		e.mu.Lock()
		e.flushExpired = true
		e.cond.Broadcast()
		e.mu.Unlock()
	})
	for (e.writing || e.upgrading || len(e.wq) > 0) && !e.flushExpired && e.state == engineClosing {
		e.cond.Wait()
	}
	timer.Stop()
	if e.state == engineClosed {
		e.mu.Unlock()
		return
	}
	e.state = engineClosed
	tr := e.shutLocked()
	e.mu.Unlock()
	if p, ok := tr.(*polling); ok {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _ = p.do(ctx, http.MethodPost, []byte{'0' + byte(packet.Close)})
		cancel()
	}
	e.cancel()
	tr.close()
	e.once.Do(func() { close(e.closed) })
}
