package admin

import (
	"sync"
	"time"

	"github.com/gosio/socketio/engineio"
)

// processStart stands for the process's start (Node's process.uptime()):
// package variables are set before main runs.
var processStart = time.Now()

// statsBase is what a server's statistics always carry.
type statsBase struct {
	ServerID string `json:"serverId"`
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
}

// ServerStats is the payload of server_stats, broadcast by each server
// every Options.StatsInterval.
type ServerStats struct {
	// ServerID is Options.ServerID: the UI lists its servers by it.
	ServerID string `json:"serverId"`
	// Hostname is the host's name, and PID the process's id.
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
	// Uptime is in seconds, with a fraction, since the process started.
	Uptime float64 `json:"uptime"`
	// ClientsCount is the number of Engine.IO connections, the UI's own
	// included.
	ClientsCount int `json:"clientsCount"`
	// PollingClientsCount is the number of connections opened with
	// polling that have not upgraded (nor closed) yet.
	PollingClientsCount int `json:"pollingClientsCount"`
	// AggregatedEvents are the counts since the previous statistics.
	AggregatedEvents []AggregatedEvent `json:"aggregatedEvents"`
	// Namespaces lists every namespace with its sockets on this server.
	Namespaces []NamespaceStats `json:"namespaces"`
}

// AggregatedEvent counts one kind of event during one second.
type AggregatedEvent struct {
	// Timestamp is the second, in milliseconds since the Unix epoch.
	Timestamp int64 `json:"timestamp"`
	// Type is rawConnection, rawDisconnection, packetsIn, packetsOut,
	// bytesIn or bytesOut.
	Type string `json:"type"`
	// SubType is the close reason of a rawDisconnection.
	SubType string `json:"subType,omitempty"`
	// Count is the number of events, or of bytes.
	Count int `json:"count"`
}

// NamespaceStats is a namespace and its number of sockets on the server.
type NamespaceStats struct {
	// Name is the namespace's name.
	Name string `json:"name"`
	// SocketsCount is the number of its sockets on this server.
	SocketsCount int `json:"socketsCount"`
}

// Aggregated event types.
const (
	evRawConnection    = "rawConnection"
	evRawDisconnection = "rawDisconnection"
	evPacketsIn        = "packetsIn"
	evPacketsOut       = "packetsOut"
	evBytesIn          = "bytesIn"
	evBytesOut         = "bytesOut"
)

// eventBuffer aggregates events per second until the next statistics.
type eventBuffer struct {
	mu     sync.Mutex
	index  map[bufKey]int // -> position in events, which keeps the order of arrival
	events []AggregatedEvent
}

type bufKey struct {
	sec          int64
	typ, subType string
}

// add counts n events of a type (and sub-type) at t.
func (b *eventBuffer) add(t time.Time, typ, subType string, n int) {
	sec := t.UnixMilli() / 1000 * 1000
	k := bufKey{sec, typ, subType}
	b.mu.Lock()
	if i, ok := b.index[k]; ok {
		b.events[i].Count += n
	} else {
		if b.index == nil {
			b.index = make(map[bufKey]int)
		}
		b.index[k] = len(b.events)
		b.events = append(b.events, AggregatedEvent{Timestamp: sec, Type: typ, SubType: subType, Count: n})
	}
	b.mu.Unlock()
}

// addPackets counts one packet of size bytes, in or out.
func (b *eventBuffer) addPackets(t time.Time, in bool, size int) {
	if in {
		b.add(t, evPacketsIn, "", 1)
		b.add(t, evBytesIn, "", size)
		return
	}
	b.add(t, evPacketsOut, "", 1)
	b.add(t, evBytesOut, "", size)
}

// drain returns the events aggregated so far (never nil) and forgets
// them.
func (b *eventBuffer) drain() []AggregatedEvent {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.events
	if out == nil {
		out = []AggregatedEvent{}
	}
	b.events = nil
	clear(b.index)
	return out
}

// pollingConns are the connections opened with polling that have not
// upgraded or closed.
type pollingConns struct {
	mu    sync.Mutex
	conns map[*engineio.Conn]struct{}
}

func (p *pollingConns) add(c *engineio.Conn) {
	p.mu.Lock()
	if p.conns == nil {
		p.conns = make(map[*engineio.Conn]struct{})
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
}

func (p *pollingConns) remove(c *engineio.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *pollingConns) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

func (p *pollingConns) reset() {
	p.mu.Lock()
	clear(p.conns)
	p.mu.Unlock()
}

// stats returns the server's statistics now, draining the aggregated
// events.
func (in *Instrumentation) stats() ServerStats {
	nsps := in.io.Namespaces()
	ns := make([]NamespaceStats, 0, len(nsps))
	for _, n := range nsps {
		ns = append(ns, NamespaceStats{Name: n.Name(), SocketsCount: len(n.Sockets())})
	}
	return ServerStats{
		ServerID:            in.base.ServerID,
		Hostname:            in.base.Hostname,
		PID:                 in.base.PID,
		Uptime:              time.Since(processStart).Seconds(),
		ClientsCount:        in.io.Engine().Count(),
		PollingClientsCount: in.polling.count(),
		AggregatedEvents:    in.events.drain(),
		Namespaces:          ns,
	}
}

// emitStats broadcasts the statistics to the admin namespace.
func (in *Instrumentation) emitStats() {
	if in.closed.Load() {
		return
	}
	in.broadcast("server_stats", in.stats())
}
