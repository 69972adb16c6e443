// Package postgres is a Socket.IO adapter over PostgreSQL LISTEN/NOTIFY,
// wire-compatible with Node's @socket.io/postgres-adapter (0.5): Go and
// Node servers on one database form one cluster. It also has an Emitter,
// compatible with @socket.io/postgres-emitter, for processes that only
// send.
//
// The cluster protocol (message types, requests and their answers,
// heartbeats and the server count) is adapter/cluster's; this package is
// its transport:
//
//   - one channel per namespace, ChannelPrefix + "#" + namespace
//     ("socket.io#/" by default), carrying everything: broadcasts,
//     requests, answers and heartbeats;
//   - each message is a JSON NOTIFY payload, unless it carries binary
//     values (broadcasts, server-side emits and their answers, broadcast
//     acks) or its JSON is longer than PayloadThreshold bytes: then the
//     whole message is stored in msgpack in the attachments table and the
//     NOTIFY carries {"uid","type","attachmentId"} only;
//   - one dedicated LISTEN connection per server for all its namespaces
//     (re-established with backoff, every channel LISTENed again), and
//     publications through the pool;
//   - every server deletes attachment rows older than CleanupInterval,
//     every CleanupInterval, as Node's does.
//
// PostgreSQL delivers a notification to the sessions listening when it is
// committed and keeps nothing: a server whose LISTEN connection is down
// misses what is sent meanwhile. Connection state recovery is kept in
// each server's memory (a client must come back to the same server).
package postgres
