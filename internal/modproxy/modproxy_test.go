package modproxy

import (
	"archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// gitTree makes a git work tree in a temporary directory with the given
// files (slash paths; content "" makes an empty file) and .gitignore.
func gitTree(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("the test needs git: %v", err)
	}
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "tree"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

func TestModulesAndFiles(t *testing.T) {
	dir := gitTree(t, map[string]string{
		".gitignore":                     "node_modules/\n/dist/\n",
		"LICENSE":                        "MIT",
		"go.mod":                         "module example.com/Root\n\ngo 1.25.0\n",
		"a.go":                           "package root",
		"sub/pkg/b.go":                   "package pkg",
		"vendor/modules.txt":             "# vendored",
		"vendor/example.com/x/x.go":      "package x",
		"inner/go.mod":                   "// the inner module\nmodule \"example.com/Root/inner\" // quoted\n",
		"inner/c.go":                     "package inner",
		"inner/deep/go.mod":              "module example.com/Root/inner/deep\n",
		"inner/deep/d.go":                "package deep",
		"web/src/main.ts":                "export {}",
		"web/testdata/go.mod":            "module example.com/fixture\n",
		"other/LICENSE":                  "own license",
		"other/go.mod":                   "module example.com/Root/other\n",
		"conformance/suites/x/README.md": "suite",
	})
	// Not committed, yet part of the work tree: untracked files count, the
	// ignored ones and deleted ones do not.
	for name, body := range map[string]string{
		"untracked.go":                   "package root",
		"web/node_modules/lib/go.mod":    "module example.com/npm\n",
		"web/node_modules/lib/index.js":  "",
		"dist/bundle.js":                 "",
		"inner/node_modules/pkg/main.js": "",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(filepath.Join(dir, "sub/pkg/b.go")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.go", filepath.Join(dir, "link.go")); err != nil {
		t.Fatal(err)
	}

	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mods, err := r.Modules()
	if err != nil {
		t.Fatal(err)
	}
	want := []Module{
		{"example.com/Root", "."},
		{"example.com/Root/inner", "inner"},
		{"example.com/Root/inner/deep", "inner/deep"},
		{"example.com/Root/other", "other"},
	}
	if !reflect.DeepEqual(mods, want) {
		t.Fatalf("modules:\n got %v\nwant %v", mods, want)
	}

	names := func(m Module) []string {
		fs, err := r.Files(m)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, f := range fs {
			n = append(n, f.Name)
		}
		return n
	}
	for _, tc := range []struct {
		m    Module
		want []string
	}{
		// Left out: the nested modules (web/testdata has a go.mod too),
		// vendored packages and, the module being go 1.25,
		// vendor/modules.txt; ignored, deleted and linked files.
		{mods[0], []string{".gitignore", "LICENSE", "a.go", "conformance/suites/x/README.md", "go.mod",
			"untracked.go", "web/src/main.ts"}},
		// No LICENSE of its own: the root's is copied in.
		{mods[1], []string{"LICENSE", "c.go", "go.mod"}},
		{mods[2], []string{"LICENSE", "d.go", "go.mod"}},
		{mods[3], []string{"LICENSE", "go.mod"}},
	} {
		if got := names(tc.m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s files:\n got %v\nwant %v", tc.m.Path, got, tc.want)
		}
	}
	fs, _ := r.Files(mods[3])
	if b, _ := os.ReadFile(fs[0].Src); string(b) != "own license" {
		t.Errorf("other/LICENSE replaced by %q", b)
	}

	proxy := t.TempDir()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := r.Write(proxy, mods[:2], "v0.1.0", when); err != nil {
		t.Fatal(err)
	}
	if err := r.Write(proxy, mods[:1], "v0.2.0", when); err != nil {
		t.Fatal(err)
	}
	vdir := filepath.Join(proxy, "example.com", "!root", "@v")
	if b, err := os.ReadFile(filepath.Join(vdir, "list")); err != nil || string(b) != "v0.1.0\nv0.2.0\n" {
		t.Fatalf("list: %q, %v", b, err)
	}
	var info struct{ Version, Time string }
	b, err := os.ReadFile(filepath.Join(vdir, "v0.1.0.info"))
	if err != nil || json.Unmarshal(b, &info) != nil || info.Version != "v0.1.0" || info.Time != "2026-01-02T03:04:05Z" {
		t.Fatalf("info %s: %v", b, err)
	}
	if b, _ := os.ReadFile(filepath.Join(vdir, "v0.1.0.mod")); !strings.HasPrefix(string(b), "module example.com/Root\n") {
		t.Fatalf(".mod = %q", b)
	}
	zr, err := zip.OpenReader(filepath.Join(proxy, "example.com", "!root", "inner", "@v", "v0.1.0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var entries []string
	for _, f := range zr.File {
		entries = append(entries, f.Name)
	}
	wantEntries := []string{"example.com/Root/inner@v0.1.0/LICENSE", "example.com/Root/inner@v0.1.0/c.go", "example.com/Root/inner@v0.1.0/go.mod"}
	if !reflect.DeepEqual(entries, wantEntries) {
		t.Fatalf("zip entries:\n got %v\nwant %v", entries, wantEntries)
	}
}

func TestExcluded(t *testing.T) {
	for _, tc := range []struct {
		name, goVersion string
		want            bool
	}{
		{"a.go", "1.25.0", false},
		{"vendor/modules.txt", "1.23", false},
		{"vendor/modules.txt", "1.24", true},
		{"vendor/modules.txt", "1.25.0", true},
		{"vendor/vendor.go", "1.25.0", false},
		{"vendor/x/x.go", "1.25.0", true},
		{"pkg/vendor/x/x.go", "1.25.0", true},
		{"pkg/vendor/vendor.go", "1.25.0", true},             // the go command's quirk (issue 37397)
		{"longpackagename/vendor/vendor.go", "1.25.0", true}, // same quirk
		{"a/vendor.go", "1.25.0", false},
		{"notvendor/x/x.go", "1.25.0", false},
		{".hg_archival.txt", "1.25.0", true},
		{"x/.hg_archival.txt", "1.25.0", false},
		{"x/.git/config", "1.25.0", true},
		{"web/node_modules/lib/index.js", "1.25.0", true},
		{".gitignore", "1.25.0", false},
	} {
		if got := excluded(tc.name, tc.goVersion); got != tc.want {
			t.Errorf("excluded(%q, %q) = %v, want %v", tc.name, tc.goVersion, got, tc.want)
		}
	}
}

func TestModulePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"module example.com/m\n", "example.com/m"},
		{"// c\n\nmodule   example.com/m // trailing\ngo 1.25\n", "example.com/m"},
		{"module \"example.com/q\"\n", "example.com/q"},
		{"modules example.com/no\nmodule example.com/yes\n", "example.com/yes"},
		{"go 1.25\n", ""},
		{"module\n", ""},
	} {
		got, err := ModulePath([]byte(tc.in))
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("ModulePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestEscapePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"github.com/gosio/socketio", "github.com/gosio/socketio"},
		{"github.com/BurntSushi/toml", "github.com/!burnt!sushi/toml"},
		{"v1.0.0-RC1", "v1.0.0-!r!c1"},
	} {
		if got, err := EscapePath(tc.in); err != nil || got != tc.want {
			t.Errorf("EscapePath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := EscapePath("a!b"); err == nil {
		t.Error("EscapePath accepted '!'")
	}
}
