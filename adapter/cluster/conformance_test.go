package cluster_test

import (
	"sync"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/adaptertest"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/adapter/cluster/clustertest"
)

// The cluster adapter passes the conformance suite over the in-process
// broker: servers counted with heartbeats (the transport counts nothing),
// sessions kept locally; the broker-restart case fails it for a while.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	brokers := map[string]*clustertest.Broker{}
	broker := func(name string) *clustertest.Broker {
		mu.Lock()
		defer mu.Unlock()
		if brokers[name] == nil {
			brokers[name] = clustertest.New()
		}
		return brokers[name]
	}
	opts := cluster.Options{RequestsTimeout: 1500 * time.Millisecond, HeartbeatInterval: 100 * time.Millisecond,
		HeartbeatTimeout: 500 * time.Millisecond}
	adaptertest.Run(t, adaptertest.Options{
		NewNode: func(_ testing.TB, name string) socketio.Config {
			return socketio.Config{Adapter: broker(name).Factory(opts)}
		},
		Nodes:            3,
		Recovery:         adaptertest.RecoveryLocal,
		RequestTimeout:   opts.RequestsTimeout,
		HeartbeatTimeout: opts.HeartbeatTimeout,
		MaxEmitBlock:     50 * time.Millisecond,
		Faults: adaptertest.Faults{Broker: func(testing.TB) adaptertest.Broker {
			b := clustertest.New()
			return adaptertest.Broker{
				NewNode: func(testing.TB, string) socketio.Config { return socketio.Config{Adapter: b.Factory(opts)} },
				Stop:    func(testing.TB) { b.Fail(true) },
				Start:   func(testing.TB) { b.Fail(false) },
			}
		}},
	})
}
