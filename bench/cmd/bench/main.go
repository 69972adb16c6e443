// Command bench runs the load scenarios of issue #7 against the Go reference
// server (bench/cmd/goserver) and Node's socket.io (bench/node/server.mjs),
// one after the other on this machine, and writes docs/benchmarks.md with a
// table per scenario and an SVG chart per scenario under docs/benchmarks/.
//
//	go build -o /tmp/goserver ./cmd/goserver
//	go run ./cmd/bench -goserver /tmp/goserver -node ./node -docs ../docs
//
// Scenarios (each server gets a fresh process per scenario):
//
//  1. idle: RSS and heap per idle WebSocket client at 1k, 5k, 10k clients,
//     goroutines per client;
//  2. fanout: one broadcast to N clients (1k, 10k; 100 B and 1 KiB),
//     deliveries per second counted at the clients;
//  3. echo: 1k clients sending 'echo' with an ack at a fixed rate, round-trip
//     p50 and p99;
//  4. ramp: handshakes per second, WebSocket only and polling then upgrade;
//  5. polling: messages per second echoed over long-polling only;
//  6. scaleout: K = 1, 2, 4 servers of one kind joined through an adapter
//     (-scaleout-adapters): Redis (a redis-server of the tool's own on a
//     free port), PostgreSQL (-postgres) or NATS (-nats, Go only), the
//     clients spread over them, one broadcast burst from server 0 to every
//     client of the cluster: deliveries per second, emit loop, CPU per
//     node and of the service.
//
// The clients are lean raw Engine.IO/Socket.IO WebSocket (or HTTP polling)
// clients, spread over the source addresses 127.0.0.1-127.0.0.n. Every phase
// has a count and a deadline, and the whole run stops itself after -timeout.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	goserver := flag.String("goserver", "", "path of the built bench/cmd/goserver binary (required)")
	nodeDir := flag.String("node", "node", "directory of server.mjs, with node_modules installed")
	docs := flag.String("docs", "../docs", "directory where benchmarks.md and benchmarks/*.svg are written")
	only := flag.String("only", "", "comma-separated scenarios to run (idle,fanout,echo,ramp,polling,scaleout); default all")
	quick := flag.Bool("quick", false, "small counts, for checking the tool (the report says so)")
	servers := flag.String("servers", "go,node", "servers to run (go,node); the report needs both")
	profile := flag.String("profile", "", "directory for CPU and heap profiles of the Go server, one pair per scenario")
	sources := flag.Int("sources", 32, "number of loopback source addresses (127.0.0.1 ...) for the clients")
	timeout := flag.Duration("timeout", 9*time.Minute, "hard bound of the whole run")
	adapterName := flag.String("adapter", "sharded", "Redis adapter of both servers in the scaleout scenario: sharded or classic")
	adapters := flag.String("scaleout-adapters", "redis,postgres,nats", "adapters of the scaleout scenario (redis,postgres,nats)")
	ksFlag := flag.String("scaleout-k", "", "server counts of the scaleout scenario for every adapter, e.g. 2 or 1,2,4; default: each adapter's")
	pgDSN := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/test", "PostgreSQL of the scaleout scenario's postgres rows (on this machine)")
	natsURL := flag.String("nats", "nats://127.0.0.1:4222", "NATS server of the scaleout scenario's nats rows (on this machine)")
	jetStream := flag.Bool("nats-jetstream", false, "the NATS adapter's JetStream mode in the scaleout scenario, rather than core NATS")
	flag.Parse()
	log.SetFlags(log.Ltime)
	if *goserver == "" {
		log.Fatal("-goserver is required")
	}
	if *adapterName != "sharded" && *adapterName != "classic" {
		log.Fatalf("-adapter %q: want sharded or classic", *adapterName)
	}
	so := scaleoutConf{redisKind: *adapterName, pgDSN: *pgDSN, natsURL: *natsURL, jetStream: *jetStream}
	var err error
	if so.adapters, err = parseBuses(*adapters); err != nil {
		log.Fatal(err)
	}
	if *ksFlag != "" {
		if so.ks, err = parseKs(*ksFlag); err != nil {
			log.Fatal(err)
		}
	}
	runs := func(key string) bool { return *only == "" || strings.Contains(","+*only+",", ","+key+",") }
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	gobin, nodeAbs := abs(*goserver), abs(*nodeDir)
	if err := raiseNOFILE(19500); err != nil {
		log.Fatalf("RLIMIT_NOFILE: %v (19k clients need a limit of about 19500 in both processes)", err)
	}
	// The servers run as children with Pdeathsig, so they end with us.
	time.AfterFunc(*timeout, func() {
		log.Printf("run exceeded -timeout %v; stopping", *timeout)
		os.Exit(2)
	})
	start := time.Now()
	e := &env{d: &dialer{n: uint32(max(*sources, 1))}, quick: *quick, so: so, gobin: gobin, nodeDir: nodeAbs,
		serviceDesc: map[string]string{}}
	if *profile != "" {
		e.profile = abs(*profile)
	}
	closeServices := func() {}
	if runs("scaleout") {
		// Before anything runs: a shared service that does not answer ends
		// the run at once, with what to do.
		if closeServices, err = e.connectServices(); err != nil {
			log.Fatal(err)
		}
	}
	specs := []serverSpec{
		{name: "Go", argv: []string{gobin}},
		{name: "Node", argv: []string{"node", "--expose-gc", "server.mjs"}, dir: nodeAbs},
	}
	all := []struct {
		key string
		run func(*server) ([]measure, error)
		// both, when set, runs the scenario on both servers at once.
		both func([]*server) ([][]measure, error)
		// own, when set, runs the scenario with servers it starts itself
		// from the spec, after prepare (if set) and before its cleanup.
		own     func(serverSpec) ([]measure, error)
		prepare func() (cleanup func(), err error)
		sec     section
	}{
		{key: "idle", run: e.idle, sec: idleSection()},
		{key: "fanout", run: e.fanout, sec: fanoutSection()},
		{key: "echo", both: e.echo, sec: echoSection()},
		{key: "ramp", run: e.ramp, sec: rampSection()},
		{key: "polling", run: e.polling, sec: pollingSection()},
		{key: "scaleout", own: e.scaleout, prepare: e.startBuses, sec: scaleoutSection(e)},
	}
	var secs []section
	m := describeMachine(nodeAbs)
	for _, sc := range all {
		if !runs(sc.key) {
			continue
		}
		sec := sc.sec
		sec.Key = sc.key
		var res [2][]measure
		var started []*server
		cleanup := func() {}
		if sc.prepare != nil {
			c, err := sc.prepare()
			if err != nil {
				sec.Err = err.Error()
				log.Print(err)
				secs = append(secs, sec)
				continue
			}
			cleanup = c
		}
		for _, sp := range specs {
			if !strings.Contains(","+strings.ToLower(*servers)+",", ","+strings.ToLower(sp.name)+",") {
				started = append(started, nil)
				continue
			}
			var extra []string
			if sp.name == "Go" && *profile != "" {
				_ = os.MkdirAll(*profile, 0o755)
				extra = []string{"-cpuprofile", filepath.Join(abs(*profile), sc.key+".cpu.prof"),
					"-memprofile", filepath.Join(abs(*profile), sc.key+".mem.prof")}
			}
			if sc.own != nil {
				log.Printf("%s: %s servers", sc.key, sp.name)
				var err error
				res[len(started)], err = sc.own(sp)
				if err != nil {
					msg := fmt.Sprintf("%s servers: %v", sp.name, err)
					log.Print(msg)
					if sec.Err != "" {
						msg = sec.Err + "; " + msg
					}
					sec.Err = msg
				}
				started = append(started, nil)
				time.Sleep(time.Second) // sockets of the last servers drain
				continue
			}
			log.Printf("%s: %s server", sc.key, sp.name)
			srv, err := sp.start(extra...)
			if err != nil {
				sec.Err = err.Error()
				log.Print(err)
				break
			}
			if sc.both == nil {
				res[len(started)], err = sc.run(srv)
				srv.stop()
				srv = nil
				if err != nil {
					sec.Err = fmt.Sprintf("%s server: %v", sp.name, err)
					log.Print(sec.Err)
				}
				time.Sleep(time.Second) // sockets of the last server drain
			}
			started = append(started, srv)
		}
		if sc.both != nil && sec.Err == "" {
			var up []*server
			for _, s := range started {
				if s != nil {
					up = append(up, s)
				}
			}
			out, err := sc.both(up)
			if err != nil {
				sec.Err = err.Error()
				log.Print(err)
			}
			j := 0
			for i, s := range started {
				if s != nil && j < len(out) {
					res[i] = out[j]
					j++
				}
			}
		}
		for _, s := range started {
			if s != nil {
				s.stop()
			}
		}
		cleanup()
		sec.Rows = pair(res[0], res[1])
		helpers := ""
		if sc.key == "scaleout" {
			// An adapter whose service could not start (redis-server
			// missing) while the others ran.
			if e.busErr != "" && sec.Err == "" {
				sec.Err = e.busErr
			} else if e.busErr != "" && sec.Err != e.busErr {
				sec.Err = e.busErr + "; " + sec.Err
			}
			sec.Notes = append(sec.Notes, scaleoutNotes(sec.Rows)...)
			for _, a := range busKeys {
				if d := e.serviceDesc[a]; d != "" {
					m.Services = append(m.Services, [2]string{serviceNames[a], d})
				}
			}
			helpers = "; the services apart"
		}
		sec.Notes = append(sec.Notes, clientNote(sec.Rows, helpers))
		secs = append(secs, sec)
	}
	closeServices()
	m.Took = time.Since(start)
	m.Clients = fmt.Sprintf("lean raw WebSocket / HTTP polling clients (bench/cmd/bench), %d loopback source addresses", *sources)
	if *quick {
		m.Clients += "; **quick mode: small counts, not the reference numbers**"
	}
	if err := writeReport(*docs, m, secs); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s in %v", filepath.Join(*docs, "benchmarks.md"), m.Took.Round(time.Second))
}

