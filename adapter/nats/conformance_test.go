package nats_test

import (
	"context"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/adaptertest"
	natsadapter "github.com/gosio/socketio/adapter/nats"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The suite's timeouts: short, so that the cases waiting for a silent
// server stay short.
const (
	conformanceTimeout = 1500 * time.Millisecond
	heartbeatInterval  = 200 * time.Millisecond
	heartbeatTimeout   = time.Second
)

// conformanceFactory returns the adapter on a connection to url, the
// cluster name as subject prefix, stream and bucket; the JetStream mode's
// stream and bucket are deleted by the test's cleanup.
func conformanceFactory(t testing.TB, url, cluster string, js bool) adapter.Factory {
	nc := connect(t, url)
	if js {
		t.Cleanup(func() {
			c, err := nats.Connect(url, nats.NoReconnect(), nats.Timeout(time.Second))
			if err != nil {
				return
			}
			defer c.Close()
			j, err := jetstream.New(c)
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = j.DeleteStream(ctx, cluster)
			_ = j.DeleteKeyValue(ctx, cluster+"_sessions")
		})
	}
	return natsadapter.NewAdapter(nc, natsadapter.Options{
		Prefix:            cluster,
		JetStream:         js,
		MemoryStorage:     true,
		RequestsTimeout:   conformanceTimeout,
		HeartbeatInterval: heartbeatInterval,
		HeartbeatTimeout:  heartbeatTimeout,
		Logger:            testLogger(),
	})
}

// Both modes pass the conformance suite, on one server and on three,
// against the shared NATS and, for the broker-restart case, a nats-server
// of the case's own (restarted with an empty store).
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name     string
		js       bool
		recovery adaptertest.Recovery
	}{
		{"core", false, adaptertest.RecoveryLocal},
		{"jetstream", true, adaptertest.RecoveryAnyNode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			adaptertest.Run(t, adaptertest.Options{
				NewNode: func(t testing.TB, cluster string) socketio.Config {
					return socketio.Config{Adapter: conformanceFactory(t, natsURL, cluster, tc.js)}
				},
				Nodes:            3,
				Recovery:         tc.recovery,
				RequestTimeout:   conformanceTimeout,
				HeartbeatTimeout: heartbeatTimeout,
				// Emits queue their publications: they never wait on NATS.
				MaxEmitBlock: 50 * time.Millisecond,
				Faults: adaptertest.Faults{Broker: func(t testing.TB) adaptertest.Broker {
					srv, err := startNATS("")
					if err != nil {
						t.Fatalf("the broker-restart case starts its own nats-server: %v", err)
					}
					url, port := srv.url, srv.port
					t.Cleanup(func() { srv.stop() })
					return adaptertest.Broker{
						NewNode: func(t testing.TB, cluster string) socketio.Config {
							return socketio.Config{Adapter: conformanceFactory(t, url, cluster, tc.js)}
						},
						Stop: func(testing.TB) { srv.stop() },
						Start: func(t testing.TB) {
							s, err := startNATS(port)
							if err != nil {
								t.Fatalf("restart nats-server on %s: %v", port, err)
							}
							srv = s
						},
					}
				}},
			})
		})
	}
}
