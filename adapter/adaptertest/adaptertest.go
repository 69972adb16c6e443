// Package adaptertest is the conformance suite of Socket.IO adapters: any
// adapter.Factory, the in-memory one or a network adapter in its own module,
// runs it from its tests in a few lines and is exercised the way an
// application uses it, through the public API of the socketio package and
// real clients (the project's Go client), on one server and on a cluster of
// several:
//
//	func TestConformance(t *testing.T) {
//		adaptertest.Run(t, adaptertest.Options{
//			NewNode: func(t testing.TB, cluster string) socketio.Config {
//				return socketio.Config{Adapter: myadapter.New(myadapter.Options{Prefix: cluster})}
//			},
//			Nodes:    3,
//			Recovery: adaptertest.RecoveryAnyNode,
//		})
//	}
//
// Every case gets a cluster of its own (a fresh cluster name), so the cases
// run in parallel without seeing each other's traffic. The cases:
// broadcasts (to all, rooms, except, volatile, local, binary, from a
// socket), broadcasts with acknowledgements (answers gathered across
// servers, the timeout error when some do not answer), fetchSockets (ids,
// rooms, handshake, data), socketsJoin, socketsLeave and disconnectSockets
// reaching remote sockets, serverSideEmit with and without acks, the server
// count, namespaces kept apart, connection state recovery when the adapter
// supports it (also while broadcasts go on), and faults: a server gone, and the broker restarted when the
// adapter's test provides a broker of its own (Options.Faults).
//
// Servers listen on 127.0.0.1 on free ports; everything a case starts is
// stopped by its cleanup, and every wait is bounded.
//
// # Readiness
//
// A case starts once every server counts the others (the server count of
// each namespace). Cluster adapters may also subscribe rooms or learn about
// servers asynchronously, so before a case asserts one delivery it waits
// until probes broadcast the same way arrive (bounded by Options.Wait); the
// case that tests that readiness itself, a broadcast right after
// Socket.Join returns, does not. Events that must not arrive are watched
// for Options.Quiet.
//
// # Faults
//
// A server gone: the suite closes it. The others' broadcasts still reach
// every live client, at once; broadcasts with acks, fetchSockets and
// serverSideEmitWithAck end within their timeouts with every live answer
// (an error is accepted while the gone server may still be counted); once
// the count has dropped, nothing fails or waits for it.
//
// The broker restarted (Options.Faults.Broker): while it is down every
// operation returns within the request timeout (emits within
// Options.MaxEmitBlock), errors are accepted, local delivery goes on and
// clients still connect and join rooms. Once it is back the servers count
// each other again and broadcasts (to rooms made during the outage too),
// requests and room operations work again by themselves. Lost, and
// accepted as lost: what was published during the outage, for the clients
// of the other servers (the case logs who missed it), and the answers of
// requests made meanwhile.
//
// The calls into the socketio API that may change (cluster operations
// taking a context and returning an error, emits that do not block, a
// public server count) are all in one file, api.go.
package adaptertest

