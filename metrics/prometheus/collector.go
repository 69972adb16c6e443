package prometheus

import (
	"context"
	"errors"
	"sync"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/parser"
)

// DefaultBuckets are the bounds, in seconds, of the latency histograms
// when Options.Buckets is nil: 1 ms to 10 s.
var DefaultBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// DefaultMaxLabelValues is Options.MaxLabelValues when it is zero.
const DefaultMaxLabelValues = 100

// Options configure a Collector. The zero value is a collector without
// namespace or event labels, registered nowhere.
type Options struct {
	// Registerer, when not nil, is where New registers the Collector
	// (prometheus.DefaultRegisterer, or a registry of the application's).
	// When nil, register it yourself. To tell servers apart, wrap it:
	// prometheus.WrapRegistererWith(prometheus.Labels{"server": id}, reg).
	Registerer prom.Registerer

	// NamespaceLabel, when not nil, adds a "namespace" label to the
	// metrics that have one in the table of the package documentation,
	// with the value it returns for a namespace's name (Allow keeps a
	// list; func(n string) string { return n } keeps every name, fine
	// for a fixed set of namespaces but not for dynamic ones such as
	// "/user-123"). nil: no namespace label.
	NamespaceLabel func(namespace string) string

	// EventLabel, when not nil, adds an "event" label to the event
	// metrics, with the value it returns for an event's name. Event names
	// come from the clients too (any name can be sent), so return a
	// bounded set: Allow("chat", "typing") for instance. nil: no event
	// label (the default: the event metrics count every event together).
	EventLabel func(event string) string

	// MaxLabelValues bounds the distinct values of the namespace label,
	// and of the event label within one namespace label value, whatever
	// the label functions return: once that many values (besides Other)
	// are in use, new ones become Other. Packets addressed to a namespace
	// the server does not have are counted under Other without taking a
	// value. 0 means DefaultMaxLabelValues.
	MaxLabelValues int

	// Buckets are the upper bounds, in seconds, of the latency histograms
	// (acks, event handlers). nil means DefaultBuckets.
	Buckets []float64
}

// Collector is a prometheus.Collector of one Socket.IO server's metrics
// (the package documentation lists them). It is safe for concurrent use.
type Collector struct {
	io      *socketio.Server
	nspOn   bool
	eventOn bool
	max     int

	// Socket.IO level.
	connects      *prom.CounterVec
	refused       *prom.CounterVec
	recovered     *prom.CounterVec
	disconnects   *prom.CounterVec
	eventsIn      *prom.CounterVec
	eventsOut     *prom.CounterVec
	eventsRefused *prom.CounterVec
	eventDuration *prom.HistogramVec
	bytesIn       *prom.CounterVec
	bytesOut      *prom.CounterVec
	ackSent       *prom.HistogramVec
	ackReceived   *prom.HistogramVec
	volatile      *prom.CounterVec
	adapterErrors *prom.CounterVec
	overflows     *prom.CounterVec
	overflowIn    prom.Counter
	overflowOut   prom.Counter

	// Engine.IO level.
	sessions    *prom.GaugeVec
	opened      *prom.CounterVec
	upgrades    prom.Counter
	closes      *prom.CounterVec
	engineIn    prom.Counter
	engineOut   prom.Counter
	sessionsMu  sync.Mutex
	transportOf map[*engineio.Conn]string // the transport each session is counted under

	// Read at scrape time.
	connectedDesc *prom.Desc
	queueDesc     *prom.Desc

	single *nspMetrics           // without a namespace label
	nsps   *resolver[nspMetrics] // with one
}

// nspMetrics are the metrics of one namespace label value.
type nspMetrics struct {
	labels      []string // the namespace label value, or none
	connects    prom.Counter
	refused     prom.Counter
	recovered   prom.Counter
	bytesIn     prom.Counter
	bytesOut    prom.Counter
	ackSent     prom.Observer
	ackReceived prom.Observer
	volatile    prom.Counter
	adapterErrs prom.Counter

	single *eventMetrics           // without an event label
	events *resolver[eventMetrics] // with one
}

