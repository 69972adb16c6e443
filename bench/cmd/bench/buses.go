package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// bus is a service the servers of a scale-out cluster share, with the way
// each kind of server joins a cluster over it.
type bus struct {
	key   string // -scaleout-adapters name: redis, postgres or nats
	name  string // the service: Redis, PostgreSQL, NATS (the metric "CPU of <name> (ms)")
	label string // the first field of the cases: "Redis sharded", "PostgreSQL", "NATS core"
	node  bool   // Node has an adapter for it
	// goArgs and nodeEnv are the Go server's flags and the Node server's
	// environment for the cluster of the given prefix (a cluster's own
	// channels or subjects on a shared service).
	goArgs  func(prefix string) []string
	nodeEnv func(prefix string) []string
	// pids returns the processes of the service that work for the cluster
	// of prefix; none when they are not found (their CPU is not measured).
	pids func(prefix string) []int
	// done removes what the cluster of prefix left in the service; nil
	// when nothing is left.
	done func(prefix string)
}

// busKeys are the adapters of the scale-out scenario, in the report's order.
var busKeys = []string{"redis", "postgres", "nats"}

// parseBuses checks a -scaleout-adapters list and returns it in busKeys'
// order, without duplicates.
func parseBuses(list string) ([]string, error) {
	want := map[string]bool{}
	for v := range strings.SplitSeq(list, ",") {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		if !strings.Contains(","+strings.Join(busKeys, ",")+",", ","+v+",") {
			return nil, fmt.Errorf("-scaleout-adapters: %q is not one of %s", v, strings.Join(busKeys, ","))
		}
		want[v] = true
	}
	var out []string
	for _, k := range busKeys {
		if want[k] {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("-scaleout-adapters: empty")
	}
	return out, nil
}

// parseKs reads a list of server counts ("1,2,4").
func parseKs(list string) ([]int, error) {
	var ks []int
	for v := range strings.SplitSeq(list, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || k < 1 || k > 8 {
			return nil, fmt.Errorf("-scaleout-k: %q is not a server count from 1 to 8", v)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// redisBus is the scenario's own redis-server at addr, process pid, with
// the adapter kind sharded or classic. Each cluster has the server to
// itself, so the prefix is not needed.
func redisBus(addr, kind string, pid int) *bus {
	return &bus{
		key: "redis", name: "Redis", label: "Redis " + kind, node: true,
		goArgs:  func(string) []string { return []string{"-redis", addr, "-adapter", kind} },
		nodeEnv: func(string) []string { return []string{"BENCH_REDIS=" + addr, "BENCH_ADAPTER=" + kind} },
		pids:    func(string) []int { return []int{pid} },
	}
}

// postgresBus is the PostgreSQL of dsn. The servers' connections carry an
// application_name made of the prefix, by which pids finds their backends
// through conn, the tool's own connection (nil: a database on another
// machine, whose CPU is not measured).
func postgresBus(dsn string, conn *pgx.Conn) *bus {
	b := &bus{key: "postgres", name: "PostgreSQL", label: "PostgreSQL", node: true}
	b.goArgs = func(prefix string) []string {
		return []string{"-postgres", withAppName(dsn, prefix), "-prefix", prefix}
	}
	b.nodeEnv = func(prefix string) []string {
		return []string{"BENCH_POSTGRES=" + withAppName(dsn, prefix), "BENCH_PREFIX=" + prefix}
	}
	b.pids = func(prefix string) []int {
		if conn == nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rows, err := conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", prefix)
		if err != nil {
			log.Printf("scaleout: the PostgreSQL backends of %s: %v", prefix, err)
			return nil
		}
		pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			log.Printf("scaleout: the PostgreSQL backends of %s: %v", prefix, err)
			return nil
		}
		out := make([]int, len(pids))
		for i, p := range pids {
			out[i] = int(p)
		}
		return out
	}
	return b
}

// natsBus is the NATS server at url, in core or JetStream mode; pid is
// its process (0: not found, its CPU is not measured), nc the tool's own
// connection, which removes the JetStream streams of the clusters.
func natsBus(url string, jetStream bool, pid int, nc *nats.Conn) *bus {
	mode := "core"
	if jetStream {
		mode = "JetStream"
	}
	b := &bus{key: "nats", name: "NATS", label: "NATS " + mode}
	b.goArgs = func(prefix string) []string {
		a := []string{"-nats", url, "-prefix", prefix}
		if jetStream {
			a = append(a, "-nats-jetstream")
		}
		return a
	}
	b.nodeEnv = func(string) []string { return nil }
	b.pids = func(string) []int {
		if pid == 0 {
			return nil
		}
		return []int{pid}
	}
	if jetStream && nc != nil {
		b.done = func(prefix string) {
			js, err := jetstream.New(nc)
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			// The adapter's default stream name: the prefix, which has no '.'.
			if err := js.DeleteStream(ctx, prefix); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				log.Printf("scaleout: deleting the stream %s: %v", prefix, err)
			}
		}
	}
	return b
}

// withAppName adds application_name=name to a PostgreSQL connection string,
// a URL (postgres://...) or keyword=value pairs.
func withAppName(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			q.Set("application_name", name)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return strings.TrimSpace(dsn) + " application_name=" + name
}

// isLoopback says whether host names this machine (the service's processes
// can be found in /proc); a path (a Unix socket's directory) does too.
func isLoopback(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// connectPostgres opens the tool's connection to the scenario's PostgreSQL,
// says whether it is on this machine and describes it; a database that does
// not answer within 5 s is an error that says what to do.
func connectPostgres(dsn string) (conn *pgx.Conn, local bool, desc string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, false, "", fmt.Errorf("scaleout: -postgres: %w", err)
	}
	where := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	const hint = "start it, point -postgres at one, or leave it out (-scaleout-adapters without postgres)"
	conn, err = pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, false, "", fmt.Errorf("scaleout: PostgreSQL at %s is not answering (%v): %s", where, err, hint)
	}
	var version string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&version); err != nil {
		_ = conn.Close(context.Background())
		return nil, false, "", fmt.Errorf("scaleout: PostgreSQL at %s is not answering (%v): %s", where, err, hint)
	}
	version, _, _ = strings.Cut(version, " ")
	return conn, isLoopback(cfg.Host), fmt.Sprintf("PostgreSQL %s at %s", version, where), nil
}

