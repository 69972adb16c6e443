package postgres_test

import (
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/adaptertest"
	"github.com/gosio/socketio/adapter/postgres"
)

// The adapter passes the conformance suite on one server and on three,
// on the shared PostgreSQL and, for the broker-restart case, behind a
// proxy that cuts every connection to it (the LISTEN connection and the
// pool's) and refuses new ones for the outage.
func TestConformance(t *testing.T) {
	table := postgres.LiveTable(t)
	opts := func(prefix string) postgres.Options {
		return postgres.Options{
			ChannelPrefix:     prefix,
			TableName:         table,
			HeartbeatInterval: 200 * time.Millisecond,
			HeartbeatTimeout:  time.Second,
			RequestsTimeout:   1500 * time.Millisecond,
			ReconnectDelay:    100 * time.Millisecond,
			Logger:            postgres.LiveLogger(),
		}
	}
	adaptertest.Run(t, adaptertest.Options{
		NewNode: func(t testing.TB, cluster string) socketio.Config {
			return socketio.Config{Adapter: postgres.NewAdapter(postgres.NewLivePool(t, postgres.LiveURL(), 3), opts(cluster))}
		},
		Nodes:            3,
		Recovery:         adaptertest.RecoveryLocal,
		RequestTimeout:   1500 * time.Millisecond,
		HeartbeatTimeout: time.Second,
		// Emits queue their publications: they never wait on PostgreSQL.
		MaxEmitBlock: 50 * time.Millisecond,
		Faults: adaptertest.Faults{Broker: func(t testing.TB) adaptertest.Broker {
			p := postgres.NewCutProxy(t)
			return adaptertest.Broker{
				NewNode: func(t testing.TB, cluster string) socketio.Config {
					return socketio.Config{Adapter: postgres.NewAdapter(postgres.NewLivePool(t, p.URL(), 3), opts(cluster))}
				},
				Stop:  func(testing.TB) { p.Cut() },
				Start: func(testing.TB) { p.Restore() },
			}
		}},
	})
}
