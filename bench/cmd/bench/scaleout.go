package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// ---- 6. scale-out over Redis, PostgreSQL and NATS ----

// redisProc is the scale-out scenario's own redis-server, on a free
// loopback port, without persistence, so that the machine's shared Redis
// carries none of the benchmark's traffic.
type redisProc struct {
	cmd  *exec.Cmd
	addr string
	dir  string
	done chan struct{}
}

// startRedis runs redis-server on a free port of 127.0.0.1 and waits until
// it answers PING.
func startRedis() (*redisProc, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("scaleout needs redis-server 7+ on PATH (Debian package redis-server)")
	}
	if v := redisVersion(bin); v != "" {
		if major, _ := strconv.Atoi(strings.SplitN(v, ".", 2)[0]); major < 7 {
			return nil, fmt.Errorf("scaleout needs redis-server 7+ (sharded pub/sub); %s is %s", bin, v)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-redis-")
	if err != nil {
		return nil, err
	}
	logFile := filepath.Join(dir, "redis.log")
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", logFile, "--loglevel", "warning")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	r := &redisProc{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := redisPing(r.addr)
		if err == nil {
			return r, nil
		}
		exited := false
		select {
		case <-r.done:
			exited = true
		default:
		}
		if exited || time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			r.stop()
			return nil, fmt.Errorf("redis-server on %s did not start: %v; log: %s", r.addr, err, strings.TrimSpace(string(b)))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// redisVersion is the version redis-server --version prints ("7.0.15"),
// or "" when it cannot be read.
func redisVersion(bin string) string {
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return ""
	}
	m := regexp.MustCompile(`v=([0-9][0-9.]*)`).FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// freePort asks the kernel for a free TCP port of 127.0.0.1.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// redisPing sends PING (inline command) and expects +PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// stop ends redis-server (SIGTERM, SIGKILL after 5 s) and removes its
// directory.
func (r *redisProc) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	_ = os.RemoveAll(r.dir)
}

// clustered returns the spec of a server of the cluster of prefix over b:
// flags for the Go server, environment variables for the Node server.
func (sp serverSpec) clustered(b *bus, prefix string) serverSpec {
	c := sp
	c.argv = append([]string(nil), sp.argv...)
	c.env = append([]string(nil), sp.env...)
	switch sp.name {
	case "Go":
		c.argv = append(c.argv, b.goArgs(prefix)...)
	default:
		c.env = append(c.env, b.nodeEnv(prefix)...)
	}
	return c
}

// waitServers waits until s counts n servers in its cluster (every server
// has subscribed).
func waitServers(s *server, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		v, err := s.get("/servers")
		got, _ := strconv.Atoi(strings.TrimSpace(v))
		if err == nil && got == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s server: the cluster has %d servers, want %d (%v)", s.name, got, n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// pidMeter measures the CPU time of several processes, of this process and
// of the machine, and the wall time of a section.
type pidMeter struct {
	t0     time.Time
	pids   []int
	cpu0   []time.Duration
	c0, m0 time.Duration
}

func startPidMeter(pids ...int) pidMeter {
	m := pidMeter{t0: time.Now(), pids: pids, c0: procCPU(os.Getpid()), m0: machineCPU()}
	for _, p := range pids {
		m.cpu0 = append(m.cpu0, procCPU(p))
	}
	return m
}

// stop returns the CPU time of each process since the start, in the order
// of the pids, and the usage with ServerCPU left zero.
func (m pidMeter) stop() ([]time.Duration, usage) {
	cpus := make([]time.Duration, len(m.pids))
	for i, p := range m.pids {
		cpus[i] = procCPU(p) - m.cpu0[i]
	}
	return cpus, usage{Wall: time.Since(m.t0), ClientCPU: procCPU(os.Getpid()) - m.c0, MachineCPU: machineCPU() - m.m0}
}

// scaleoutConf is what the scale-out scenario runs over (flags).
type scaleoutConf struct {
	adapters  []string // of busKeys, in that order
	redisKind string   // Redis adapter: sharded or classic
	pgDSN     string   // the PostgreSQL of the postgres rows
	natsURL   string   // the NATS server of the nats rows
	jetStream bool     // NATS adapter in JetStream mode rather than core
	ks        []int    // server counts of every adapter; nil: the defaults
}

// defaultKs are the server counts of each adapter when -scaleout-k is not
// given.
var defaultKs = map[string][]int{"redis": {1, 2, 4}, "postgres": {1, 2, 4}, "nats": {1, 2, 4}}

// scaleoutCounts returns the clients in all, the events of a burst and
// their size, and the repeats.
func (e *env) scaleoutCounts() (n, msgs, size, repeats int) {
	if e.quick {
		return 400, 20, 100, 2
	}
	return 10000, 20, 100, 3
}

// scaleoutKs returns the server counts of the clusters over adapter key.
func (e *env) scaleoutKs(key string) []int {
	if e.so.ks != nil {
		return e.so.ks
	}
	return defaultKs[key]
}

// scaleout runs, for each adapter the server kind has, clusters of K
// servers of that kind over it, the clients spread evenly over them, and
// measures bursts emitted on server 0 that reach every client of the
// cluster. An adapter whose cluster fails is left at that K; the others
// still run.
func (e *env) scaleout(sp serverSpec) ([]measure, error) {
	if len(e.buses) == 0 {
		return nil, errors.New("no adapter to run the scale-out scenario over")
	}
	n, msgs, size, repeats := e.scaleoutCounts()
	var out []measure
	var errs []error
	for _, b := range e.buses {
		if sp.name != "Go" && !b.node {
			log.Printf("  %s: no %s adapter for %s", b.label, sp.name, b.name)
			continue
		}
		for _, k := range e.scaleoutKs(b.key) {
			t0 := time.Now()
			ms, err := e.scaleoutK(sp, b, k, n, msgs, size, repeats)
			out = append(out, ms...)
			time.Sleep(time.Second) // sockets of the last cluster drain
			if err != nil {
				errs = append(errs, fmt.Errorf("%s with %d servers: %w", b.label, k, err))
				break
			}
			log.Printf("  %s, K=%d: %v", b.label, k, time.Since(t0).Round(100*time.Millisecond))
		}
	}
	return out, errors.Join(errs...)
}

// nextPrefix returns the channel or subject prefix of a new cluster: its
// own on a shared service, and not that of an earlier cluster whose
// servers may still be counted by heartbeats.
func (e *env) nextPrefix() string {
	e.clusters++
	return fmt.Sprintf("gosio_bench_%d_%d", os.Getpid(), e.clusters)
}

func (e *env) scaleoutK(sp serverSpec, b *bus, k, n, msgs, size, repeats int) ([]measure, error) {
	prefix := e.nextPrefix()
	csp := sp.clustered(b, prefix)
	servers := make([]*server, 0, k)
	defer func() {
		for _, s := range servers {
			s.stop()
		}
		if b.done != nil {
			b.done(prefix)
		}
	}()
	for i := range k {
		var extra []string
		if i == 0 && sp.name == "Go" && e.profile != "" {
			extra = []string{"-cpuprofile", filepath.Join(e.profile, fmt.Sprintf("scaleout-%s-k%d.cpu.prof", b.key, k))}
		}
		s, err := csp.start(extra...)
		if err != nil {
			return nil, err
		}
		servers = append(servers, s)
	}
	if err := waitServers(servers[0], k, 20*time.Second); err != nil {
		return nil, err
	}
	var trigger, done, last atomic.Int64
	fleets := make([]*fleet, k)
	for i, s := range servers {
		fleets[i] = newFleet(e.d, s.addr)
		defer fleets[i].close()
	}
	for i, f := range fleets {
		err := f.grow(context.Background(), n/k, 64, func(int, *wsConn) func([]byte) {
			c := &fanClient{trigger: &trigger, done: &done, last: &last}
			return c.onMessage
		})
		if err != nil {
			return nil, fmt.Errorf("server %d: %w", i, err)
		}
	}
	for _, s := range servers {
		if _, err := waitSockets(s, n/k, 30*time.Second); err != nil {
			return nil, err
		}
	}
	total := k * (n / k)
	serverPids := make([]int, 0, k)
	for _, s := range servers {
		serverPids = append(serverPids, s.cmd.Process.Pid)
	}
	measured := false // the service's processes were found for every burst
	gen := int64(0)
	// burst emits m events on server 0 and waits until every client of the
	// cluster has them all; cpus are the servers' CPU, then the service's.
	burst := func(m int) (el time.Duration, loopMS float64, cpus []time.Duration, use usage, err error) {
		gen++
		trigger.Store(gen<<32 | int64(m))
		done.Store(0)
		last.Store(0)
		// The service's processes for this cluster (a PostgreSQL pool may
		// have opened a connection since the last burst).
		helpers := b.pids(prefix)
		measured = len(helpers) > 0
		time.Sleep(200 * time.Millisecond)
		pm := startPidMeter(append(slices.Clone(serverPids), helpers...)...)
		t0 := time.Now()
		v, err := servers[0].get(fmt.Sprintf("/bcast?n=%d&size=%d", m, size))
		if err != nil {
			return 0, 0, nil, usage{}, err
		}
		loopMS, _ = strconv.ParseFloat(v, 64)
		deadline := time.Now().Add(30 * time.Second)
		for done.Load() < int64(total) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		cpus, use = pm.stop()
		if got := done.Load(); got < int64(total) {
			return 0, 0, nil, use, fmt.Errorf("only %d of %d clients on %d servers got the %d broadcasts of %d B",
				got, total, k, m, size)
		}
		return time.Duration(last.Load() - t0.UnixNano()), loopMS, cpus, use, nil
	}
	// Warm-up: one unmeasured burst (Node's JIT, Go's buffer pools), which
	// also checks that the cluster is joined up.
	if _, _, _, _, err := burst(msgs); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	// CPU is read in clock ticks (10 ms) per process: the CPU rows and the
	// usage are totals over all repeats (divided by the repeats for the
	// per-burst rows), which keeps the rounding small; the rates and emit
	// loops are medians.
	var rates, loops, costs []float64
	var sum usage // all measured bursts
	var cpuAll, cpuEmitter, cpuService time.Duration
	serviceMeasured := true
	deliveries := float64(total * msgs)
	for range repeats {
		el, loopMS, cpus, use, err := burst(msgs)
		if err != nil {
			return nil, err
		}
		serviceMeasured = serviceMeasured && measured
		var all, service time.Duration
		for _, c := range cpus[:k] {
			all += c
		}
		for _, c := range cpus[k:] {
			service += c
		}
		use.ServerCPU, use.HelperCPU = all, service
		cpuAll, cpuEmitter, cpuService = cpuAll+all, cpuEmitter+cpus[0], cpuService+service
		rates = append(rates, deliveries/el.Seconds())
		loops = append(loops, loopMS)
		costs = append(costs, all.Seconds()/(deliveries/1e6))
		sum = sum.add(use)
	}
	r := float64(repeats)
	others := math.NaN()
	if k > 1 {
		others = ms(cpuAll-cpuEmitter) / float64(k-1) / r
	}
	serviceMS := math.NaN()
	if serviceMeasured {
		serviceMS = ms(cpuService) / r
	}
	c := fmt.Sprintf("%s, K=%d, %d clients, %d × %d B", b.label, k, total, msgs, size)
	log.Printf("  %s: %s: %.0f deliveries/s (runs %v; emit loop ms %v; server CPU s per 1M %v)",
		sp.name, c, median(rates), fmtVals(rates), fmtVals(loops), fmtVals(costs))
	return []measure{
		{Case: c, Metric: "deliveries/s", Value: median(rates), Use: sum},
		{Case: c, Metric: "emit loop (ms)", Value: median(loops)},
		{Case: c, Metric: "server CPU per 1M deliveries (s)", Value: cpuAll.Seconds() / (deliveries * r / 1e6)},
		{Case: c, Metric: "CPU of the emitting server (ms)", Value: ms(cpuEmitter) / r},
		{Case: c, Metric: "CPU of each other server (ms)", Value: others},
		{Case: c, Metric: "CPU of " + b.name + " (ms)", Value: serviceMS},
	}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// serviceNames are the services of the adapters, in busKeys' order.
var serviceNames = map[string]string{"redis": "Redis", "postgres": "PostgreSQL", "nats": "NATS"}

// scaleoutTitle names the scenario after the services it runs over.
func scaleoutTitle(adapters []string) string {
	names := make([]string, len(adapters))
	for i, a := range adapters {
		names[i] = serviceNames[a]
	}
	switch len(names) {
	case 0:
		return "6. Scale-out"
	case 1:
		return "6. Scale-out over " + names[0]
	}
	return "6. Scale-out over " + strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func scaleoutSection(e *env) section {
	n, msgs, size, repeats := e.scaleoutCounts()
	var kinds, ks []string
	for _, a := range e.so.adapters {
		switch a {
		case "redis":
			kinds = append(kinds, fmt.Sprintf("Redis: a redis-server of the benchmark's own on a free port "+
				"(`--save \"\" --appendonly no`), the %s Redis adapter (Go: `adapter/redis` on go-redis; Node: "+
				"`@socket.io/redis-adapter` on node-redis)", e.so.redisKind))
		case "postgres":
			kinds = append(kinds, "PostgreSQL: the machine's database (LISTEN/NOTIFY on the cluster's own channel "+
				"prefix; Go: `adapter/postgres` on a pgx pool; Node: `@socket.io/postgres-adapter` on a pg Pool)")
		case "nats":
			mode := "core NATS (at most once)"
			if e.so.jetStream {
				mode = "JetStream (broadcasts through a stream)"
			}
			kinds = append(kinds, fmt.Sprintf("NATS: the machine's nats-server (the cluster's own subject prefix; "+
				"Go only, `adapter/nats` on nats.go, %s: Node has no NATS adapter, so those rows have no Node figure)", mode))
		}
		kk := make([]string, 0, 3)
		for _, k := range e.scaleoutKs(a) {
			kk = append(kk, strconv.Itoa(k))
		}
		ks = append(ks, serviceNames[a]+" K = "+strings.Join(kk, ", "))
	}
	return section{
		Title: scaleoutTitle(e.so.adapters),
		Desc: fmt.Sprintf("K server processes of one kind on this machine (%s), joined into one cluster through an "+
			"adapter, each with its default options but the prefix that keeps the cluster apart from others on a shared "+
			"service. The services: %s. %d WebSocket-only clients spread evenly over the K servers. Server 0 is asked "+
			"(`GET /bcast?n=%d&size=%d`) to emit %d events `b` of %d B to everyone; each emit reaches the "+
			"clients of server 0 directly and those of the other servers through one message of the service. "+
			"Deliveries per second = %d × clients / (time from the request to the last client of the "+
			"cluster having received its %d events), after one unmeasured burst; median of %d repeats. "+
			"\"emit loop\" is the time server 0 spent in its emits; the two do not do the same work there: "+
			"a Go emit hands the encoded frame to each local connection's writer and queues the adapter's "+
			"message, a Node emit only schedules its writes for later, so the row says where the time is "+
			"spent, not which is faster (deliveries/s and CPU do). CPU from /proc, from the request until "+
			"the last delivery was seen, summed over the repeats (it is counted in 10 ms ticks): \"server CPU "+
			"per 1M deliveries\" is the CPU of all K servers divided by the deliveries (each server delivers "+
			"1/K of them, so it is also each node's mean cost of a million of its own deliveries); the CPU "+
			"per burst of the emitting server, of each other server (mean) and of the service are given apart "+
			"(Redis: its process; PostgreSQL: the backends of the cluster's connections, found by their "+
			"application_name; NATS: the nats-server process, which also serves whatever else uses it meanwhile). "+
			"The CPU column is that of the K servers over all measured bursts. Go and Node clusters run one "+
			"after the other.",
			strings.Join(ks, "; "), strings.Join(kinds, "; "), n, msgs, size, msgs, size, msgs, msgs, repeats),
		Chart: []string{"deliveries/s"},
	}
}

// caseHead is the adapter and the server count of a scale-out case
// ("Redis sharded, K=2").
func caseHead(c string) string {
	a, rest, _ := strings.Cut(c, ",")
	k, _, _ := strings.Cut(rest, ",")
	return a + "," + k
}

// serviceOf is the service of a scale-out case ("Redis" of "Redis sharded,
// K=2, ...", "PostgreSQL" of "PostgreSQL, K=2, ...").
func serviceOf(c string) string {
	if i := strings.IndexAny(c, " ,"); i >= 0 {
		return c[:i]
	}
	return c
}

// scaleoutNotes says what bounded the figures: how busy the machine was
// during the bursts and what the services carried.
func scaleoutNotes(rows []row) []string {
	type side struct {
		name string
		get  func(r row) measure
	}
	sides := []side{{"Go", func(r row) measure { return r.Go }}, {"Node", func(r row) measure { return r.Node }}}
	var parts []string
	maxBusy, minBusy, maxRest := 0.0, math.Inf(1), 0.0
	for _, r := range rows {
		if r.Metric != "deliveries/s" {
			continue
		}
		service := serviceOf(r.Case)
		var ss []string
		for _, sd := range sides {
			u := sd.get(r).Use
			if u.Wall <= 0 {
				continue
			}
			w := u.Wall.Seconds()
			busy := u.MachineCPU.Seconds() / w
			maxBusy, minBusy = max(maxBusy, busy), min(minBusy, busy)
			rest := max(0, (u.MachineCPU-u.ServerCPU-u.ClientCPU-u.HelperCPU).Seconds()/w)
			maxRest = max(maxRest, rest)
			ss = append(ss, fmt.Sprintf("%s %.2f (servers %.2f, load tool %.2f, %s %.2f, the rest %.2f)", sd.name, busy,
				u.ServerCPU.Seconds()/w, u.ClientCPU.Seconds()/w, service, u.HelperCPU.Seconds()/w, rest))
		}
		if len(ss) > 0 {
			parts = append(parts, caseHead(r.Case)+": "+strings.Join(ss, "; "))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	// The most CPU each service used in a burst, in the order they appear.
	var services []string
	serviceMax := map[string]float64{}
	for _, r := range rows {
		name, ok := strings.CutPrefix(r.Metric, "CPU of ")
		if !ok || !strings.HasSuffix(name, " (ms)") || strings.Contains(name, "server") {
			continue
		}
		name = strings.TrimSuffix(name, " (ms)")
		if _, seen := serviceMax[name]; !seen {
			services = append(services, name)
			serviceMax[name] = math.NaN()
		}
		for _, v := range []float64{r.Go.Value, r.Node.Value} {
			if !math.IsNaN(v) && (math.IsNaN(serviceMax[name]) || v > serviceMax[name]) {
				serviceMax[name] = v
			}
		}
	}
	carried := make([]string, len(services))
	for i, name := range services {
		carried[i] = fmt.Sprintf("%s %s ms", name, num(serviceMax[name]))
	}
	cores := runtime.NumCPU()
	bound := fmt.Sprintf("below %.1f of %d cores in some cases: there, part of the time is waiting (the hop through the "+
		"service, the scheduling of the processes), not CPU work", 0.85*float64(cores), cores)
	switch {
	case minBusy >= 0.85*float64(cores) && maxRest > 0.25:
		bound = fmt.Sprintf("the cores were saturated in every case, but partly by processes outside the benchmark "+
			"(up to %.2f cores: kernel, other work on the machine), which took CPU from the servers; "+
			"compare the cases of this run with each other rather than with another run", maxRest)
	case minBusy >= 0.85*float64(cores):
		bound = "the cores were saturated in every case: the figure is bound by the CPU spent per delivery " +
			"(the servers' and the load tool's), not by the service"
	}
	return []string{
		fmt.Sprintf("What bounds the figure: the K servers, the service and the load tool share this machine's %d cores, so more "+
			"servers bring no more CPU here; the rows show what the hop through the service costs and how the work splits "+
			"per node, not the speed-up of K machines (on K machines, each node would spend about its per-node CPU "+
			"above on its part of a burst). The service carries one message per emit to each server, whatever the number of "+
			"clients; the most CPU it used in a burst: %s.", cores, strings.Join(carried, ", ")),
		fmt.Sprintf("Cores busy on the whole machine (of %d) from the request to the last delivery, over all "+
			"measured bursts (CPU time is counted in 10 ms ticks, so short bursts make these rough): %s. Busy %.2f to %.2f: %s.", cores, strings.Join(parts, "; "), minBusy, maxBusy, bound),
	}
}

// connectServices connects to the shared services of the selected
// adapters (PostgreSQL, NATS) and describes them for the report, before
// any scenario runs: one that does not answer ends the run with what to
// do. The cleanup closes the connections.
func (e *env) connectServices() (func(), error) {
	cleanup := func() {
		if e.pg != nil {
			_ = e.pg.Close(context.Background())
			e.pg = nil
		}
		if e.nc != nil {
			e.nc.Close()
			e.nc = nil
		}
	}
	for _, a := range e.so.adapters {
		switch a {
		case "postgres":
			conn, local, desc, err := connectPostgres(e.so.pgDSN)
			if err != nil {
				cleanup()
				return nil, err
			}
			e.pg, e.pgLocal = conn, local
			e.serviceDesc["postgres"] = (fmt.Sprintf("%s, the machine's (shared; each cluster "+
				"on channels of its own); Go `adapter/postgres` on pgx %s, Node @socket.io/postgres-adapter %s on pg %s",
				desc, goModVersion(e.gobin, "github.com/jackc/pgx/v5"),
				npmVersion(e.nodeDir, "@socket.io/postgres-adapter"), npmVersion(e.nodeDir, "pg")))
		case "nats":
			nc, pid, desc, err := connectNATS(e.so.natsURL, e.so.jetStream)
			if err != nil {
				cleanup()
				return nil, err
			}
			e.nc, e.natsPid = nc, pid
			mode := "core mode"
			if e.so.jetStream {
				mode = "JetStream mode"
			}
			e.serviceDesc["nats"] = (fmt.Sprintf("%s, the machine's (shared; each cluster on "+
				"subjects of its own); Go `adapter/nats` on nats.go %s, %s; no Node adapter exists",
				desc, goModVersion(e.gobin, "github.com/nats-io/nats.go"), mode))
		}
	}
	return cleanup, nil
}

// startBuses starts the scenario's Redis (when redis is selected) and
// builds the adapters' buses; the cleanup stops Redis. Without
// redis-server the other adapters still run (busErr says why Redis did
// not).
func (e *env) startBuses() (func(), error) {
	e.buses, e.busErr = nil, ""
	stop := func() {}
	for _, a := range e.so.adapters {
		switch a {
		case "redis":
			r, err := startRedis()
			if err != nil {
				e.busErr = err.Error()
				log.Print(err)
				continue
			}
			e.redis = r
			stop = func() { r.stop(); e.redis = nil }
			e.buses = append(e.buses, redisBus(r.addr, e.so.redisKind, r.cmd.Process.Pid))
			e.serviceDesc["redis"] = e.redisDesc()
			log.Printf("scaleout: redis-server on %s", r.addr)
		case "postgres":
			conn := e.pg
			if !e.pgLocal {
				conn = nil
			}
			e.buses = append(e.buses, postgresBus(e.so.pgDSN, conn))
		case "nats":
			e.buses = append(e.buses, natsBus(e.so.natsURL, e.so.jetStream, e.natsPid, e.nc))
		}
	}
	if len(e.buses) == 0 {
		return nil, errors.New(e.busErr)
	}
	return func() { stop(); e.buses = nil }, nil
}

// redisDesc describes the scenario's Redis and its adapters for the report.
func (e *env) redisDesc() string {
	bin, _ := exec.LookPath("redis-server")
	return fmt.Sprintf("redis-server %s of the scale-out scenario's own; %s adapters: Go `adapter/redis` on go-redis %s, "+
		"Node @socket.io/redis-adapter %s on node-redis %s", redisVersion(bin), e.so.redisKind,
		goModVersion(e.gobin, "github.com/redis/go-redis/v9"),
		npmVersion(e.nodeDir, "@socket.io/redis-adapter"), npmVersion(e.nodeDir, "redis"))
}

// goModVersion is the version of module path built into the binary bin.
func goModVersion(bin, path string) string {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "?"
	}
	for _, d := range info.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return "?"
}

// npmVersion is the version of an installed npm package of dir.
func npmVersion(dir, pkg string) string {
	var p struct {
		Version string `json:"version"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", pkg, "package.json"))
	if err != nil || json.Unmarshal(b, &p) != nil || p.Version == "" {
		return "?"
	}
	return p.Version
}
