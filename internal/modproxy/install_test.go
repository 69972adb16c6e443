package modproxy_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/modproxy"
)

const rootPath = "github.com/gosio/socketio"

// The modules a user installs with go get, as the README's Install section
// lists them.
var installed = []string{rootPath, rootPath + "/adapter/redis", rootPath + "/parser/msgpack",
	rootPath + "/metrics/prometheus", rootPath + "/tracing/otel"}

// consumer is a user's program built on the installed modules.
const consumer = `package main

import (
	"log"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	socketio "github.com/gosio/socketio"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/client"
	sioprom "github.com/gosio/socketio/metrics/prometheus"
	"github.com/gosio/socketio/parser/msgpack"
	siootel "github.com/gosio/socketio/tracing/otel"
)

func main() {
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	io, err := socketio.NewServer(socketio.Config{
		Adapter: redisadapter.NewAdapter(rdb, redisadapter.Options{}),
		Parser:  msgpack.Parser{},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := sioprom.New(io, sioprom.Options{Registerer: prometheus.DefaultRegisterer}); err != nil {
		log.Fatal(err)
	}
	if err := siootel.Instrument(io, siootel.Options{}); err != nil {
		log.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "mensaje", func(data string) {
			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})
	})
	if _, err := client.New("http://localhost:3000", nil); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	log.Fatal(http.ListenAndServe(":3000", mux))
}
`