import (
	"fmt"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// Recovery is the connection state recovery an adapter supports.
type Recovery int

const (
	// NoRecovery: the recovery cases are not run.
	NoRecovery Recovery = iota
	// RecoveryLocal: a client that comes back to the server that kept its
	// session recovers it, with the events broadcast meanwhile from any
	// server of the cluster.
	RecoveryLocal
	// RecoveryAnyNode: RecoveryLocal, and a client also recovers on another
	// server of the cluster (the session is shared through the broker).
	RecoveryAnyNode
)

// String names the level.
func (r Recovery) String() string {
	switch r {
	case NoRecovery:
		return "none"
	case RecoveryLocal:
		return "local"
	case RecoveryAnyNode:
		return "any node"
	}
	return fmt.Sprintf("Recovery(%d)", int(r))
}

// NodeFunc returns the configuration of one more server of the cluster
// named cluster. All the servers of a case are made with the same name and
// must share their broadcasts; servers of other names must not see them
// (use the name as key prefix, channel or stream name). The suite installs
// its own handlers and sets ConnectionStateRecovery in the recovery cases
// (it leaves it nil elsewhere); the other fields (Adapter above all) are
// the adapter test's. Resources opened for the node are released with
// t.Cleanup; the suite closes the server before.
type NodeFunc func(t testing.TB, cluster string) socketio.Config

// Broker is a broker (Redis server, database, message bus) of the test's
// own, which the suite stops and starts again.
type Broker struct {
	// NewNode makes a server that uses this broker.
	NewNode NodeFunc
	// Stop stops the broker (abruptly, as a crash would).
	Stop func(t testing.TB)
	// Start starts it again at the same address, empty, and returns once
	// it accepts connections.
	Start func(t testing.TB)
}

// Faults configures the fault cases. The "node gone" case runs for every
// clustered adapter: the suite closes one server.
type Faults struct {
	// Broker, when set, runs the broker-restart case: it is called once
	// and returns a broker of the case's own.
	Broker func(t testing.TB) Broker
}

// Options configure Run.
type Options struct {
	// NewNode makes the servers of the cases. Required.
	NewNode NodeFunc
	// Nodes is the number of servers of the cluster cases. 0 or 1 runs the
	// single-server cases only: for local adapters such as the in-memory
	// one. A clustered adapter runs every case on one server and on Nodes
	// servers (3 is a good choice: one origin, two remotes).
	Nodes int
	// Recovery is the connection state recovery the adapter supports.
	Recovery Recovery
	// RequestTimeout is the adapter's bound for requests that wait for
	// other servers (fetchSockets, serverSideEmitWithAck, acks without a
	// timeout), as NewNode configures it; keep it short (1-2 s) so the
	// cases that wait for it stay short. Operations involving a server that
	// does not answer must end within it (plus slack). Default 5 s.
	RequestTimeout time.Duration
	// MaxEmitBlock is the longest an Emit may take while the broker is
	// down (the broker-restart case). Default RequestTimeout: the time a
	// publish may wait for the broker. An adapter whose emits never block
	// on the network (they queue their publishes) sets a short bound.
	MaxEmitBlock time.Duration
	// HeartbeatTimeout is how long the other servers keep counting a
	// server that is gone; 0 when the count drops as soon as it closes (as
	// with Redis PUBSUB NUMSUB).
	HeartbeatTimeout time.Duration
	// UnorderedRooms says that broadcasts to different rooms may reach a
	// server in another order than they were emitted (Redis Cluster with
	// sharded pub/sub: each room's channel lives on the node owning its
	// slot). The recovery cases then accept the missed events in any
	// order; each must still come exactly once.
	UnorderedRooms bool
	// Faults configures the fault cases.
	Faults Faults
	// Wait bounds every wait for something expected (an event, a room
	// membership, a server count). Default 5 s.
	Wait time.Duration
	// Quiet is how long the suite watches for events that must not arrive
	// (duplicates, events outside the selection). Default 250 ms.
	Quiet time.Duration
}

// Defaults of Options.
const (
	DefaultRequestTimeout = 5 * time.Second
	DefaultWait           = 5 * time.Second
	DefaultQuiet          = 250 * time.Millisecond
)

// slack is added to every time bound the suite asserts: the race detector
// and a loaded machine make everything slower. emitSlack is the slack of
// MaxEmitBlock, which may be short.
const (
	slack     = 2 * time.Second
	emitSlack = 250 * time.Millisecond
)

func (o Options) withDefaults() Options {
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.MaxEmitBlock <= 0 {
		o.MaxEmitBlock = o.RequestTimeout
	}
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.Quiet <= 0 {
		o.Quiet = DefaultQuiet
	}
	if o.Nodes < 1 {
		o.Nodes = 1
	}
	return o
}

// scope tells where a case runs.
type scope int

const (
	anyScope     scope = iota // on one server and on a cluster
	clusterScope              // only on a cluster
)

// testCase is one case of the suite, run on n servers.
type testCase struct {
	name  string
	scope scope
	// needs reports whether the adapter supports what the case tests;
	// nil: always.
	needs func(o Options) bool
	run   func(t *testing.T, e *env)
}

// cases lists the suite. The order is the report's.
var cases = []testCase{
	{name: "broadcast/all", run: testBroadcastAll},
	{name: "broadcast/rooms", run: testBroadcastRooms},
	{name: "broadcast/except", run: testBroadcastExcept},
	{name: "broadcast/volatile", run: testBroadcastVolatile},
	{name: "broadcast/local", run: testBroadcastLocal},
	{name: "broadcast/binary", run: testBroadcastBinary},
	{name: "broadcast/from-socket", run: testBroadcastFromSocket},
	{name: "broadcast/right-after-join", run: testBroadcastAfterJoin},
	{name: "ack/all", run: testAckAll},
	{name: "ack/rooms", run: testAckRooms},
	{name: "ack/local", run: testAckLocal},
	{name: "ack/timeout", run: testAckTimeout},
	{name: "ack/nobody", run: testAckNobody},
	{name: "fetch/sockets", run: testFetchSockets},
	{name: "fetch/remote-socket", run: testFetchRemoteSocket},
	{name: "rooms/sockets-join-leave", run: testSocketsJoinLeave},
	{name: "rooms/disconnect", run: testDisconnectSockets},
	{name: "rooms/disconnect-close", run: testDisconnectSocketsClose},
	{name: "server-side/emit", run: testServerSideEmit},
	{name: "server-side/ack", run: testServerSideEmitAck},
	{name: "server-side/ack-timeout", scope: clusterScope, run: testServerSideEmitAckTimeout},
	{name: "server-count", run: testServerCount},
	{name: "namespaces/static", run: testNamespaces},
	{name: "namespaces/dynamic", run: testDynamicNamespaces},
	{name: "recovery/same-node", needs: func(o Options) bool { return o.Recovery >= RecoveryLocal }, run: testRecoverySameNode},
	{name: "recovery/other-node", scope: clusterScope, needs: func(o Options) bool { return o.Recovery >= RecoveryAnyNode }, run: testRecoveryOtherNode},
	{name: "recovery/steady-broadcast", needs: func(o Options) bool { return o.Recovery >= RecoveryLocal }, run: testRecoverySteady},
	{name: "faults/node-gone", scope: clusterScope, run: testNodeGone},
	{name: "faults/broker-restart", scope: clusterScope, needs: func(o Options) bool { return o.Faults.Broker != nil }, run: testBrokerRestart},
}

// Run runs the suite: every case on one server, then, when o.Nodes > 1,
// every case on o.Nodes servers. Cases run in parallel (see go test
// -parallel); each builds its own cluster.
func Run(t *testing.T, o Options) {
	t.Helper()
	if o.NewNode == nil {
		t.Fatal("adaptertest: Options.NewNode is required")
	}
	o = o.withDefaults()
	sizes := []int{1}
	if o.Nodes > 1 {
		sizes = append(sizes, o.Nodes)
	}
	for _, n := range sizes {
		t.Run(fmt.Sprintf("nodes=%d", n), func(t *testing.T) {
			t.Parallel()
			var left []string
			for _, c := range cases {
				if c.scope == clusterScope && n < 2 {
					continue
				}
				if c.needs != nil && !c.needs(o) {
					left = append(left, c.name)
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, &env{o: o, nodes: n})
				})
			}
			if len(left) > 0 {
				t.Logf("not run, the adapter does not support them (recovery %s, broker faults %v): %v",
					o.Recovery, o.Faults.Broker != nil, left)
			}
		})
	}
}
