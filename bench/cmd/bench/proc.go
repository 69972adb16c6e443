package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a reference server running as a child process.
type server struct {
	name string // "Go" or "Node"
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// serverSpec says how to start one of the two servers.
type serverSpec struct {
	name string
	argv []string
	dir  string
	env  []string // added to this process's environment
}

// start runs the server and waits for the address it prints.
func (sp serverSpec) start(extra ...string) (*server, error) {
	cmd := exec.Command(sp.argv[0], append(sp.argv[1:], extra...)...)
	cmd.Dir = sp.dir
	if len(sp.env) > 0 {
		cmd.Env = append(os.Environ(), sp.env...)
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{name: sp.name, cmd: cmd, done: make(chan struct{})}
	line := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		l, _ := r.ReadString('\n')
		line <- strings.TrimSpace(l)
		_, _ = r.WriteTo(os.Stdout) // keep the pipe drained
	}()
	go func() { _ = cmd.Wait(); close(s.done) }()
	select {
	case s.addr = <-line:
	case <-time.After(20 * time.Second):
	}
	if !strings.HasPrefix(s.addr, "127.") {
		s.stop()
		return nil, fmt.Errorf("%s server did not start (printed %q)", sp.name, s.addr)
	}
	return s, nil
}

// stop ends the server: SIGTERM, then SIGKILL after 10 s (writing a CPU
// profile may take a moment).
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// appStats is the answer of the servers' /stats endpoint.
type appStats struct {
	Heap       int64 `json:"heap"`
	Stack      int64 `json:"stack"`
	Goroutines int   `json:"goroutines"`
	Sockets    int   `json:"sockets"`
}

var ctlClient = &http.Client{Timeout: 120 * time.Second}

func (s *server) stats() (appStats, error) {
	var st appStats
	res, err := ctlClient.Get("http://" + s.addr + "/stats")
	if err != nil {
		return st, err
	}
	defer res.Body.Close()
	err = json.NewDecoder(res.Body).Decode(&st)
	return st, err
}

// get calls a control endpoint and returns the answer once the server has
// answered.
func (s *server) get(path string) (string, error) {
	res, err := ctlClient.Get("http://" + s.addr + path)
	if err != nil {
		return "", err
	}
	b, _ := readAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s %s", path, res.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// save writes the answer of a GET to a file (profiles).
func (s *server) save(path, file string) error {
	b, err := s.get(path)
	if err != nil {
		return err
	}
	return os.WriteFile(file, []byte(b), 0o644)
}

// rss is the resident set size of the server process, in bytes.
func (s *server) rss() int64 { return procRSS(s.cmd.Process.Pid) }

// cpu is the CPU time (user + system) the server process has used.
func (s *server) cpu() time.Duration { return procCPU(s.cmd.Process.Pid) }

func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if f, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(f), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// clockTick is USER_HZ, 100 on every Linux architecture Go supports.
const clockTick = 100

func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may contain spaces: fields start after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTick
}

// meter measures the server's and this process's CPU time and the wall time
// of a section.
type meter struct {
	s            *server
	t0           time.Time
	srv0, c0, m0 time.Duration
}

func startMeter(s *server) meter {
	return meter{s: s, t0: time.Now(), srv0: s.cpu(), c0: procCPU(os.Getpid()), m0: machineCPU()}
}

// usage is what a meter measured.
type usage struct {
	Wall       time.Duration
	ServerCPU  time.Duration
	ClientCPU  time.Duration
	HelperCPU  time.Duration // processes the scenario started besides the servers (Redis)
	MachineCPU time.Duration // every process, kernel included
}

func (m meter) stop() usage {
	return usage{Wall: time.Since(m.t0), ServerCPU: m.s.cpu() - m.srv0, ClientCPU: procCPU(os.Getpid()) - m.c0,
		MachineCPU: machineCPU() - m.m0}
}

// machineCPU is the busy time of all CPUs (the first line of /proc/stat,
// without idle and iowait).
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest times are already in user
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * time.Second / clockTick
}

// cores is the server's CPU time divided by the wall time.
func (u usage) cores() float64 {
	if u.Wall <= 0 {
		return 0
	}
	return u.ServerCPU.Seconds() / u.Wall.Seconds()
}

func (u usage) add(v usage) usage {
	return usage{Wall: u.Wall + v.Wall, ServerCPU: u.ServerCPU + v.ServerCPU, ClientCPU: u.ClientCPU + v.ClientCPU,
		HelperCPU: u.HelperCPU + v.HelperCPU, MachineCPU: u.MachineCPU + v.MachineCPU}
}

// raiseNOFILE lifts the soft open-files limit to the hard limit; the
// servers, started as children, inherit it.
func raiseNOFILE(want uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur < l.Max {
		l.Cur = l.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
			return err
		}
	}
	if l.Cur < want {
		return errors.New("open-files limit " + strconv.FormatUint(l.Cur, 10) + " is below " + strconv.FormatUint(want, 10))
	}
	return nil
}
