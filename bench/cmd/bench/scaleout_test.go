package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestClusteredSpec(t *testing.T) {
	const dsn = "postgres://postgres@127.0.0.1:5432/test"
	goSpec := serverSpec{name: "Go", argv: []string{"/bin/goserver"}}
	nodeSpec := serverSpec{name: "Node", argv: []string{"node", "--expose-gc", "server.mjs"}, dir: "node"}
	pgDSN := dsn + "?application_name=p1"
	tests := []struct {
		name     string
		spec     serverSpec
		bus      *bus
		wantArgv []string
		wantEnv  []string
	}{
		{
			name:     "Go over Redis gets flags",
			spec:     goSpec,
			bus:      redisBus("127.0.0.1:7000", "classic", 1),
			wantArgv: []string{"/bin/goserver", "-redis", "127.0.0.1:7000", "-adapter", "classic"},
		},
		{
			name:     "Node over Redis gets environment variables",
			spec:     nodeSpec,
			bus:      redisBus("127.0.0.1:7000", "classic", 1),
			wantArgv: nodeSpec.argv,
			wantEnv:  []string{"BENCH_REDIS=127.0.0.1:7000", "BENCH_ADAPTER=classic"},
		},
		{
			name:     "Go over PostgreSQL: its own prefix and application_name",
			spec:     goSpec,
			bus:      postgresBus(dsn, nil),
			wantArgv: []string{"/bin/goserver", "-postgres", pgDSN, "-prefix", "p1"},
		},
		{
			name:     "Node over PostgreSQL",
			spec:     nodeSpec,
			bus:      postgresBus(dsn, nil),
			wantArgv: nodeSpec.argv,
			wantEnv:  []string{"BENCH_POSTGRES=" + pgDSN, "BENCH_PREFIX=p1"},
		},
		{
			name:     "Go over core NATS",
			spec:     goSpec,
			bus:      natsBus("nats://127.0.0.1:4222", false, 0, nil),
			wantArgv: []string{"/bin/goserver", "-nats", "nats://127.0.0.1:4222", "-prefix", "p1"},
		},
		{
			name:     "Go over NATS JetStream",
			spec:     goSpec,
			bus:      natsBus("nats://127.0.0.1:4222", true, 0, nil),
			wantArgv: []string{"/bin/goserver", "-nats", "nats://127.0.0.1:4222", "-prefix", "p1", "-nats-jetstream"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv0 := slices.Clone(tt.spec.argv)
			got := tt.spec.clustered(tt.bus, "p1")
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

func TestBusesHaveNode(t *testing.T) {
	for _, tt := range []struct {
		bus  *bus
		node bool
		name string
	}{
		{redisBus("a", "sharded", 1), true, "Redis"},
		{postgresBus("postgres://x/y", nil), true, "PostgreSQL"},
		{natsBus("nats://x", false, 0, nil), false, "NATS"},
	} {
		if tt.bus.node != tt.node || tt.bus.name != tt.name || serviceNames[tt.bus.key] != tt.name {
			t.Errorf("%s: node %v name %q, want %v %q", tt.bus.key, tt.bus.node, tt.bus.name, tt.node, tt.name)
		}
	}
}

func TestParseBuses(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "redis,postgres,nats", want: []string{"redis", "postgres", "nats"}},
		{in: "nats, Redis", want: []string{"redis", "nats"}},
		{in: "postgres,postgres", want: []string{"postgres"}},
		{in: "", wantErr: true},
		{in: "redis,kafka", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseBuses(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("parseBuses(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseKs(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "2", want: []int{2}},
		{in: "1, 2,4", want: []int{1, 2, 4}},
		{in: "0", wantErr: true},
		{in: "9", wantErr: true},
		{in: "2,x", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseKs(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("parseKs(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestScaleoutKs(t *testing.T) {
	e := &env{}
	for _, a := range busKeys {
		if len(e.scaleoutKs(a)) == 0 {
			t.Errorf("%s has no default server counts", a)
		}
	}
	e.so.ks = []int{2}
	if got := e.scaleoutKs("nats"); !slices.Equal(got, []int{2}) {
		t.Errorf("-scaleout-k 2: %v", got)
	}
}

func TestWithAppName(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test?application_name=p"},
		{"postgresql://u@h/db?sslmode=disable", "postgresql://u@h/db?application_name=p&sslmode=disable"},
		{"postgres://u@h/db?application_name=old", "postgres://u@h/db?application_name=p"},
		{"host=127.0.0.1 user=postgres dbname=test", "host=127.0.0.1 user=postgres dbname=test application_name=p"},
	}
	for _, tt := range tests {
		if got := withAppName(tt.dsn, "p"); got != tt.want {
			t.Errorf("withAppName(%q) = %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "localhost": true, "/var/run/postgresql": true,
		"10.0.0.1": false, "db.example.com": false, "": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v", host, got)
		}
	}
}

func TestListenerPID(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	pid, err := listenerPID(port)
	if err != nil || pid != os.Getpid() {
		t.Fatalf("listenerPID(%d) = %d, %v; want this process %d", port, pid, err, os.Getpid())
	}
	ln.Close()
	if pid, err := listenerPID(port); err == nil {
		t.Fatalf("listenerPID(%d) after close = %d, want an error", port, pid)
	}
}

func TestServicesNotAnswering(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if _, _, _, err := connectPostgres("postgres://postgres@" + addr + "/test"); err == nil ||
		!strings.Contains(err.Error(), "PostgreSQL at "+addr+" is not answering") {
		t.Errorf("PostgreSQL on a closed port: %v", err)
	}
	if _, _, _, err := connectNATS("nats://"+addr, false); err == nil ||
		!strings.Contains(err.Error(), "NATS at nats://"+addr+" is not answering") {
		t.Errorf("NATS on a closed port: %v", err)
	}
}

func TestPair(t *testing.T) {
	m := func(c, metric string, v float64) measure { return measure{Case: c, Metric: metric, Value: v} }
	tests := []struct {
		name     string
		g, n     []measure
		wantNode []float64 // NaN: no Node figure
	}{
		{
			name:     "same order",
			g:        []measure{m("a", "x", 1), m("a", "y", 2)},
			n:        []measure{m("a", "x", 10), m("a", "y", 20)},
			wantNode: []float64{10, 20},
		},
		{
			name: "Node lacks the NATS cases",
			g: []measure{m("Redis sharded, K=1", "x", 1), m("PostgreSQL, K=1", "x", 2),
				m("NATS core, K=1", "x", 3)},
			n:        []measure{m("Redis sharded, K=1", "x", 10), m("PostgreSQL, K=1", "x", 20)},
			wantNode: []float64{10, 20, math.NaN()},
		},
		{
			name:     "Node stopped early",
			g:        []measure{m("a", "x", 1), m("b", "x", 2)},
			n:        []measure{m("a", "x", 10)},
			wantNode: []float64{10, math.NaN()},
		},
		{
			name:     "repeated cases pair in order",
			g:        []measure{m("a", "x", 1), m("a", "x", 2)},
			n:        []measure{m("a", "x", 10), m("a", "x", 20)},
			wantNode: []float64{10, 20},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := pair(tt.g, tt.n)
			if len(rows) != len(tt.g) {
				t.Fatalf("%d rows, want %d", len(rows), len(tt.g))
			}
			for i, r := range rows {
				w := tt.wantNode[i]
				if r.Go.Value != tt.g[i].Value || (math.IsNaN(w) != math.IsNaN(r.Node.Value)) || (!math.IsNaN(w) && r.Node.Value != w) {
					t.Errorf("row %d: Go %v Node %v, want %v %v", i, r.Go.Value, r.Node.Value, tt.g[i].Value, w)
				}
			}
		})
	}
}

func TestCaseParts(t *testing.T) {
	for _, tt := range []struct{ c, head, service string }{
		{"Redis sharded, K=2, 10000 clients, 20 × 100 B", "Redis sharded, K=2", "Redis"},
		{"PostgreSQL, K=4, 10000 clients, 20 × 100 B", "PostgreSQL, K=4", "PostgreSQL"},
		{"NATS JetStream, K=1, 400 clients, 20 × 100 B", "NATS JetStream, K=1", "NATS"},
	} {
		if h, s := caseHead(tt.c), serviceOf(tt.c); h != tt.head || s != tt.service {
			t.Errorf("%q: head %q service %q, want %q %q", tt.c, h, s, tt.head, tt.service)
		}
	}
}

func TestScaleoutTitle(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"redis"}, "6. Scale-out over Redis"},
		{[]string{"redis", "nats"}, "6. Scale-out over Redis and NATS"},
		{[]string{"redis", "postgres", "nats"}, "6. Scale-out over Redis, PostgreSQL and NATS"},
	} {
		if got := scaleoutTitle(tt.in); got != tt.want {
			t.Errorf("scaleoutTitle(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestScaleoutNotes(t *testing.T) {
	use := usage{Wall: time.Second, ServerCPU: time.Second, ClientCPU: 500 * time.Millisecond,
		HelperCPU: 100 * time.Millisecond, MachineCPU: 1700 * time.Millisecond}
	nan := measure{Value: math.NaN()}
	rows := []row{
		{Case: "Redis sharded, K=2, 40 clients, 5 × 100 B", Metric: "deliveries/s", Go: measure{Value: 1, Use: use}, Node: measure{Value: 1, Use: use}},
		{Case: "Redis sharded, K=2, 40 clients, 5 × 100 B", Metric: "CPU of each other server (ms)", Go: measure{Value: 99}, Node: nan},
		{Case: "Redis sharded, K=2, 40 clients, 5 × 100 B", Metric: "CPU of Redis (ms)", Go: measure{Value: 3}, Node: measure{Value: 7}},
		{Case: "PostgreSQL, K=2, 40 clients, 5 × 100 B", Metric: "deliveries/s", Go: measure{Value: 1, Use: use}, Node: measure{Value: 1, Use: use}},
		{Case: "PostgreSQL, K=2, 40 clients, 5 × 100 B", Metric: "CPU of PostgreSQL (ms)", Go: measure{Value: math.NaN()}, Node: measure{Value: 4}},
		{Case: "NATS core, K=2, 40 clients, 5 × 100 B", Metric: "deliveries/s", Go: measure{Value: 1, Use: use}, Node: nan},
		{Case: "NATS core, K=2, 40 clients, 5 × 100 B", Metric: "CPU of NATS (ms)", Go: measure{Value: 12}, Node: nan},
	}
	notes := scaleoutNotes(rows)
	if len(notes) != 2 {
		t.Fatalf("%d notes, want 2: %q", len(notes), notes)
	}
	for _, want := range []string{"Redis 7.00 ms, PostgreSQL 4.00 ms, NATS 12.0 ms"} {
		if !strings.Contains(notes[0], want) {
			t.Errorf("note %q lacks %q", notes[0], want)
		}
	}
	for _, want := range []string{"Redis sharded, K=2: Go 1.70 (servers 1.00, load tool 0.50, Redis 0.10",
		"PostgreSQL, K=2: Go 1.70 (servers 1.00, load tool 0.50, PostgreSQL 0.10",
		"NATS core, K=2: Go 1.70 (servers 1.00, load tool 0.50, NATS 0.10"} {
		if !strings.Contains(notes[1], want) {
			t.Errorf("note %q lacks %q", notes[1], want)
		}
	}
	if strings.Contains(notes[1], "NATS core, K=2: Go 1.70 (servers 1.00, load tool 0.50, NATS 0.10, the rest 0.10); Node") {
		t.Errorf("a Node figure for NATS: %q", notes[1])
	}
}

// buildGoserver builds bench/cmd/goserver for the tests.
func buildGoserver(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("this test builds bench/cmd/goserver and needs the go command on PATH")
	}
	bin := filepath.Join(t.TempDir(), "goserver")
	if out, err := exec.Command(goBin, "build", "-o", bin, "../goserver").CombinedOutput(); err != nil {
		t.Fatalf("go build ../goserver: %v\n%s", err, out)
	}
	return bin
}

// servicesEnv returns an env with the adapters' services connected and
// their buses built (a redis-server of its own; the machine's PostgreSQL
// and NATS).
func servicesEnv(t *testing.T, bin string, so scaleoutConf) *env {
	t.Helper()
	if so.pgDSN == "" {
		so.pgDSN = "postgres://postgres@127.0.0.1:5432/test"
	}
	if so.natsURL == "" {
		so.natsURL = "nats://127.0.0.1:4222"
	}
	if so.redisKind == "" {
		so.redisKind = "sharded"
	}
	e := &env{d: &dialer{n: 4}, gobin: bin, nodeDir: "../../node", so: so, serviceDesc: map[string]string{}}
	closeServices, err := e.connectServices()
	if err != nil {
		t.Fatalf("%v (the scale-out scenario needs PostgreSQL at 127.0.0.1:5432 and NATS at 127.0.0.1:4222)", err)
	}
	t.Cleanup(closeServices)
	stop, err := e.startBuses()
	if err != nil {
		t.Fatalf("%v (the scale-out scenario needs redis-server 7+)", err)
	}
	t.Cleanup(stop)
	if e.busErr != "" {
		t.Fatal(e.busErr)
	}
	return e
}

// checkScaleout checks the measures of one small cluster over b.
func checkScaleout(t *testing.T, ms []measure, b *bus) {
	t.Helper()
	want := []string{"deliveries/s", "emit loop (ms)", "server CPU per 1M deliveries (s)",
		"CPU of the emitting server (ms)", "CPU of each other server (ms)", "CPU of " + b.name + " (ms)"}
	if len(ms) != len(want) {
		t.Fatalf("%d measures, want %d: %+v", len(ms), len(want), ms)
	}
	for i, m := range ms {
		if m.Metric != want[i] || m.Case != b.label+", K=2, 40 clients, 5 × 100 B" {
			t.Errorf("measure %d: %q %q", i, m.Case, m.Metric)
		}
		// The service's CPU is NaN when its processes were not found:
		// here they are on this machine and must be.
		if math.IsNaN(m.Value) || m.Value < 0 {
			t.Errorf("%s: %v", m.Metric, m.Value)
		}
	}
	if ms[0].Value <= 0 || ms[0].Use.Wall <= 0 {
		t.Errorf("deliveries/s %v over %v", ms[0].Value, ms[0].Use.Wall)
	}
}

// TestScaleoutGoCluster runs the scenario's code on small Go clusters (two
// goserver processes) over each adapter: Redis (a redis-server of its own)
// with both Redis adapters, the machine's PostgreSQL, and the machine's
// NATS in core and JetStream modes. Every client of both servers must get
// every event of the bursts emitted on server 0.
func TestScaleoutGoCluster(t *testing.T) {
	bin := buildGoserver(t)
	e := servicesEnv(t, bin, scaleoutConf{adapters: busKeys})
	if d := e.serviceDesc["redis"]; !strings.Contains(d, "redis-server 7") && !strings.Contains(d, "redis-server 8") {
		t.Errorf("description %q lacks the Redis version", d)
	}
	if d := e.serviceDesc["postgres"]; !strings.Contains(d, "PostgreSQL 1") || !strings.Contains(d, "pgx v5") {
		t.Errorf("description %q lacks the PostgreSQL and pgx versions", d)
	}
	if d := e.serviceDesc["nats"]; !strings.Contains(d, "nats-server 2.") || !strings.Contains(d, "core mode") {
		t.Errorf("description %q lacks the NATS version or mode", d)
	}
	if e.natsPid == 0 {
		t.Error("the NATS server's process was not found")
	}
	buses := slices.Clone(e.buses)
	buses = append(buses, redisBus(e.redis.addr, "classic", e.redis.cmd.Process.Pid),
		natsBus(e.so.natsURL, true, e.natsPid, e.nc))
	const k, n, msgs = 2, 40, 5
	for _, b := range buses {
		t.Run(b.label, func(t *testing.T) {
			ms, err := e.scaleoutK(serverSpec{name: "Go", argv: []string{bin}}, b, k, n, msgs, 100, 2)
			if err != nil {
				t.Fatal(err)
			}
			checkScaleout(t, ms, b)
			if b.label == "NATS JetStream" {
				// The cluster's stream is gone with it.
				js, err := jetstream.New(e.nc)
				if err != nil {
					t.Fatal(err)
				}
				prefix := fmt.Sprintf("gosio_bench_%d_%d", os.Getpid(), e.clusters)
				if _, err := js.Stream(context.Background(), prefix); !errors.Is(err, jetstream.ErrStreamNotFound) {
					t.Errorf("stream %s after the cluster: %v, want not found", prefix, err)
				}
			}
		})
	}
}

// TestScaleoutNodePostgres runs the scenario's code on a small Node
// cluster (two bench/node/server.mjs) over the machine's PostgreSQL, with
// @socket.io/postgres-adapter.
func TestScaleoutNodePostgres(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("this test runs bench/node/server.mjs and needs node (20+) on PATH")
	}
	if _, err := os.Stat("../../node/node_modules/@socket.io/postgres-adapter"); err != nil {
		t.Fatal("bench/node/node_modules lacks @socket.io/postgres-adapter: run npm ci --prefix bench/node")
	}
	e := servicesEnv(t, "", scaleoutConf{adapters: []string{"postgres"}})
	if d := e.serviceDesc["postgres"]; !strings.Contains(d, "postgres-adapter 0.5") {
		t.Errorf("description %q lacks the Node adapter's version", d)
	}
	nodeDir, _ := filepath.Abs("../../node")
	sp := serverSpec{name: "Node", argv: []string{"node", "--expose-gc", "server.mjs"}, dir: nodeDir}
	ms, err := e.scaleoutK(sp, e.buses[0], 2, 40, 5, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkScaleout(t, ms, e.buses[0])
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
