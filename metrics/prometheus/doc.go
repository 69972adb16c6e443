// Package prometheus exports the metrics of a Socket.IO server
// (github.com/gosio/socketio) to Prometheus, through the server's Observer:
// connections, sockets, events, bytes, acknowledgements with their latency,
// drops, overflows and adapter errors. It is a module of its own, so that
// the server does not depend on client_golang.
//
//	io, _ := socketio.NewServer(socketio.Config{})
//	if _, err := sioprom.New(io, sioprom.Options{Registerer: prometheus.DefaultRegisterer}); err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("/metrics", promhttp.Handler())
//
// # Metrics
//
// Every name starts with socketio_. [namespace] marks the metrics that get
// a "namespace" label when Options.NamespaceLabel is set, [event] those
// that get an "event" label when Options.EventLabel is set. Histograms
// (_seconds) have the usual _bucket, _sum and _count series: their _count
// is the number of acknowledgements or events.
//
//	socketio_connected                       gauge     [namespace]         sockets connected now (read at scrape time)
//	socketio_connect_total                   counter   [namespace]         CONNECTs accepted
//	socketio_connect_refused_total           counter   [namespace]         CONNECTs refused by a connection middleware (Use)
//	socketio_connect_recovered_total         counter   [namespace]         connections whose state was recovered
//	socketio_disconnect_total                counter   [namespace] reason  sockets disconnected
//	socketio_events_received_total           counter   [namespace] [event] events from clients
//	socketio_events_sent_total               counter   [namespace] [event] events to clients, once per recipient
//	socketio_events_refused_total            counter   [namespace] [event] events refused by a packet middleware (Socket.Use)
//	socketio_event_duration_seconds          histogram [namespace] [event] time in the event's middlewares and handlers
//	socketio_received_bytes_total            counter   [namespace]         bytes of the Socket.IO packets received
//	socketio_transmitted_bytes_total         counter   [namespace]         bytes of the Socket.IO packets sent, per recipient
//	socketio_ack_sent_latency_seconds        histogram [namespace]         from an event's arrival to the server's ack
//	socketio_ack_received_latency_seconds    histogram [namespace]         from the server's request to the client's ack
//	socketio_volatile_dropped_total          counter   [namespace]         volatile packets not sent (connection not ready)
//	socketio_overflow_closes_total           counter   queue               connections closed on a full queue
//	socketio_adapter_errors_total            counter   [namespace]         adapter failures with no caller to report to
//	socketio_adapter_publish_queue_length    gauge                         messages waiting to go to the other servers
//	socketio_engine_sessions                 gauge     transport           open Engine.IO sessions, by current transport
//	socketio_engine_opened_total             counter   transport           sessions opened, by first transport
//	socketio_engine_upgrades_total           counter                       sessions upgraded from polling to WebSocket
//	socketio_engine_closes_total             counter   reason              sessions closed
//	socketio_engine_received_bytes_total     counter                       bytes of the Engine.IO packets received
//	socketio_engine_transmitted_bytes_total  counter                       bytes of the Engine.IO packets sent
//
// Label values:
//
//   - reason of socketio_disconnect_total: Node's disconnect reasons
//     ("client namespace disconnect", "server namespace disconnect",
//     "transport close", "transport error", "ping timeout", "parse error",
//     "forced close", "server shutting down"); of
//     socketio_engine_closes_total: the engine's (engineio.Reason...). Any
//     other reason (an application's own, given to Conn.Abort) is "other".
//   - queue of socketio_overflow_closes_total: "incoming" (a client whose
//     events wait for their handlers past Config.MaxPendingEvents or
//     MaxPendingBytes, see Observer.Overflow) or "outgoing" (a client that
//     does not read what it is sent: its send buffer went past the
//     engine's MaxBufferedBytes, cause engineio.ErrBufferFull).
//   - transport: "polling" or "websocket".
//
// The bytes are those on the wire: a Socket.IO packet's encoding with its
// binary attachments; an Engine.IO packet's, pings and pongs included
// (the Engine.IO counters also count the Socket.IO packets they carry).
// socketio_adapter_publish_queue_length is read at scrape time from the
// namespaces' adapters that implement adapter.PublishQueue (the cluster
// adapters: Redis, PostgreSQL, NATS); they share one queue per server, so
// it is the largest value seen, and absent when no adapter has a queue.
// The socketio_engine_sessions gauge counts the sessions opened after New.
//
// Compared with the npm package socket.io-prometheus (socket_io_ names):
// socket_io_connected, _connect_total, _disconnect_total,
// _events_received_total and _events_sent_total are here with socketio_
// names; its bytes per event are socketio_received_bytes_total and
// socketio_transmitted_bytes_total (per namespace, every packet type); its
// socket_io_errors_total is split by cause (refused connections and
// events, overflows, adapter errors, engine closes by reason).
//
// # Cardinality
//
// By default no metric has a namespace or event label: the set of series
// is fixed, whatever the clients do. A namespace label is safe for a fixed
// set of namespaces; dynamic namespaces (Server.OfRegexp, OfFunc) can have
// one name per user, so map them (Allow, or a function returning the
// parent's pattern). Event names come from the clients, who can send any,
// so EventLabel should return a bounded set (Allow lists the events to
// keep, the others become Other). In every case MaxLabelValues caps the
// distinct values of each label (100 by default, besides Other; new values
// beyond it are counted as Other), and packets addressed to a namespace
// the server does not have are counted as Other without taking a value,
// so clients cannot crowd out the real namespaces.
//
// # Cost
//
// The observer runs on the server's hot paths: PacketOut once per recipient
// of a broadcast. Without labels it is two atomic additions and no
// allocation per recipient; with labels, two lookups in maps of resolved
// series (no lock, no allocation for names already seen). Incoming events
// cost a closure each (the handler timing). BenchmarkPacketOut measures the
// cost per recipient, BenchmarkBroadcast1k a broadcast to 1,000 WebSocket
// clients with and without the collector.
package prometheus
