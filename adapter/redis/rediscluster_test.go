package redis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// backend is the Redis a test runs on: one server, or a Redis Cluster.
type backend struct {
	client goredis.UniversalClient
	url    string // for the Node servers: redis://host:port or cluster://a,b,c
}

func singleRedis(t *testing.T) backend {
	return backend{client: newClient(t, redisAddr), url: "redis://" + redisAddr}
}

// redisCluster is a Redis Cluster of three masters (no replicas) on free
// ports, started by the first test that needs it and stopped by TestMain.
var redisCluster struct {
	once  sync.Once
	addrs []string
	procs []*redisServer
	dir   string
	err   error
}

func stopRedisCluster() {
	for _, p := range redisCluster.procs {
		p.stop()
	}
	if redisCluster.dir != "" {
		_ = os.RemoveAll(redisCluster.dir)
	}
}

func startRedisCluster() error {
	dir, err := os.MkdirTemp("", "sio-redis-cluster-")
	if err != nil {
		return err
	}
	redisCluster.dir = dir
	for range 3 {
		port, err := freePort()
		if err != nil {
			return err
		}
		cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes-"+port+".conf"),
			"--cluster-node-timeout", "2000", "--dir", dir)
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("redis-server (cluster mode): %w", err)
		}
		s := &redisServer{addr: "127.0.0.1:" + port, cmd: cmd, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(s.done) }()
		redisCluster.procs = append(redisCluster.procs, s)
		redisCluster.addrs = append(redisCluster.addrs, s.addr)
	}
	for _, s := range redisCluster.procs {
		deadline := time.Now().Add(10 * time.Second)
		for ping(s.addr) != nil {
			if time.Now().After(deadline) {
				return fmt.Errorf("redis-server on %s did not answer", s.addr)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	args := append([]string{"--cluster", "create"}, redisCluster.addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("redis-cli --cluster create: %v: %s", err, out)
	}
	// Every node must see the whole cluster before it is used.
	deadline := time.Now().Add(20 * time.Second)
	for _, addr := range redisCluster.addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		for {
			info, err := c.ClusterInfo(context.Background()).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:3") {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Close()
				return fmt.Errorf("the Redis Cluster did not become ready: %q %v", info, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = c.Close()
	}
	return nil
}

// clusterRedis starts the Redis Cluster (once) and returns a backend on it.
func clusterRedis(t *testing.T) backend {
	t.Helper()
	redisCluster.once.Do(func() { redisCluster.err = startRedisCluster() })
	if redisCluster.err != nil {
		t.Fatalf("the Redis Cluster tests need redis-server and redis-cli (apt-get install redis-server): %v", redisCluster.err)
	}
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: redisCluster.addrs, DialTimeout: time.Second,
		MinRetryBackoff: 20 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return backend{client: c, url: "cluster://" + strings.Join(redisCluster.addrs, ",")}
}

// Every adapter works on a Redis Cluster: two Go servers, every cluster
// operation across them.
func TestRedisClusterTwoGoNodes(t *testing.T) {
	t.Parallel()
	be := clusterRedis(t)
	forProtocols(t, func(t *testing.T, proto string) { testTwoGoNodesOn(t, be, proto) })
}

// A Go server and a Node server (official adapters on node-redis's
// cluster client) share one Redis Cluster.
func TestRedisClusterMixed(t *testing.T) {
	t.Parallel()
	be := clusterRedis(t)
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			testMixedClusterOn(t, be, proto)
		})
	}
}
