// Package modproxy publishes the Go modules of a working tree into a module
// proxy in the file layout (GOPROXY=file:///dir), as tagging a release
// would publish them: the tests use it to install the modules the way a
// user does, with go get, before any version exists on a real proxy.
//
// The layout is the GOPROXY protocol's: <escaped module path>/@v/list and,
// per version, .info (JSON), .mod (the go.mod) and .zip (the module's files,
// every entry under "<module>@<version>/").
//
// A module's files are chosen as the go command chooses them when it zips a
// tagged commit: the files git would commit (tracked or untracked, not
// ignored; node_modules and build outputs are ignored in this repository),
// minus nested modules (directories with their own go.mod), VCS
// directories, files of vendored packages and anything that is not a
// regular file. A nested module without a LICENSE gets the repository
// root's LICENSE, as the go command does.
package modproxy

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Module is one Go module of the tree.
type Module struct {
	// Path is the module path, from the module directive of its go.mod.
	Path string
	// Dir is the module's directory, relative to the repository root, in
	// slash form ("." for the root module).
	Dir string
}

// File is one file of a module's zip.
type File struct {
	// Name is the path inside the module, in slash form (go.mod,
	// engineio/server.go).
	Name string
	// Src is the file on disk.
	Src string
}

// Repo is a working tree holding one or more modules.
type Repo struct {
	root  string
	files []string // the files git would commit, slash form, sorted
}

// Open reads the file list of the git working tree at root. It fails when
// git is missing or root is not a work tree.
func Open(root string) (*Repo, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, fmt.Errorf("modproxy: git is needed to list the files a tag would hold: %w", err)
	}
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = abs
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("modproxy: git ls-files in %s: %v: %s", abs, err, strings.TrimSpace(stderr.String()))
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" || seen[f] {
			continue
		}
		seen[f] = true
		// Tracked files deleted from the work tree are not published.
		if _, err := os.Lstat(filepath.Join(abs, filepath.FromSlash(f))); err != nil {
			continue
		}
		files = append(files, f)
	}
	sort.Strings(files)
	return &Repo{root: abs, files: files}, nil
}

// Root returns the absolute path of the working tree.
func (r *Repo) Root() string { return r.root }

// Modules returns the modules of the tree (every go.mod git would commit,
// outside node_modules and testdata), the root module first.
func (r *Repo) Modules() ([]Module, error) {
	var mods []Module
	for _, f := range r.files {
		if path.Base(f) != "go.mod" || skippedDir(f) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(r.root, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		p, err := ModulePath(b)
		if err != nil {
			return nil, fmt.Errorf("modproxy: %s: %w", f, err)
		}
		mods = append(mods, Module{Path: p, Dir: path.Dir(f)})
	}
	sort.Slice(mods, func(i, j int) bool {
		if (mods[i].Dir == ".") != (mods[j].Dir == ".") {
			return mods[i].Dir == "."
		}
		return mods[i].Dir < mods[j].Dir
	})
	return mods, nil
}

// skippedDir reports whether a go.mod is a fixture or part of an npm
// package rather than a module of the tree: one in a node_modules or
// testdata directory. (It still cuts its directory out of the enclosing
// module's zip.)
func skippedDir(f string) bool {
	for _, el := range strings.Split(path.Dir(f), "/") {
		if el == "node_modules" || el == "testdata" {
			return true
		}
	}
	return false
}

// ModulePath returns the path named by the module directive of a go.mod.
func ModulePath(gomod []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || !unicode.IsSpace(rune(rest[0])) {
			continue
		}
		p := strings.TrimSpace(rest)
		if strings.HasPrefix(p, `"`) || strings.HasPrefix(p, "`") {
			u, err := strconv.Unquote(p)
			if err != nil {
				return "", fmt.Errorf("bad module path %s", p)
			}
			p = u
		}
		if p == "" {
			break
		}
		return p, nil
	}
	return "", errors.New("no module directive")
}

// GoVersion returns the version of the go directive of a go.mod, or "".
func GoVersion(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "go" {
			return f[1]
		}
	}
	return ""
}

