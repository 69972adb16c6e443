// Package nats is a Socket.IO adapter over NATS: the servers of a cluster
// share broadcasts, rooms and requests through a NATS server (or a NATS
// cluster), with socket.io-adapter's ClusterAdapter protocol written in
// adapter/cluster. No Node adapter exists for NATS, so the subject layout
// is this package's own; the messages are those of Node's ClusterAdapter.
//
//	io, err := socketio.NewServer(socketio.Config{
//		Adapter: natsadapter.NewAdapter(nc, natsadapter.Options{}),
//	})
//
// # Subjects
//
// For the prefix P (Options.Prefix, "socket.io") and a namespace whose
// Token is T (the name with every byte outside [A-Za-z0-9-] written as '_'
// and two hex digits: "/" is "_2F", "/chat" is "_2Fchat"):
//
//	P.T.broadcast  broadcasts without acks, socketsJoin, socketsLeave, disconnectSockets
//	P.T.request    fetchSockets, serverSideEmit, broadcasts with acks, heartbeats, adapter close
//	P.T.<uid>      answers to the server uid (fetch results, acks, client counts)
//
// Payloads are cluster.Message.Encode bytes: JSON, or msgpack when the
// message carries binary. Each message also names its namespace, which the
// receiver checks. Servers are counted with heartbeats on P.T.request.
//
// # Core mode
//
// Plain publish/subscribe: at most once. All the subscriptions of a server
// feed one queue read by one goroutine, so the messages of one server reach
// another in the order they were published. While a server's connection is
// down, nats.go reconnects and subscribes again by itself; what the others
// published meanwhile is lost for it, and what it published is buffered by
// nats.go (its ReconnectBufSize) or dropped. Answers to requests made
// meanwhile are lost: the requests end with their timeout.
//
// # JetStream mode
//
// Options.JetStream: the P.T.broadcast subjects are the subjects of a
// stream (Options.Stream, created if absent, bounded by MaxMsgs and
// MaxAge; old messages are discarded first). Each server reads it with one
// ephemeral consumer for all its namespaces, from the sequence after the
// last one it read: a server whose connection dropped, or whose consumer
// was lost, resumes where it was and misses nothing that is still in the
// stream. A stream created anew (a NATS server that restarted without its
// store) is read from its start. Requests and answers stay on core
// subjects, at most once, and the order between the two paths is not kept:
// a broadcast with acks (core) may overtake a plain broadcast (stream)
// published just before it, as with Redis Streams.
//
// The stream sequence of a broadcast is its connection state recovery
// offset, and the session of a disconnected socket is kept in a KV bucket
// (Options.SessionBucket; key: the Token of its private id; value: msgpack
// {sid, pid, nsp, rooms, data, expires}), so a client recovers its session
// and the broadcasts it missed on any server of the cluster. A session is
// taken out of the bucket by the server that restores it (a delete on its
// revision: one server only), and ignored once expired. The missed
// broadcasts are read after the socket has joined its rooms, so that none
// published meanwhile is lost (see adapter.SessionRestorer).
//
// JetStream needs nats-server 2.9 or later with JetStream enabled (-js).
package nats