// clientNote reports the CPU the load tool itself used; helpers names the
// processes of the scenario besides the servers, counted apart ("" when
// there are none).
func clientNote(rows []row, helpers string) string {
	var g, n usage
	for _, r := range rows {
		g, n = g.add(r.Go.Use), n.add(r.Node.Use)
	}
	if g.Wall == 0 || n.Wall == 0 {
		return "The load tool's CPU was not measured here."
	}
	other := func(u usage) float64 {
		return max(0, (u.MachineCPU-u.ServerCPU-u.ClientCPU-u.HelperCPU).Seconds()/u.Wall.Seconds())
	}
	return fmt.Sprintf("CPU besides the server, over the measured sections: the load tool %.2f cores with Go, %.2f with Node; "+
		"everything else on the machine (kernel threads, other processes%s) %.2f cores with Go, %.2f with Node.",
		g.ClientCPU.Seconds()/g.Wall.Seconds(), n.ClientCPU.Seconds()/n.Wall.Seconds(), helpers, other(g), other(n))
}

func ratioAtMost(limit float64) func(r row) (string, bool) {
	return func(r row) (string, bool) {
		return fmt.Sprintf("Go/Node ≤ %.1f×", limit), r.ratio() <= limit
	}
}

func ratioAtLeast(limit float64) func(r row) (string, bool) {
	return func(r row) (string, bool) {
		return fmt.Sprintf("Go/Node ≥ %.0f×", limit), r.ratio() >= limit
	}
}

