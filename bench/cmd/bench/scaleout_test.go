package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestClusteredSpec(t *testing.T) {
	tests := []struct {
		name     string
		spec     serverSpec
		wantArgv []string
		wantEnv  []string
	}{
		{
			name:     "Go gets flags",
			spec:     serverSpec{name: "Go", argv: []string{"/bin/goserver"}},
			wantArgv: []string{"/bin/goserver", "-redis", "127.0.0.1:7000", "-adapter", "classic"},
		},
		{
			name:     "Node gets environment variables",
			spec:     serverSpec{name: "Node", argv: []string{"node", "--expose-gc", "server.mjs"}, dir: "node"},
			wantArgv: []string{"node", "--expose-gc", "server.mjs"},
			wantEnv:  []string{"BENCH_REDIS=127.0.0.1:7000", "BENCH_ADAPTER=classic"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv0 := slices.Clone(tt.spec.argv)
			got := tt.spec.clustered("127.0.0.1:7000", "classic")
			if !slices.Equal(got.argv, tt.wantArgv) || !slices.Equal(got.env, tt.wantEnv) {
				t.Fatalf("argv %q env %q, want %q %q", got.argv, got.env, tt.wantArgv, tt.wantEnv)
			}
			if !slices.Equal(tt.spec.argv, argv0) {
				t.Fatalf("the original spec changed: %q", tt.spec.argv)
			}
			if got.dir != tt.spec.dir {
				t.Fatalf("dir %q, want %q", got.dir, tt.spec.dir)
			}
		})
	}
}

// TestScaleoutGoCluster runs the scenario's code on a small Go cluster
// (two goserver processes on a redis-server of its own), with both
// adapters: every client of both servers must get every event of the
// bursts emitted on server 0.
func TestScaleoutGoCluster(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("this test builds bench/cmd/goserver and needs the go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "goserver")
	if out, err := exec.Command(goBin, "build", "-o", bin, "../goserver").CombinedOutput(); err != nil {
		t.Fatalf("go build ../goserver: %v\n%s", err, out)
	}
	e := &env{d: &dialer{n: 4}, gobin: bin}
	cleanup, err := e.startRedis()
	if err != nil {
		t.Fatalf("%v (the scale-out scenario needs redis-server 7+)", err)
	}
	defer cleanup()
	if !strings.Contains(e.redisDesc, "redis-server 7") && !strings.Contains(e.redisDesc, "redis-server 8") {
		t.Errorf("description %q lacks the Redis version", e.redisDesc)
	}
	for _, adapterName := range []string{"sharded", "classic"} {
		t.Run(adapterName, func(t *testing.T) {
			e.adapter = adapterName
			const k, n, msgs = 2, 40, 5
			ms, err := e.scaleoutK(serverSpec{name: "Go", argv: []string{bin}}, k, n, msgs, 100, 2)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"deliveries/s", "emit loop (ms)", "server CPU per 1M deliveries (s)",
				"CPU of the emitting server (ms)", "CPU of each other server (ms)", "CPU of Redis (ms)"}
			if len(ms) != len(want) {
				t.Fatalf("%d measures, want %d: %+v", len(ms), len(want), ms)
			}
			for i, m := range ms {
				if m.Metric != want[i] || m.Case != "K=2, 40 clients, 5 × 100 B" {
					t.Errorf("measure %d: %q %q", i, m.Case, m.Metric)
				}
				if math.IsNaN(m.Value) || m.Value < 0 {
					t.Errorf("%s: %v", m.Metric, m.Value)
				}
			}
			if ms[0].Value <= 0 || ms[0].Use.Wall <= 0 {
				t.Errorf("deliveries/s %v over %v", ms[0].Value, ms[0].Use.Wall)
			}
		})
	}
}

func TestRedisStops(t *testing.T) {
	r, err := startRedis()
	if err != nil {
		t.Fatalf("%v (the scale-out scenario needs redis-server 7+)", err)
	}
	addr, dir := r.addr, r.dir
	r.stop()
	if err := redisPing(addr); err == nil {
		t.Fatalf("redis-server on %s still answers after stop", addr)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s left behind", dir)
	}
}
