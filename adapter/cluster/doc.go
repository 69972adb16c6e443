// Package cluster is socket.io-adapter's ClusterAdapter protocol, written
// once for every network adapter: the 13 message types, request ids and
// their answers, the relay of broadcast acks, heartbeats, fetchSockets,
// server-side emits, and the bounded publish queue that keeps emits from
// ever waiting on the broker.
//
// A backend supplies a Transport, a narrow byte pipe between the servers
// of one cluster (publish to all, publish to one, subscribe a namespace,
// close), and Factory turns it into an adapter.Factory for
// socketio.Config.Adapter. One transport serves every namespace of a
// server. Optional interfaces let a transport count servers itself
// (ServerCounter; otherwise heartbeats count them), give rooms their own
// channels (RoomSubscriber) and keep sessions for connection state
// recovery across servers (SessionStore).
//
// Messages are encoded as Node's adapters encode them (Message.Encode:
// JSON, or msgpack when they carry binary), so a transport that moves the
// bytes faithfully interoperates with the Node adapter of the same broker.
// The Redis sharded and Streams adapters (adapter/redis) are transports of
// this package; clustertest is an in-process broker for tests.
package cluster