func idleSection() section {
	return section{
		Title: "1. Idle memory",
		Desc: "Idle WebSocket clients, each joined to the main namespace, connected in steps of 1k, 5k, 10k and 19k " +
			"to one server. Per client: growth of the process RSS (from /proc) since before the first client, " +
			"growth of the heap after a full GC (Go: heap in use, and goroutine stacks apart; Node: V8 heap " +
			"used + external memory, `--expose-gc`), and growth of the goroutine count. The CPU column is the " +
			"connection of each step.",
		Chart: []string{"RSS per client (KiB)", "heap per client (KiB)", "goroutine stacks per client (KiB)"},
		Target: func(r row) (string, bool) {
			if r.Metric != "RSS per client (KiB)" || (r.Case != "10000 clients" && r.Case != "19000 clients") {
				return "", false
			}
			return "Go ≤ 4 KiB per client (≤ 0.25× Node)", r.Go.Value <= 4
		},
	}
}

func fanoutSection() section {
	return section{
		Title: "2. Broadcast fan-out",
		Desc: "N idle clients; the server is asked (`GET /bcast?n=M&size=S`) to emit M events `b` with a " +
			"string of S bytes to everyone, M × N = 200,000 deliveries. Deliveries per second = M × N / " +
			"(time from the request to the last client having received its M events), counted at the " +
			"clients. Median of 5 repeats. \"emit loop\" is the time the server spent in its M emits (it answers " +
			"the request after them), a part of the total. The case \"…, metrics/prometheus\" repeats the " +
			"largest 100 B case with the collector of `metrics/prometheus` (its defaults) observing every " +
			"delivery, Go only: the cost of observing a server, beside the same case unobserved.",
		Chart: []string{"deliveries/s"},
		Target: func(r row) (string, bool) {
			switch {
			case strings.Contains(r.Case, "metrics/prometheus"):
				return "", false // compared with the unobserved case, not with Node
			case r.Metric == "deliveries/s" && strings.HasPrefix(r.Case, "1000 clients"):
				return ratioAtLeast(3)(r)
			case r.Metric == "deliveries/s":
				return ratioAtLeast(8)(r)
			case r.Metric == "emit loop (ms)" && strings.HasPrefix(r.Case, "10000 clients, 100 B"):
				return ratioAtMost(0.5)(r)
			}
			return "", false
		},
	}
}

