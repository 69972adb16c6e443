package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
)

// measure is one number measured on one server.
type measure struct {
	Case   string  // e.g. "10000 clients"
	Metric string  // e.g. "RSS per client (KiB)"
	Value  float64 // NaN: not applicable
	Use    usage   // CPU and wall time of the section (zero: not measured)
}

// env is what the scenarios share.
type env struct {
	d       *dialer
	quick   bool
	profile string // directory for Go profiles taken during scenarios, or ""
	gobin   string // the Go server's binary
	nodeDir string // the Node server's directory
	// The scale-out scenario: what it runs over, and while it runs, its
	// Redis, its connections to the shared services and its buses.
	so       scaleoutConf
	redis    *redisProc
	pg       *pgx.Conn
	pgLocal  bool // the PostgreSQL is on this machine (its CPU is measured)
	nc       *nats.Conn
	natsPid  int    // the NATS server's process, 0 when not found
	buses    []*bus // the adapters that run
	busErr   string // why a selected adapter does not run ("" when all do)
	clusters int    // clusters started, for their prefixes
	// serviceDesc describes each service and its adapters for the report,
	// by adapter key.
	serviceDesc map[string]string
}

func kib(b int64, n int) float64 { return float64(b) / 1024 / float64(n) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianUse returns the usage of the repeat whose value is the median one.
func medianUse(vals []float64, uses []usage) usage {
	m := median(vals)
	best := 0
	for i, v := range vals {
		if math.Abs(v-m) < math.Abs(vals[best]-m) {
			best = i
		}
	}
	return uses[best]
}

// ---- 1. idle memory ----

func (e *env) idle(s *server) ([]measure, error) {
	levels := []int{1000, 5000, 10000, 19000}
	if e.quick {
		levels = []int{200, 500}
	}
	base, err := s.stats()
	if err != nil {
		return nil, err
	}
	rss0 := s.rss()
	f := newFleet(e.d, s.addr)
	defer f.close()
	var out []measure
	for _, n := range levels {
		m := startMeter(s)
		if err := f.grow(context.Background(), n, 64, nil); err != nil {
			return out, err
		}
		use := m.stop()
		if _, err := waitSockets(s, n, 30*time.Second); err != nil {
			return out, err
		}
		time.Sleep(2 * time.Second) // let the last handshakes' garbage become collectable
		st, err := s.stats()        // full GC first (and FreeOSMemory on Go)
		if err != nil {
			return out, err
		}
		rss := s.rss()
		c := fmt.Sprintf("%d clients", n)
		log.Printf("  %s: %s RSS %.1f MiB, heap %.1f MiB, %d goroutines", s.name, c,
			float64(rss)/(1<<20), float64(st.Heap+st.Stack)/(1<<20), st.Goroutines)
		out = append(out,
			measure{Case: c, Metric: "RSS per client (KiB)", Value: kib(rss-rss0, n), Use: use},
			measure{Case: c, Metric: "heap per client (KiB)", Value: kib(st.Heap-base.Heap, n)},
		)
		stack, gor := math.NaN(), math.NaN()
		if s.name == "Go" {
			stack = kib(st.Stack-base.Stack, n)
			gor = float64(st.Goroutines-base.Goroutines) / float64(n)
			if e.profile != "" {
				if err := s.save("/debug/pprof/heap", filepath.Join(e.profile, fmt.Sprintf("idle-%d.heap.prof", n))); err != nil {
					log.Print(err)
				}
			}
		}
		out = append(out,
			measure{Case: c, Metric: "goroutine stacks per client (KiB)", Value: stack},
			measure{Case: c, Metric: "goroutines per client", Value: gor})
	}
	return out, nil
}

// ---- 2. broadcast fan-out ----

// fanClient counts the broadcast events one client received in the
// current trigger. trigger holds the trigger number (high 32 bits) and the
// number of events it sends (low 32 bits).
type fanClient struct {
	gen, n  int64
	trigger *atomic.Int64
	done    *atomic.Int64
	last    *atomic.Int64
}

var bcastPrefix = []byte(`42["b"`)

func (c *fanClient) onMessage(p []byte) {
	if !bytes.HasPrefix(p, bcastPrefix) {
		return
	}
	t := c.trigger.Load()
	if gen := t >> 32; gen != c.gen {
		c.gen, c.n = gen, 0
	}
	c.n++
	if c.n == t&0xffffffff {
		now := time.Now().UnixNano()
		for {
			l := c.last.Load()
			if now <= l || c.last.CompareAndSwap(l, now) {
				break
			}
		}
		c.done.Add(1)
	}
}

func (e *env) fanout(s *server) ([]measure, error) {
	sizes := []int{100, 1024}
	levels := []int{1000, 10000, 19000}
	const perTrigger = 200_000 // deliveries per trigger
	repeats := 5
	if e.quick {
		levels, repeats = []int{200, 500}, 2
	}
	var trigger, done, last atomic.Int64
	f := newFleet(e.d, s.addr)
	defer f.close()
	var out []measure
	gen := int64(0)
	for _, n := range levels {
		err := f.grow(context.Background(), n, 64, func(int, *wsConn) func([]byte) {
			c := &fanClient{trigger: &trigger, done: &done, last: &last}
			return c.onMessage
		})
		if err != nil {
			return out, err
		}
		if _, err := waitSockets(s, n, 30*time.Second); err != nil {
			return out, err
		}
		msgs := perTrigger / n
		for _, size := range sizes {
			ms, err := e.fanoutCase(s, n, msgs, size, repeats, &trigger, &done, &last, &gen, "")
			out = append(out, ms...)
			if err != nil {
				return out, err
			}
		}
	}
	// The cost of observing the server: the last level again, 100 B, with
	// metrics/prometheus's collector on every delivery (Go only; an
	// observer cannot be removed, so this runs last).
	if s.name == "Go" {
		if _, err := s.get("/observe"); err != nil {
			return out, err
		}
		n := levels[len(levels)-1]
		ms, err := e.fanoutCase(s, n, perTrigger/n, 100, repeats, &trigger, &done, &last, &gen, ", metrics/prometheus")
		out = append(out, ms...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// fanoutCase measures one fan-out case: n clients (connected), msgs
// broadcasts of size bytes from one trigger, repeats times; suffix is
// added to the case's name.
func (e *env) fanoutCase(s *server, n, msgs, size, repeats int, trigger, done, last *atomic.Int64, gen *int64, suffix string) ([]measure, error) {
	var vals, loops []float64
	var uses []usage
	for range repeats {
		// All events of the previous trigger have arrived: clients
		// start counting again at the first event of this one.
		*gen++
		trigger.Store(*gen<<32 | int64(msgs))
		done.Store(0)
		last.Store(0)
		time.Sleep(200 * time.Millisecond)
		m := startMeter(s)
		t0 := time.Now()
		loopMS, err := s.get(fmt.Sprintf("/bcast?n=%d&size=%d", msgs, size))
		if err != nil {
			return nil, err
		}
		ms, _ := strconv.ParseFloat(loopMS, 64)
		loops = append(loops, ms)
		deadline := time.Now().Add(30 * time.Second)
		for done.Load() < int64(n) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		use := m.stop()
		got := done.Load()
		if got < int64(n) {
			return nil, fmt.Errorf("%s: only %d of %d clients got the %d broadcasts of %d B", s.name, got, n, msgs, size)
		}
		el := time.Duration(last.Load() - t0.UnixNano())
		use.Wall = el
		vals = append(vals, float64(n*msgs)/el.Seconds())
		uses = append(uses, use)
	}
	c := fmt.Sprintf("%d clients, %d B%s", n, size, suffix)
	log.Printf("  %s: %s: %.0f deliveries/s (runs %v; emit loop ms %v)", s.name, c, median(vals), fmtVals(vals), fmtVals(loops))
	return []measure{
		{Case: c, Metric: "deliveries/s", Value: median(vals), Use: medianUse(vals, uses)},
		{Case: c, Metric: "emit loop (ms)", Value: median(loops)},
	}, nil
}

func fmtVals(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', 3, 64)
	}
	return strings.Join(s, " ")
}

// ---- 3. echo with ack ----

// echoClient sends 'echo' events with an ack at a fixed rate and records
// the round trips.
type echoClient struct {
	c    *wsConn
	sent [1024]atomic.Int64 // send time by ack id % 1024
	mu   sync.Mutex
	lats []time.Duration
	got  chan struct{} // an answer came (closed-loop rounds)
}

func (c *echoClient) onMessage(p []byte) {
	if len(p) < 3 || p[0] != '4' || p[1] != '3' {
		return
	}
	id := 0
	for _, b := range p[2:] {
		if b < '0' || b > '9' {
			break
		}
		id = id*10 + int(b-'0')
	}
	t := c.sent[id%len(c.sent)].Load()
	lat := time.Duration(time.Now().UnixNano() - t)
	c.mu.Lock()
	c.lats = append(c.lats, lat)
	c.mu.Unlock()
	select {
	case c.got <- struct{}{}:
	default:
	}
}

// echoSide is one server of the echo scenario with its clients.
type echoSide struct {
	s       *server
	f       *fleet
	clients []*echoClient
	p50s    []float64
	p99s    []float64
	tputs   []float64
	uses    []usage
}

// echo runs on both servers at once: both are up with their clients, and
// the rounds alternate between them (Go, Node, then Node, Go, ...), so that
// the noise of the machine falls on both alike.
func (e *env) echo(servers []*server) ([][]measure, error) {
	n, rates, rounds, dur := 1000, []int{5000, 20000}, 5, 3*time.Second
	if e.quick {
		n, rates, rounds, dur = 200, []int{2000}, 2, time.Second
	}
	payload := strings.Repeat("e", 100)
	sides := make([]*echoSide, len(servers))
	for i, s := range servers {
		sd := &echoSide{s: s, f: newFleet(e.d, s.addr), clients: make([]*echoClient, n)}
		sides[i] = sd
		defer sd.f.close()
		err := sd.f.grow(context.Background(), n, 64, func(i int, c *wsConn) func([]byte) {
			sd.clients[i] = &echoClient{c: c, got: make(chan struct{}, 1)}
			return sd.clients[i].onMessage
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	out := make([][]measure, len(sides))
	var ackID atomic.Int64
	// One case: rounds alternating between the servers, then the medians.
	runCase := func(c string, k, rate int) error {
		for _, sd := range sides {
			sd.p50s, sd.p99s, sd.tputs, sd.uses = nil, nil, nil, nil
		}
		for r := -1; r < rounds; r++ { // round -1 warms up
			for j := range sides {
				sd := sides[j]
				if r%2 != 0 && r >= 0 {
					sd = sides[len(sides)-1-j]
				}
				p50, p99, tput, use, err := echoRound(sd.s, sd.clients[:k], rate, dur, payload, &ackID)
				if err != nil {
					return err
				}
				if r >= 0 {
					sd.p50s, sd.p99s, sd.tputs, sd.uses = append(sd.p50s, p50), append(sd.p99s, p99), append(sd.tputs, tput), append(sd.uses, use)
				}
			}
		}
		for i, sd := range sides {
			log.Printf("  %s: %s: p50 %v ms, p99 %v ms, answered/s %v", sd.s.name, c, fmtVals(sd.p50s), fmtVals(sd.p99s), fmtVals(sd.tputs))
			use := medianUse(sd.p99s, sd.uses)
			if rate == 0 {
				use = medianUse(sd.tputs, sd.uses)
			}
			out[i] = append(out[i],
				measure{Case: c, Metric: "p50 (ms)", Value: median(sd.p50s), Use: use},
				measure{Case: c, Metric: "p99 (ms)", Value: median(sd.p99s), Use: use},
				measure{Case: c, Metric: "answered/s", Value: median(sd.tputs), Use: use},
			)
		}
		return nil
	}
	// Closed loop: each client sends its next echo when the answer to the
	// previous one has come; the rate is what the server sustains.
	closed := []int{200, 1000}
	if e.quick {
		closed = []int{50, 200}
	}
	for _, k := range closed {
		if err := runCase(fmt.Sprintf("%d clients, closed loop", k), k, 0); err != nil {
			return out, err
		}
	}
	for _, rate := range rates {
		if err := runCase(fmt.Sprintf("%d clients, %d echo/s offered", n, rate), n, rate); err != nil {
			return out, err
		}
	}
	return out, nil
}

// echoRound runs one round of echoes on a server, paced at rate in all or,
// with rate 0, in a closed loop per client, and returns the round-trip p50
// and p99 in milliseconds and the answers per second.
func echoRound(s *server, clients []*echoClient, rate int, dur time.Duration, payload string, ackID *atomic.Int64) (p50, p99, tput float64, use usage, err error) {
	interval := time.Second
	if rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(len(clients)) / float64(rate))
	}
	for _, c := range clients {
		c.mu.Lock()
		c.lats = c.lats[:0]
		c.mu.Unlock()
		select {
		case <-c.got:
		default:
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	m := startMeter(s)
	var wg sync.WaitGroup
	sent := atomic.Int64{}
	for _, c := range clients {
		if rate == 0 {
			wg.Go(func() {
				for ctx.Err() == nil {
					id := ackID.Add(1)
					c.sent[id%int64(len(c.sent))].Store(time.Now().UnixNano())
					if c.c.send("42"+strconv.FormatInt(id, 10)+`["echo","`+payload+`"]`) != nil {
						return
					}
					sent.Add(1)
					select {
					case <-c.got:
					case <-time.After(2 * time.Second): // lost: go on
					case <-ctx.Done():
						return
					}
				}
			})
			continue
		}
		wg.Go(func() {
			select { // random phase
			case <-time.After(time.Duration(rand.Int64N(int64(interval)))):
			case <-ctx.Done():
				return
			}
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				id := ackID.Add(1)
				c.sent[id%int64(len(c.sent))].Store(time.Now().UnixNano())
				if c.c.send("42"+strconv.FormatInt(id, 10)+`["echo","`+payload+`"]`) != nil {
					return
				}
				sent.Add(1)
				select {
				case <-t.C:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond) // late answers
	use = m.stop()
	var lats []time.Duration
	for _, c := range clients {
		c.mu.Lock()
		lats = append(lats, c.lats...)
		c.mu.Unlock()
	}
	if len(lats) == 0 {
		return 0, 0, 0, use, fmt.Errorf("%s: no echo answered", s.name)
	}
	if lost := sent.Load() - int64(len(lats)); lost > sent.Load()/100 {
		log.Printf("  %s: %d of %d echoes unanswered within 0.5 s", s.name, lost, sent.Load())
	}
	slices.Sort(lats)
	pct := func(q float64) float64 {
		return float64(lats[min(len(lats)-1, int(q*float64(len(lats))))]) / float64(time.Millisecond)
	}
	return pct(0.50), pct(0.99), float64(len(lats)) / dur.Seconds(), use, nil
}

// ---- 4. connection ramp ----

// pollClient is an HTTP client for polling sessions: connections spread
// over the source addresses, no compression (so neither server compresses).
func pollClient(d *dialer) *http.Client {
	return &http.Client{
		Timeout: 60 * time.Second,
		Transport: &http.Transport{
			DialContext:         d.dialContext,
			MaxIdleConns:        2000,
			MaxIdleConnsPerHost: 2000,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
}

// pollReq sends one polling request and returns the body.
func pollReq(ctx context.Context, hc *http.Client, method, url, body string) ([]byte, error) {
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	var req *http.Request
	var err error
	if rd != nil {
		req, err = http.NewRequestWithContext(ctx, method, url, rd)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, url, nil)
	}
	if err != nil {
		return nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := readAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s %s", method, url, res.Status, b)
	}
	return b, nil
}

// pollOpen opens a polling session and joins the main namespace; it
// returns the session id.
func pollOpen(ctx context.Context, hc *http.Client, addr string) (string, error) {
	b, err := pollReq(ctx, hc, "GET", pollingURL(addr, ""), "")
	if err != nil {
		return "", err
	}
	if len(b) == 0 || b[0] != '0' {
		return "", fmt.Errorf("expected an open packet, got %q", b)
	}
	var open struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(b[1:], &open); err != nil {
		return "", err
	}
	if _, err := pollReq(ctx, hc, "POST", pollingURL(addr, open.SID), "40"); err != nil {
		return "", err
	}
	for range 10 {
		b, err := pollReq(ctx, hc, "GET", pollingURL(addr, open.SID), "")
		if err != nil {
			return "", err
		}
		for p := range bytes.SplitSeq(b, []byte{0x1e}) {
			if bytes.HasPrefix(p, []byte("40")) {
				return open.SID, nil
			}
		}
	}
	return "", fmt.Errorf("no namespace connect on session %s", open.SID)
}

// pollUpgrade opens a session over polling, joins the main namespace,
// upgrades it to WebSocket (probe, upgrade) and checks it with one echo.
func pollUpgrade(ctx context.Context, d *dialer, hc *http.Client, addr string) (*wsConn, error) {
	sid, err := pollOpen(ctx, hc, addr)
	if err != nil {
		return nil, err
	}
	c, err := dialWS(ctx, d, addr, "EIO=4&transport=websocket&sid="+sid)
	if err != nil {
		return nil, err
	}
	err = c.send("2probe")
	if err == nil {
		err = c.waitPrefix("3probe")
	}
	if err == nil {
		err = c.send("5")
	}
	if err == nil {
		err = c.send(`420["echo","u"]`)
	}
	if err == nil {
		err = c.waitPrefix("430")
	}
	if err != nil {
		c.close()
		return nil, err
	}
	_ = c.nc.SetDeadline(time.Time{})
	return c, nil
}

func (e *env) ramp(s *server) ([]measure, error) {
	n, rounds, conc := 1000, 3, 32
	if e.quick {
		n, rounds = 200, 2
	}
	var out []measure
	for _, mode := range []string{"WebSocket", "polling then upgrade"} {
		hc := pollClient(e.d)
		var vals []float64
		var uses []usage
		var conns []*wsConn
		var mu sync.Mutex
		for range rounds {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			var next atomic.Int64
			var failed atomic.Value
			m := startMeter(s)
			var wg sync.WaitGroup
			for range conc {
				wg.Go(func() {
					for next.Add(1) <= int64(n) && ctx.Err() == nil {
						var c *wsConn
						var err error
						if mode == "WebSocket" {
							c, err = connectSIO(ctx, e.d, s.addr)
						} else {
							c, err = pollUpgrade(ctx, e.d, hc, s.addr)
						}
						if err != nil {
							failed.CompareAndSwap(nil, err)
							cancel()
							return
						}
						mu.Lock()
						conns = append(conns, c)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			use := m.stop()
			cancel()
			if err, _ := failed.Load().(error); err != nil {
				for _, c := range conns {
					c.close()
				}
				return out, fmt.Errorf("%s %s handshake: %w", s.name, mode, err)
			}
			vals = append(vals, float64(n)/use.Wall.Seconds())
			uses = append(uses, use)
		}
		for _, c := range conns {
			c.close()
		}
		hc.CloseIdleConnections()
		c := fmt.Sprintf("%s, %d × %d handshakes, %d at a time", mode, rounds, n, conc)
		log.Printf("  %s: %s: %s handshakes/s", s.name, c, fmtVals(vals))
		out = append(out, measure{Case: mode, Metric: "handshakes/s", Value: median(vals), Use: medianUse(vals, uses)})
		time.Sleep(time.Second) // let the server close the sessions
	}
	return out, nil
}

// ---- 5. polling throughput ----

func (e *env) polling(s *server) ([]measure, error) {
	n, batch, window, rounds, dur := 100, 10, 2, 3, 3*time.Second
	if e.quick {
		n, rounds, dur = 20, 2, time.Second
	}
	hc := pollClient(e.d)
	defer hc.CloseIdleConnections()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	msg := `42["msg","` + strings.Repeat("p", 100) + `"]`
	body := strings.TrimSuffix(strings.Repeat(msg+"\x1e", batch), "\x1e")
	var total atomic.Int64
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	sids := make([]string, n)
	for i := range n {
		sid, err := pollOpen(ctx, hc, s.addr)
		if err != nil {
			return nil, err
		}
		sids[i] = sid
	}
	for _, sid := range sids {
		url := pollingURL(s.addr, sid)
		var got atomic.Int64
		wake := make(chan struct{}, 1)
		wg.Go(func() { // long-poll
			for ctx.Err() == nil {
				b, err := pollReq(ctx, hc, "GET", url, "")
				if err != nil {
					return
				}
				for p := range bytes.SplitSeq(b, []byte{0x1e}) {
					switch {
					case bytes.HasPrefix(p, []byte(`42["msg"`)):
						got.Add(1)
						total.Add(1)
					case len(p) == 1 && p[0] == '2':
						_, _ = pollReq(ctx, hc, "POST", url, "3")
					case len(p) > 0 && p[0] == '1':
						return
					}
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		})
		wg.Go(func() { // send batches, at most window unanswered
			sent := int64(0)
			for ctx.Err() == nil {
				if sent-got.Load() >= int64(window*batch) {
					select {
					case <-wake:
					case <-ctx.Done():
						return
					}
					continue
				}
				if _, err := pollReq(ctx, hc, "POST", url, body); err != nil {
					return
				}
				sent += int64(batch)
			}
		})
	}
	time.Sleep(time.Second) // warm up
	var vals []float64
	var uses []usage
	for range rounds {
		m := startMeter(s)
		t0 := total.Load()
		time.Sleep(dur)
		use := m.stop()
		vals = append(vals, float64(total.Load()-t0)/use.Wall.Seconds())
		uses = append(uses, use)
	}
	cancel()
	c := fmt.Sprintf("%d clients, batches of %d × 100 B", n, batch)
	log.Printf("  %s: %s: %s msg/s", s.name, c, fmtVals(vals))
	return []measure{{Case: c, Metric: "messages/s echoed", Value: median(vals), Use: medianUse(vals, uses)}}, nil
}