// TestGoGetFromTag installs the modules as a user would once the release
// is tagged: every module of the working tree is published, at the version
// the go.work names, into a file-based module proxy; a fresh module outside
// the workspace then runs go get for the root module, adapter/redis,
// parser/msgpack, metrics/prometheus and tracing/otel, and go build and go
// vet a program using them; then go get
// and go list each other module (the examples, bench), so that every
// requirement between the modules must resolve from the tags alone.
//
// Nothing reaches the network: third-party modules come from the module
// cache's download directory, read as a second file proxy, and their
// checksums from the repository's go.sum files. The consumer's module cache
// is its own, so the unreleased versions published here never reach the
// shared cache.
func TestGoGetFromTag(t *testing.T) {
	g := newGoTool(t)
	version, err := modproxy.WorkspaceVersion(g.root, rootPath)
	if err != nil {
		t.Fatal(err)
	}
	proxy := t.TempDir()
	if err := g.repo.Write(proxy, g.mods, version, time.Now()); err != nil {
		t.Fatal(err)
	}
	c := g.consumer(t, proxy, "main.go", consumer)
	for _, m := range installed {
		c.run(t, "get", m+"@"+version)
	}
	c.run(t, "build", "-o", filepath.Join(t.TempDir(), "consumer"), ".")
	c.run(t, "vet", "./...")
	gomod, err := os.ReadFile(filepath.Join(c.dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range installed {
		if !regexp.MustCompile(`(?m)^\s*(require\s+)?` + regexp.QuoteMeta(m) + `\s+` + regexp.QuoteMeta(version) + `\b`).Match(gomod) {
			t.Errorf("the consumer's go.mod does not require %s %s:\n%s", m, version, gomod)
		}
	}

	// The other modules (examples, bench) resolve too: go get takes them
	// at the tag and every package they import is found in the graph.
	for _, m := range g.mods {
		if slices.Contains(installed, m.Path) {
			continue
		}
		t.Run(strings.TrimPrefix(m.Path, rootPath+"/"), func(t *testing.T) {
			c.run(t, "get", m.Path+"@"+version)
			c.run(t, "list", "-deps", m.Path+"/...")
		})
	}
}

// TestGoGetNeedsEveryModule is the control of TestGoGetFromTag: with the
// root module left out of the proxy, go get of adapter/redis must fail on
// its requirement of the root, so the consumer reaches the modules through
// the proxy only (not the workspace, not a cache).
func TestGoGetNeedsEveryModule(t *testing.T) {
	g := newGoTool(t)
	version, err := modproxy.WorkspaceVersion(g.root, rootPath)
	if err != nil {
		t.Fatal(err)
	}
	var redis []modproxy.Module
	for _, m := range g.mods {
		if m.Path == rootPath+"/adapter/redis" {
			redis = append(redis, m)
		}
	}
	proxy := t.TempDir()
	if err := g.repo.Write(proxy, redis, version, time.Now()); err != nil {
		t.Fatal(err)
	}
	c := g.consumer(t, proxy, "main.go", "package main\n\nimport _ \"github.com/gosio/socketio/adapter/redis\"\n\nfunc main() {}\n")
	out, err := c.cmd("get", rootPath+"/adapter/redis@"+version)
	if err == nil {
		t.Fatalf("go get succeeded without the root module in the proxy:\n%s", out)
	}
	if !strings.Contains(out, rootPath+"@"+version) {
		t.Fatalf("go get failed, but not on the root module's version:\n%s", out)
	}
}

// TestModuleLayout checks what go get relies on and the tests cannot see
// otherwise: no go.mod has a replace directive (go get ignores them), the
// modules require each other at the version the go.work names (one tag of
// every module makes a consistent release) and the go.work replaces each
// such requirement by the module's directory, and every module is in the
// go.work and in the Makefile's MODULES (so lint and tests cover it).
func TestModuleLayout(t *testing.T) {
	g := newGoTool(t)
	version, err := modproxy.WorkspaceVersion(g.root, rootPath)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	paths := map[string]bool{}
	for _, m := range g.mods {
		dirs = append(dirs, m.Dir)
		paths[m.Path] = true
	}
	slices.Sort(dirs)
	for _, m := range g.mods {
		b, err := os.ReadFile(filepath.Join(g.root, filepath.FromSlash(m.Dir), "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range directives(b) {
			switch d[0] {
			case "replace":
				t.Errorf("%s/go.mod: replace directive %q (go get ignores it; the go.work serves local development)", m.Dir, strings.Join(d, " "))
			case "require":
				if len(d) < 3 || !paths[d[1]] {
					continue
				}
				if d[2] != version {
					t.Errorf("%s/go.mod requires %s %s, not the go.work's %s", m.Dir, d[1], d[2], version)
				}
				if v, err := modproxy.WorkspaceVersion(g.root, d[1]); err != nil || v != d[2] {
					t.Errorf("%s/go.mod requires %s %s, which the go.work does not replace by its directory (%v)", m.Dir, d[1], d[2], err)
				}
			}
		}
	}
	work, err := modproxy.WorkspaceDirs(g.root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(work, dirs) {
		t.Errorf("go.work uses %v, the modules are %v", work, dirs)
	}
	mk, err := os.ReadFile(filepath.Join(g.root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^MODULES\s*:?=(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("no MODULES line in the Makefile")
	}
	var listed []string
	for _, f := range strings.Fields(string(m[1])) {
		listed = append(listed, path.Clean(f))
	}
	slices.Sort(listed)
	if !slices.Equal(listed, dirs) {
		t.Errorf("the Makefile's MODULES are %v, the modules are %v", listed, dirs)
	}
}

// directives returns the directives of a go.mod, one per line of a block,
// each as its fields ("require", path, version).
func directives(gomod []byte) [][]string {
	var ds [][]string
	block := ""
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case block != "" && f[0] == ")":
			block = ""
		case block != "":
			ds = append(ds, append([]string{block}, f...))
		case len(f) == 2 && f[1] == "(":
			block = f[0]
		default:
			ds = append(ds, f)
		}
	}
	return ds
}

// goTool is the repository, its modules and the go command.
type goTool struct {
	gobin string
	root  string
	repo  *modproxy.Repo
	mods  []modproxy.Module
	cache string // the shared GOMODCACHE
}

func newGoTool(t *testing.T) *goTool {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the install test needs the go command on PATH: %v", err)
	}
	repo, err := modproxy.Open(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := repo.Modules()
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 || mods[0].Path != rootPath {
		t.Fatalf("modules %v: the root module is not %s", mods, rootPath)
	}
	g := &goTool{gobin: gobin, root: repo.Root(), repo: repo, mods: mods}
	out, err := exec.Command(gobin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	g.cache = strings.TrimSpace(string(out))
	return g
}

// consumer makes a fresh module outside the repository with one source
// file, set up to fetch from proxy and then from the shared download cache.
// The packages of every module in the workspace are loaded first (with the
// developer's own settings) so that the third-party modules they need are
// in that cache.
func (g *goTool) consumer(t *testing.T, proxy, name, src string) *consumerModule {
	t.Helper()
	load := exec.Command(g.gobin, "list", "-deps", "-test", rootPath+"/...")
	load.Dir = g.root
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("loading the workspace's packages (to download their modules): %v\n%s", err, out)
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/consumer\n\ngo 1.25.0\n",
		name:     src,
		"go.sum": g.sums(t),
	}
	for f, body := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modcache := filepath.Join(t.TempDir(), "mod")
	env := []string{}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOWORK", "GOFLAGS", "GOPROXY", "GONOPROXY", "GOPRIVATE", "GONOSUMDB", "GOSUMDB",
			"GOINSECURE", "GOMODCACHE", "GOTOOLCHAIN", "GO111MODULE", "GOPATH":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"GOWORK=off",
		// -modcacherw: the test's own module cache can be removed;
		// -trimpath: builds do not depend on where that cache is, so the
		// build cache serves the next run.
		"GOFLAGS=-mod=mod -modcacherw -trimpath",
		"GONOSUMDB="+rootPath,
		// Our modules from the test's proxy, the others from this machine's
		// module cache; a version the workspace never needed (a consumer
		// of fewer modules may select an older one) from the public proxy.
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(g.cache, "cache", "download"))+",https://proxy.golang.org",
		"GOMODCACHE="+modcache,
		"GOPATH="+filepath.Join(t.TempDir(), "gopath"),
		"GOTOOLCHAIN=local",
	)
	c := &consumerModule{gobin: g.gobin, dir: dir, env: env}
	t.Cleanup(func() {
		// The module cache's files are writable (-modcacherw), but its
		// directories may not be: go clean removes it whatever they are.
		_, _ = c.cmd("clean", "-modcache")
	})
	return c
}

// sums returns the lines of every go.sum of the repository (and of its
// go.work.sum) but those of its own modules, deduplicated.
func (g *goTool) sums(t *testing.T) string {
	t.Helper()
	seen := map[string]bool{}
	var b strings.Builder
	files := []string{filepath.Join(g.root, "go.work.sum")}
	for _, m := range g.mods {
		files = append(files, filepath.Join(g.root, filepath.FromSlash(m.Dir), "go.sum"))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line == "" || strings.HasPrefix(line, rootPath+" ") || strings.HasPrefix(line, rootPath+"/") || seen[line] {
				continue
			}
			seen[line] = true
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

type consumerModule struct {
	gobin string
	dir   string
	env   []string
}

func (c *consumerModule) cmd(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.gobin, args...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *consumerModule) run(t *testing.T, args ...string) {
	t.Helper()
	out, err := c.cmd(args...)
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