func echoSection() section {
	return section{
		Title: "3. Echo with ack",
		Desc: "WebSocket clients each send `echo` with a 100-byte string and an ack, in a closed loop (200 " +
			"and 1k clients, each sending its next echo when the previous answer has come: answered/s is " +
			"what the server sustains) and at a fixed rate (1k clients, random phase; total 5k/s and 20k/s " +
			"offered); the server answers through the ack. Round trip " +
			"measured at the client from the send to the ack; p50 and p99 over all echoes of a 3 s round, " +
			"median of 5 rounds after a warm-up round. Both servers are up with their 1k clients during " +
			"this scenario and the rounds alternate between them (Go, Node, Node, Go, ...), so that the " +
			"machine's noise falls on both alike.",
		Chart: []string{"p50 (ms)", "p99 (ms)"},
		Target: func(r row) (string, bool) {
			closed := strings.HasSuffix(r.Case, "closed loop")
			switch {
			case r.Metric == "p99 (ms)" && (closed || strings.Contains(r.Case, "20000 echo/s")):
				return ratioAtMost(0.5)(r)
			case r.Metric == "answered/s" && closed:
				return ratioAtLeast(2)(r)
			}
			return "", false
		},
	}
}

func rampSection() section {
	return section{
		Title: "4. Connection ramp",
		Desc: "Handshakes per second with 32 clients connecting at a time, 3 rounds of 1,000 (connections " +
			"stay open, so the last round runs with 2k sessions up). WebSocket: TCP connect, upgrade, " +
			"open packet, `40`, `40{sid}`. Polling then upgrade: polling handshake, POST `40`, GET " +
			"`40{sid}`, WebSocket with the sid, `2probe`/`3probe`, `5`, then one echo with ack over the " +
			"WebSocket to check the upgraded session. Median of the 3 rounds.",
		Chart:  []string{"handshakes/s"},
		Target: ratioAtLeast(2),
	}
}

func pollingSection() section {
	return section{
		Title: "5. Polling throughput",
		Desc: "100 long-polling clients (no WebSocket); each POSTs batches of 10 events `msg` (100 B) with at " +
			"most 2 batches unanswered, and long-polls the server's `msg` echoes. Messages echoed per " +
			"second (each went up in a POST and down in a GET), median of 3 rounds of 3 s. No target.",
		Chart: []string{"messages/s echoed"},
	}
}

func describeMachine(nodeDir string) machine {
	m := machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPU = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			var kb float64
			_, _ = fmt.Sscan(f[1], &kb)
			m.Mem = fmt.Sprintf("%.0f GiB", math.Round(kb/(1<<20)))
		}
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		m.Node = "Node " + strings.TrimSpace(string(out))
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if b, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", "socket.io", "package.json")); err == nil {
		_ = json.Unmarshal(b, &pkg)
		m.SocketIO = pkg.Version
	}
	if out, err := exec.Command("git", "-C", nodeDir, "describe", "--always", "--dirty").Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}
