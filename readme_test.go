package socketio_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
)

// exampleBody returns the body of the function name in a Go file,
// unindented by one tab.
func exampleBody(t *testing.T, file, name string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != name || fn.Recv != nil {
			continue
		}
		body := string(src[fset.Position(fn.Body.Lbrace).Offset+1 : fset.Position(fn.Body.Rbrace).Offset])
		lines := strings.Split(strings.Trim(body, "\n"), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimPrefix(l, "\t")
		}
		return strings.Join(lines, "\n") + "\n"
	}
	t.Fatalf("%s: no func %s", file, name)
	return ""
}

// readmeBlock returns the first ```go block of README.md after marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("README.md: %q not found", marker)
	}
	s = s[i:]
	start := strings.Index(s, "```go\n")
	if start < 0 {
		t.Fatalf("README.md: no go block after %q", marker)
	}
	s = s[start+len("```go\n"):]
	end := strings.Index(s, "```\n")
	if end < 0 {
		t.Fatal("README.md: unterminated go block")
	}
	return s[:end]
}

// The README's server snippet is the package example, which go vet and the
// compiler check (it does not run: it listens on :3000).
func TestREADMESnippetIsTheExample(t *testing.T) {
	want := exampleBody(t, "example_test.go", "Example")
	if got := readmeBlock(t, "The backend (the package example `Example`"); got != want {
		t.Fatalf("README.md's server snippet differs from Example in example_test.go:\n--- README\n%s--- Example\n%s", got, want)
	}
}
