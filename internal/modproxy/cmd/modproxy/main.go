// Command modproxy publishes every module of this repository's working
// tree into a module proxy directory, at the version the go.work names
// (docs/releasing.md), and prints the directory. scripts/tidy.sh uses it
// to run go mod tidy before that version is tagged:
//
//	go run ./internal/modproxy/cmd/modproxy -o /tmp/proxy
//	GOPROXY=file:///tmp/proxy,... go mod tidy
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/gosio/socketio/internal/modproxy"
)

func main() {
	out := flag.String("o", "", "proxy directory to write (required)")
	root := flag.String("root", ".", "the repository's working tree")
	version := flag.String("version", "", "version to publish (default: the go.work's)")
	flag.Parse()
	log.SetFlags(0)
	if *out == "" {
		log.Fatal("modproxy: -o is required")
	}
	repo, err := modproxy.Open(*root)
	if err != nil {
		log.Fatal(err)
	}
	mods, err := repo.Modules()
	if err != nil {
		log.Fatal(err)
	}
	if len(mods) == 0 {
		log.Fatalf("modproxy: no go.mod in %s", repo.Root())
	}
	if *version == "" {
		if *version, err = modproxy.WorkspaceVersion(repo.Root(), mods[0].Path); err != nil {
			log.Fatal(err)
		}
	}
	if err := repo.Write(*out, mods, *version, time.Now()); err != nil {
		log.Fatal(err)
	}
	abs, err := filepath.Abs(*out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, abs)
}