// Files returns the files of m's zip, sorted by name.
func (r *Repo) Files(m Module) ([]File, error) {
	prefix := ""
	if m.Dir != "." {
		prefix = m.Dir + "/"
	}
	var names []string
	for _, f := range r.files {
		if name, ok := strings.CutPrefix(f, prefix); ok {
			names = append(names, name)
		}
	}
	// Every directory below the module root holding a go.mod is another
	// module (the go command does not look at where it is: testdata,
	// node_modules alike).
	nested := map[string]bool{}
	var goVersion string
	for _, name := range names {
		if dir, base := path.Split(name); strings.EqualFold(base, "go.mod") {
			if dir != "" {
				nested[dir] = true
			} else if b, err := os.ReadFile(filepath.Join(r.root, filepath.FromSlash(prefix+name))); err == nil {
				goVersion = GoVersion(b)
			}
		}
	}
	var files []File
	hasLicense := false
	for _, name := range names {
		if excluded(name, goVersion) || inNested(name, nested) {
			continue
		}
		src := filepath.Join(r.root, filepath.FromSlash(prefix+name))
		fi, err := os.Lstat(src)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() { // symbolic links and the like
			continue
		}
		if name == "LICENSE" {
			hasLicense = true
		}
		files = append(files, File{Name: name, Src: src})
	}
	if !hasLicense && m.Dir != "." {
		src := filepath.Join(r.root, "LICENSE")
		if fi, err := os.Lstat(src); err == nil && fi.Mode().IsRegular() {
			files = append(files, File{Name: "LICENSE", Src: src})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	return files, nil
}

// excluded applies the go command's rules for a file at name (slash form,
// relative to the module root) of a module whose go directive is
// goVersion: VCS directories, the file hg archive adds, files of vendored
// packages, with the go command's own quirks (golang.org/issue/37397: a
// file two levels below a nested "vendor" directory's parent counts as
// vendored; from go 1.24 on, vendor/modules.txt is left out too). It also
// leaves out node_modules directories, which the repository ignores: npm
// packages are never part of a release.
func excluded(name, goVersion string) bool {
	els := strings.Split(name, "/")
	for _, el := range els[:len(els)-1] {
		switch el {
		case ".git", ".hg", ".svn", ".bzr", "node_modules":
			return true
		}
	}
	if name == ".hg_archival.txt" {
		return true
	}
	if name == "vendor/modules.txt" {
		return atLeast(goVersion, 1, 24)
	}
	var i int
	if strings.HasPrefix(name, "vendor/") {
		i = len("vendor/")
	} else if strings.Contains(name, "/vendor/") {
		i = len("/vendor/") // sic: the go command's offset (issue 37397)
	} else {
		return false
	}
	return strings.Contains(name[i:], "/")
}

// atLeast reports whether the go version v (1.24, 1.24.0, 1.25rc1) is
// major.minor or later.
func atLeast(v string, major, minor int) bool {
	a, rest, _ := strings.Cut(v, ".")
	b := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		b = rest[:i]
	}
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return x > major || (x == major && y >= minor)
}

func inNested(name string, nested map[string]bool) bool {
	for {
		dir, _ := path.Split(name)
		if dir == "" {
			return false
		}
		if nested[dir] {
			return true
		}
		name = dir[:len(dir)-1]
	}
}

// Write publishes mods at version into the proxy directory dir (created if
// needed), with t as the version's time. Versions already in dir's list
// files stay listed.
func (r *Repo) Write(dir string, mods []Module, version string, t time.Time) error {
	for _, m := range mods {
		if err := r.writeModule(dir, m, version, t); err != nil {
			return fmt.Errorf("modproxy: %s@%s: %w", m.Path, version, err)
		}
	}
	return nil
}

func (r *Repo) writeModule(dir string, m Module, version string, t time.Time) error {
	ep, err := EscapePath(m.Path)
	if err != nil {
		return err
	}
	ev, err := EscapePath(version)
	if err != nil {
		return err
	}
	vdir := filepath.Join(dir, filepath.FromSlash(ep), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	files, err := r.Files(m)
	if err != nil {
		return err
	}
	var gomod []byte
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		b, err := os.ReadFile(f.Src)
		if err != nil {
			return err
		}
		if f.Name == "go.mod" {
			gomod = b
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.Path + "@" + version + "/" + f.Name, Method: zip.Deflate, Modified: t})
		if err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if gomod == nil {
		return errors.New("no go.mod among the module's files")
	}
	info, err := json.Marshal(struct {
		Version string
		Time    string
	}{version, t.UTC().Format(time.RFC3339)})
	if err != nil {
		return err
	}
	for ext, b := range map[string][]byte{".info": info, ".mod": gomod, ".zip": buf.Bytes()} {
		if err := os.WriteFile(filepath.Join(vdir, ev+ext), b, 0o644); err != nil {
			return err
		}
	}
	return addToList(filepath.Join(vdir, "list"), version)
}

func addToList(file, version string) error {
	b, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, v := range strings.Fields(string(b)) {
		if v == version {
			return nil
		}
	}
	return os.WriteFile(file, append(b, version+"\n"...), 0o644)
}

// EscapePath escapes a module path or version for the proxy layout: each
// upper-case letter becomes '!' and its lower-case form.
func EscapePath(p string) (string, error) {
	var b strings.Builder
	for _, c := range p {
		switch {
		case c == '!' || c >= unicode.MaxASCII:
			return "", fmt.Errorf("modproxy: %q cannot be escaped", p)
		case 'A' <= c && c <= 'Z':
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteRune(c)
		}
	}
	return b.String(), nil
}

// WorkspaceVersion returns the version at which the go.work of the tree at
// root replaces module modPath by a directory of the tree ("replace
// github.com/gosio/socketio v0.1.0 => ./"): the version the modules
// require each other at, published by the next release (docs/releasing.md).
func WorkspaceVersion(root, modPath string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return "", err
	}
	inBlock := false
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case f[0] == "replace" && len(f) == 2 && f[1] == "(":
			inBlock = true
			continue
		case inBlock && f[0] == ")":
			inBlock = false
			continue
		case f[0] == "replace":
			f = f[1:]
		case !inBlock:
			continue
		}
		if len(f) >= 4 && f[0] == modPath && f[2] == "=>" {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("modproxy: go.work has no versioned replace of %s by a directory", modPath)
}

// WorkspaceDirs returns the directories of the use directives of the
// tree's go.work, in slash form relative to root ("." for the root).
func WorkspaceDirs(root string) ([]string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		return nil, err
	}
	var dirs []string
	inBlock := false
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case f[0] == "use" && len(f) == 2 && f[1] == "(":
			inBlock = true
			continue
		case inBlock && f[0] == ")":
			inBlock = false
			continue
		case f[0] == "use" && len(f) == 2:
			f = f[1:]
		case !inBlock:
			continue
		}
		dirs = append(dirs, path.Clean(strings.Trim(f[0], `"`)))
	}
	sort.Strings(dirs)
	return dirs, nil
}