// connectNATS opens the tool's connection to the scenario's NATS server,
// checks JetStream when it is wanted, and finds the server's process; a
// server that does not answer within 5 s is an error that says what to do.
func connectNATS(u string, jetStream bool) (*nats.Conn, int, string, error) {
	hint := "start it, point -nats at one, or leave it out (-scaleout-adapters without nats)"
	nc, err := nats.Connect(u, nats.Timeout(5*time.Second), nats.MaxReconnects(0))
	if err != nil {
		return nil, 0, "", fmt.Errorf("scaleout: NATS at %s is not answering (%v): %s", u, err, hint)
	}
	if err := nc.FlushTimeout(5 * time.Second); err != nil {
		nc.Close()
		return nil, 0, "", fmt.Errorf("scaleout: NATS at %s is not answering (%v): %s", u, err, hint)
	}
	if jetStream {
		js, err := jetstream.New(nc)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
		}
		if err != nil {
			nc.Close()
			return nil, 0, "", fmt.Errorf("scaleout: -nats-jetstream: NATS at %s has no JetStream (%v): run nats-server with -js", u, err)
		}
	}
	desc := fmt.Sprintf("nats-server %s at %s", nc.ConnectedServerVersion(), nc.ConnectedAddr())
	host, port, err := net.SplitHostPort(nc.ConnectedAddr())
	if err != nil || !isLoopback(host) {
		log.Printf("scaleout: NATS at %s is not on this machine; its CPU is not measured", nc.ConnectedAddr())
		return nc, 0, desc, nil
	}
	p, _ := strconv.Atoi(port)
	pid, err := listenerPID(p)
	if err != nil {
		log.Printf("scaleout: the process of the NATS server on port %d: %v; its CPU is not measured", p, err)
	}
	return nc, pid, desc, nil
}

// listenerPID returns the process that has a TCP socket listening on port
// (any address), from /proc/net/tcp{,6} and the processes' descriptors.
func listenerPID(port int) (int, error) {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fs := strings.Fields(sc.Text())
			if len(fs) < 10 || fs[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, ok := strings.Cut(fs[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); !ok || err != nil || int(p) != port {
				continue
			}
			inodes["socket:["+fs[9]+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no socket listens on port %d", port)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, dir := range procs {
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // another user's process, or gone
		}
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && inodes[l] {
				return strconv.Atoi(filepath.Base(filepath.Dir(dir)))
			}
		}
	}
	return 0, fmt.Errorf("the process listening on port %d is not readable here", port)
}