// eventMetrics are the metrics of one (namespace, event) label pair.
type eventMetrics struct {
	received prom.Counter
	sent     prom.Counter
	refused  prom.Counter
	duration prom.Observer
}

// New makes a Collector of io's metrics and adds it to io as an observer
// (it cannot be removed: make one collector per server). Create it before
// the server accepts connections: the Engine.IO session metrics count the
// sessions opened after New. When opts.Registerer is set, New registers the
// collector there and returns the registration's error.
func New(io *socketio.Server, opts Options) (*Collector, error) {
	if io == nil {
		return nil, errors.New("prometheus: nil server")
	}
	c := &Collector{
		io:          io,
		nspOn:       opts.NamespaceLabel != nil,
		eventOn:     opts.EventLabel != nil,
		max:         opts.MaxLabelValues,
		transportOf: map[*engineio.Conn]string{},
	}
	if c.max <= 0 {
		c.max = DefaultMaxLabelValues
	}
	buckets := opts.Buckets
	if buckets == nil {
		buckets = DefaultBuckets
	}
	var nspLabels []string
	if c.nspOn {
		nspLabels = []string{"namespace"}
	}
	evLabels := nspLabels
	if c.eventOn {
		evLabels = append(append([]string{}, nspLabels...), "event")
	}
	counter := func(name, help string, labels ...string) *prom.CounterVec {
		return prom.NewCounterVec(prom.CounterOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, labels []string) *prom.HistogramVec {
		return prom.NewHistogramVec(prom.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	}
	c.connects = counter("socketio_connect_total", "Sockets connected to a namespace (CONNECT accepted).", nspLabels...)
	c.refused = counter("socketio_connect_refused_total", "CONNECTs refused by a connection middleware.", nspLabels...)
	c.recovered = counter("socketio_connect_recovered_total", "Sockets connected with their state recovered (connection state recovery).", nspLabels...)
	c.disconnects = counter("socketio_disconnect_total", "Sockets disconnected, by reason.", append(append([]string{}, nspLabels...), "reason")...)
	c.eventsIn = counter("socketio_events_received_total", "Events received from clients.", evLabels...)
	c.eventsOut = counter("socketio_events_sent_total", "Events sent to clients (a broadcast counts once per recipient).", evLabels...)
	c.eventsRefused = counter("socketio_events_refused_total", "Events refused by a packet middleware (Socket.Use).", evLabels...)
	c.eventDuration = histogram("socketio_event_duration_seconds", "Time an event took in its middlewares and handlers.", evLabels)
	c.bytesIn = counter("socketio_received_bytes_total", "Bytes of the Socket.IO packets received (binary attachments included).", nspLabels...)
	c.bytesOut = counter("socketio_transmitted_bytes_total", "Bytes of the Socket.IO packets sent (binary attachments included; a broadcast counts once per recipient).", nspLabels...)
	c.ackSent = histogram("socketio_ack_sent_latency_seconds", "Time from an event's arrival to the server's acknowledgement of it.", nspLabels)
	c.ackReceived = histogram("socketio_ack_received_latency_seconds", "Time from the server's request of an acknowledgement to the client's answer.", nspLabels)
	c.volatile = counter("socketio_volatile_dropped_total", "Volatile packets not sent to a socket whose connection was not ready.", nspLabels...)
	c.adapterErrors = counter("socketio_adapter_errors_total", "Adapter operations that failed with no caller to return the error to (a cluster message not published...).", nspLabels...)
	c.overflows = counter("socketio_overflow_closes_total", "Connections closed because a queue overflowed: incoming (events waiting for their handlers past MaxPendingEvents or MaxPendingBytes) or outgoing (the send buffer past MaxBufferedBytes).", "queue")
	c.overflowIn = c.overflows.WithLabelValues("incoming")
	c.overflowOut = c.overflows.WithLabelValues("outgoing")

	c.sessions = prom.NewGaugeVec(prom.GaugeOpts{Name: "socketio_engine_sessions", Help: "Open Engine.IO sessions (opened since the collector was made), by current transport."}, []string{"transport"})
	c.opened = counter("socketio_engine_opened_total", "Engine.IO sessions opened, by first transport.", "transport")
	c.upgrades = prom.NewCounter(prom.CounterOpts{Name: "socketio_engine_upgrades_total", Help: "Engine.IO sessions upgraded from polling to WebSocket."})
	c.closes = counter("socketio_engine_closes_total", "Engine.IO sessions closed, by reason.", "reason")
	c.engineIn = prom.NewCounter(prom.CounterOpts{Name: "socketio_engine_received_bytes_total", Help: "Bytes of the Engine.IO packets received (pings, pongs and messages)."})
	c.engineOut = prom.NewCounter(prom.CounterOpts{Name: "socketio_engine_transmitted_bytes_total", Help: "Bytes of the Engine.IO packets sent (pings, pongs and messages)."})
	for _, t := range []string{engineio.Polling, engineio.WebSocket} {
		c.sessions.WithLabelValues(t)
		c.opened.WithLabelValues(t)
	}

	c.connectedDesc = prom.NewDesc("socketio_connected", "Sockets connected now.", nspLabels, nil)
	c.queueDesc = prom.NewDesc("socketio_adapter_publish_queue_length", "Messages waiting to be published to the other servers (the largest queue of the namespaces' adapters; the cluster adapters share one per server).", nil, nil)

	if c.nspOn {
		c.nsps = newResolver(opts.NamespaceLabel, c.max, func(v string) *nspMetrics { return c.newNsp([]string{v}, opts.EventLabel) })
		// Packets may name namespaces the server does not have: they
		// must not take label values from those it has.
		c.nsps.known = func(name string) bool {
			for _, n := range io.Namespaces() {
				if n.Name() == name {
					return true
				}
			}
			return false
		}
	} else {
		c.single = c.newNsp(nil, opts.EventLabel)
	}

	if opts.Registerer != nil {
		if err := opts.Registerer.Register(c); err != nil {
			return nil, err
		}
	}
	io.Observe(c.observer())
	return c, nil
}

func (c *Collector) newNsp(labels []string, eventLabel func(string) string) *nspMetrics {
	n := &nspMetrics{
		labels:      labels,
		connects:    c.connects.WithLabelValues(labels...),
		refused:     c.refused.WithLabelValues(labels...),
		recovered:   c.recovered.WithLabelValues(labels...),
		bytesIn:     c.bytesIn.WithLabelValues(labels...),
		bytesOut:    c.bytesOut.WithLabelValues(labels...),
		ackSent:     c.ackSent.WithLabelValues(labels...),
		ackReceived: c.ackReceived.WithLabelValues(labels...),
		volatile:    c.volatile.WithLabelValues(labels...),
		adapterErrs: c.adapterErrors.WithLabelValues(labels...),
	}
	if eventLabel != nil {
		n.events = newResolver(eventLabel, c.max, func(v string) *eventMetrics {
			return c.newEvent(append(append([]string{}, labels...), v))
		})
	} else {
		n.single = c.newEvent(labels)
	}
	return n
}

func (c *Collector) newEvent(labels []string) *eventMetrics {
	return &eventMetrics{
		received: c.eventsIn.WithLabelValues(labels...),
		sent:     c.eventsOut.WithLabelValues(labels...),
		refused:  c.eventsRefused.WithLabelValues(labels...),
		duration: c.eventDuration.WithLabelValues(labels...),
	}
}

// nsp returns the metrics of the namespace named name.
func (c *Collector) nsp(name string) *nspMetrics {
	if c.single != nil {
		return c.single
	}
	return c.nsps.get(name)
}

// event returns the metrics of the event named name.
func (n *nspMetrics) event(name string) *eventMetrics {
	if n.single != nil {
		return n.single
	}
	return n.events.get(name)
}

// packetEvent returns the metrics of the event packet p, reading its name
// without allocating when it is a plain JSON string.
func (n *nspMetrics) packetEvent(p *parser.Packet) *eventMetrics {
	if n.single != nil {
		return n.single
	}
	if tok, ok := plainEventName(p.Data); ok {
		return n.events.getBytes(tok)
	}
	name, err := parser.EventName(p)
	if err != nil {
		name = Other
	}
	return n.events.get(name)
}

// plainEventName returns the name of the event array data when it is a
// JSON string without escapes: its bytes between the quotes.
func plainEventName(data []byte) ([]byte, bool) {
	if len(data) < 3 || data[0] != '[' || data[1] != '"' {
		return nil, false
	}
	for i := 2; i < len(data); i++ {
		switch data[i] {
		case '"':
			return data[2:i], true
		case '\\':
			return nil, false
		}
	}
	return nil, false
}

// Known reasons keep their label value; any other is Other, so that an
// application's own close reasons cannot grow the label without bound.
var (
	disconnectReasons = map[string]bool{
		socketio.ReasonServerNamespaceDisconnect: true,
		socketio.ReasonClientNamespaceDisconnect: true,
		engineio.ReasonTransportClose:            true,
		engineio.ReasonTransportError:            true,
		engineio.ReasonPingTimeout:               true,
		engineio.ReasonParseError:                true,
		engineio.ReasonForcedClose:               true,
		engineio.ReasonServerShutdown:            true,
	}
	closeReasons = map[string]bool{
		engineio.ReasonTransportClose: true,
		engineio.ReasonTransportError: true,
		engineio.ReasonPingTimeout:    true,
		engineio.ReasonParseError:     true,
		engineio.ReasonForcedClose:    true,
		engineio.ReasonServerShutdown: true,
	}
)

func bounded(known map[string]bool, reason string) string {
	if known[reason] {
		return reason
	}
	return Other
}

// observer is what the collector watches on the server.
func (c *Collector) observer() socketio.Observer {
	return socketio.Observer{
		ConnOpened: func(conn *engineio.Conn) {
			t := conn.Transport()
			c.opened.WithLabelValues(t).Inc()
			c.sessionsMu.Lock()
			c.transportOf[conn] = t
			c.sessionsMu.Unlock()
			c.sessions.WithLabelValues(t).Inc()
		},
		ConnUpgraded: func(conn *engineio.Conn, t string) {
			c.upgrades.Inc()
			c.sessionsMu.Lock()
			old, ok := c.transportOf[conn]
			if ok {
				c.transportOf[conn] = t
			}
			c.sessionsMu.Unlock()
			if ok && old != t {
				c.sessions.WithLabelValues(old).Dec()
				c.sessions.WithLabelValues(t).Inc()
			}
		},
		ConnClosed: func(conn *engineio.Conn, reason string, cause error) {
			c.closes.WithLabelValues(bounded(closeReasons, reason)).Inc()
			if errors.Is(cause, engineio.ErrBufferFull) {
				c.overflowOut.Inc()
			}
			c.sessionsMu.Lock()
			t, ok := c.transportOf[conn]
			delete(c.transportOf, conn)
			c.sessionsMu.Unlock()
			if ok {
				c.sessions.WithLabelValues(t).Dec()
			}
		},
		EnginePacketIn: func(_ *engineio.Conn, _ packet.Type, size int) {
			c.engineIn.Add(float64(size))
		},
		EnginePacketOut: func(_ *engineio.Conn, _ packet.Type, size int) {
			c.engineOut.Add(float64(size))
		},
		PacketIn: func(_ *engineio.Conn, p *parser.Packet, size int) {
			c.nsp(p.Namespace).bytesIn.Add(float64(size))
		},
		PacketOut: func(_ *engineio.Conn, p *parser.Packet, size int) {
			n := c.nsp(p.Namespace)
			n.bytesOut.Add(float64(size))
			if p.Type == parser.Event || p.Type == parser.BinaryEvent {
				n.packetEvent(p).sent.Inc()
			}
		},
		SocketConnecting: func(s *socketio.Socket) func(error) {
			n := c.nsp(s.Namespace().Name())
			return func(err error) {
				if err != nil {
					n.refused.Inc()
				}
			}
		},
		SocketConnected: func(s *socketio.Socket) {
			n := c.nsp(s.Namespace().Name())
			n.connects.Inc()
			if s.Recovered() {
				n.recovered.Inc()
			}
		},
		SocketDisconnected: func(s *socketio.Socket, reason string) {
			n := c.nsp(s.Namespace().Name())
			c.disconnects.WithLabelValues(append(append([]string{}, n.labels...), bounded(disconnectReasons, reason))...).Inc()
		},
		EventReceived: func(ctx context.Context, ev *socketio.Event) (context.Context, func(error)) {
			e := c.nsp(ev.Socket().Namespace().Name()).event(ev.Name)
			e.received.Inc()
			start := time.Now()
			return ctx, func(err error) {
				e.duration.Observe(time.Since(start).Seconds())
				if err != nil {
					e.refused.Inc()
				}
			}
		},
		AckSent: func(ev *socketio.Event, latency time.Duration) {
			c.nsp(ev.Socket().Namespace().Name()).ackSent.Observe(latency.Seconds())
		},
		AckReceived: func(s *socketio.Socket, latency time.Duration) {
			c.nsp(s.Namespace().Name()).ackReceived.Observe(latency.Seconds())
		},
		VolatileDropped: func(s *socketio.Socket, _ *parser.Packet) {
			c.nsp(s.Namespace().Name()).volatile.Inc()
		},
		Overflow: func(*socketio.Socket, error) {
			c.overflowIn.Inc()
		},
		AdapterError: func(n *socketio.Namespace, _ error) {
			c.nsp(n.Name()).adapterErrs.Inc()
		},
	}
}

// vecs are the collector's metrics that live between scrapes.
func (c *Collector) vecs() []prom.Collector {
	return []prom.Collector{
		c.connects, c.refused, c.recovered, c.disconnects,
		c.eventsIn, c.eventsOut, c.eventsRefused, c.eventDuration,
		c.bytesIn, c.bytesOut, c.ackSent, c.ackReceived,
		c.volatile, c.adapterErrors, c.overflows,
		c.sessions, c.opened, c.upgrades, c.closes, c.engineIn, c.engineOut,
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prom.Desc) {
	for _, v := range c.vecs() {
		v.Describe(ch)
	}
	ch <- c.connectedDesc
	ch <- c.queueDesc
}

// Collect implements prometheus.Collector. Besides the counters, it reads
// the connected sockets of every namespace and the adapters' publish
// queues (adapter.PublishQueue) at each scrape.
func (c *Collector) Collect(ch chan<- prom.Metric) {
	for _, v := range c.vecs() {
		v.Collect(ch)
	}
	connected := map[*nspMetrics]int{}
	if c.single != nil {
		connected[c.single] = 0
	}
	queue, queued := 0, false
	for _, n := range c.io.Namespaces() {
		connected[c.nsp(n.Name())] += len(n.Sockets())
		if q, ok := n.Adapter().(adapter.PublishQueue); ok {
			queued = true
			queue = max(queue, q.PublishQueueLen())
		}
	}
	for n, count := range connected {
		ch <- prom.MustNewConstMetric(c.connectedDesc, prom.GaugeValue, float64(count), n.labels...)
	}
	if queued {
		ch <- prom.MustNewConstMetric(c.queueDesc, prom.GaugeValue, float64(queue))
	}
}
