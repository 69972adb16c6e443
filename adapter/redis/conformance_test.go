package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/adaptertest"
	redisadapter "github.com/gosio/socketio/adapter/redis"
)

// conformanceTimeout is the adapters' RequestsTimeout in the conformance
// suite: short, so that the cases waiting for a silent server stay short.
const conformanceTimeout = 1500 * time.Millisecond

// conformanceFactory returns the adapter of proto ("classic", "sharded",
// "streams") on client, with the cluster name as key prefix (and stream).
func conformanceFactory(t testing.TB, client goredis.UniversalClient, proto, cluster string) adapter.Factory {
	switch proto {
	case "classic":
		return redisadapter.NewAdapter(client, redisadapter.Options{Key: cluster, RequestsTimeout: conformanceTimeout, Logger: testLogger()})
	case "sharded":
		return redisadapter.NewShardedAdapter(client, redisadapter.ShardedOptions{ChannelPrefix: cluster,
			RequestsTimeout: conformanceTimeout, Logger: testLogger()})
	case "streams":
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = client.Del(ctx, cluster).Err()
		})
		return redisadapter.NewStreamsAdapter(client, redisadapter.StreamsOptions{StreamName: cluster, ChannelPrefix: cluster,
			RequestsTimeout: conformanceTimeout, BlockTime: 200 * time.Millisecond, Logger: testLogger()})
	}
	t.Fatalf("unknown protocol %q", proto)
	return nil
}

// conformanceClient is a Redis client that reconnects fast, closed by the
// test's cleanup.
func conformanceClient(t testing.TB, addr string) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
		MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The classic, sharded and Streams adapters pass the conformance suite,
// on one server and on three, against the shared Redis and, for the
// broker-restart case, a redis-server of the case's own.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		proto    string
		recovery adaptertest.Recovery
	}{
		{"classic", adaptertest.RecoveryLocal},
		{"sharded", adaptertest.RecoveryLocal},
		{"streams", adaptertest.RecoveryAnyNode},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			t.Parallel()
			adaptertest.Run(t, adaptertest.Options{
				NewNode: func(t testing.TB, cluster string) socketio.Config {
					return socketio.Config{Adapter: conformanceFactory(t, conformanceClient(t, redisAddr), tc.proto, cluster)}
				},
				Nodes:          3,
				Recovery:       tc.recovery,
				RequestTimeout: conformanceTimeout,
				// Emits queue their publications: they never wait on Redis.
				MaxEmitBlock: 50 * time.Millisecond,
				Faults: adaptertest.Faults{Broker: func(t testing.TB) adaptertest.Broker {
					srv, err := startRedis("")
					if err != nil {
						t.Fatalf("the broker-restart case starts its own redis-server: %v", err)
					}
					port := srv.addr[len("127.0.0.1:"):]
					t.Cleanup(func() { srv.stop() })
					return adaptertest.Broker{
						NewNode: func(t testing.TB, cluster string) socketio.Config {
							return socketio.Config{Adapter: conformanceFactory(t, conformanceClient(t, srv.addr), tc.proto, cluster)}
						},
						Stop: func(testing.TB) { srv.stop() },
						Start: func(t testing.TB) {
							s, err := startRedis(port)
							if err != nil {
								t.Fatalf("restart redis-server on %s: %v", port, err)
							}
							srv = s
						},
					}
				}},
			})
		})
	}
}

// The three adapters pass the conformance suite on a Redis Cluster (three
// masters), on one server and on three (no broker-restart case: the
// cluster's nodes are shared by the package's tests).
func TestConformanceRedisCluster(t *testing.T) {
	be := clusterRedis(t)
	for _, tc := range []struct {
		proto    string
		recovery adaptertest.Recovery
	}{
		{"classic", adaptertest.RecoveryLocal},
		{"sharded", adaptertest.RecoveryLocal},
		{"streams", adaptertest.RecoveryAnyNode},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			t.Parallel()
			adaptertest.Run(t, adaptertest.Options{
				NewNode: func(t testing.TB, cluster string) socketio.Config {
					return socketio.Config{Adapter: conformanceFactory(t, be.client, tc.proto, cluster)}
				},
				Nodes:          3,
				Recovery:       tc.recovery,
				RequestTimeout: conformanceTimeout,
				MaxEmitBlock:   50 * time.Millisecond,
				// A room's shard channel lives on the node of its slot.
				UnorderedRooms: tc.proto == "sharded",
			})
		})
	}
}
