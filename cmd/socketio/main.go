package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// Exit codes, as documented in the package comment and the README.
const (
	exitOK           = 0   // success; connect, listen and serve also end with it on SIGINT
	exitError        = 1   // any other failure (an emit refused by the client, serve cannot listen...)
	exitUsage        = 2   // bad command line: flags, arguments, URL, JSON
	exitConnect      = 3   // no connection: refused, DNS, TLS, HTTP error, --timeout while connecting
	exitRefused      = 4   // the server refused the namespace (connect_error: middleware, "Invalid namespace")
	exitTimeout      = 5   // no acknowledgement within --timeout (call, emit --ack)
	exitDisconnected = 6   // the connection ended: the server disconnected the socket, or it was lost
	exitInterrupted  = 130 // SIGINT or SIGTERM before emit or call were done
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal the default handling is back: a second
		// Ctrl-C ends the program at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	// usage is the synopsis and description printed by --help, before the
	// flags.
	usage string
	// flags registers the command's flags on fs and returns the function
	// that runs it with the positional arguments.
	flags func(fs *flag.FlagSet, c *cli) func(ctx context.Context, args []string) int
}

var commands = []*command{connectCommand, listenCommand, emitCommand, callCommand, serveCommand, versionCommand}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// cli is what a command writes to and reads from.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// errorf reports an error on stderr, prefixed with the program name.
func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintf(c.stderr, "socketio: "+format+"\n", args...)
}

// run is the whole program: args are the command-line arguments without
// the program name; the result is the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			cmd := lookup(args[1])
			if cmd == nil {
				c.errorf("unknown command %q (see socketio --help)", args[1])
				return exitUsage
			}
			fmt.Fprint(stdout, commandUsage(cmd))
			return exitOK
		}
		fmt.Fprint(stdout, mainUsage())
		return exitOK
	case "-version", "--version":
		args[0] = "version"
	}
	cmd := lookup(args[0])
	if cmd == nil {
		if strings.HasPrefix(args[0], "-") {
			c.errorf("flags go after the command: socketio <command> [flags] (see socketio --help)")
		} else {
			c.errorf("unknown command %q (see socketio --help)", args[0])
		}
		return exitUsage
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed below
	exec := cmd.flags(fs, c)
	pos, err := parseArgs(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, commandUsage(cmd))
		return exitOK
	}
	if err != nil {
		c.errorf("%s: %v (see socketio %s --help)", cmd.name, err, cmd.name)
		return exitUsage
	}
	return exec(ctx, pos)
}

// parseArgs parses the flags wherever they are among the arguments (the
// flag package stops at the first positional one), and returns the
// positional arguments. "--" ends the flags; arguments that look like
// negative numbers ("-1", "-2.5e3") are positional, being JSON values.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(pos, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' || (a[1] >= '0' && a[1] <= '9') || a[1] == '.' {
			pos = append(pos, a)
			continue
		}
		// A flag without "=value" takes the next argument as its value,
		// unless it is a boolean.
		chunk := []string{a}
		if name := strings.TrimLeft(a, "-"); !strings.Contains(name, "=") {
			if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
				chunk = append(chunk, args[i+1])
				i++
			}
		}
		if err := fs.Parse(chunk); err != nil {
			return nil, err
		}
	}
	return pos, nil
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// versionCommand prints the module version the binary was built from.
var versionCommand = &command{
	name:    "version",
	summary: "print the version",
	usage: `usage: socketio version

Prints the version of the module the binary was built from (the tag that
go install fetched, or "(devel)" for a local build), its VCS revision when
known, and the Go version.
`,
	flags: func(fs *flag.FlagSet, c *cli) func(context.Context, []string) int {
		return func(_ context.Context, args []string) int {
			if len(args) > 0 {
				c.errorf("version: unexpected argument %q", args[0])
				return exitUsage
			}
			fmt.Fprintln(c.stdout, versionString())
			return exitOK
		}
	},
}

func versionString() string {
	version, rev := "(unknown)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
				if len(rev) > 12 {
					rev = rev[:12]
				}
			case "vcs.modified":
				if s.Value == "true" && rev != "" {
					rev += "+dirty"
				}
			}
		}
	}
	s := "socketio " + version
	if rev != "" {
		s += " (" + rev + ")"
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func mainUsage() string {
	var b strings.Builder
	b.WriteString(`socketio: a command-line client and development server for Socket.IO v4

usage: socketio <command> [flags] [arguments]

commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Run "socketio <command> --help" for the flags and arguments of a command.

exit codes:
  0    success (connect, listen and serve also exit with 0 on Ctrl-C)
  1    other failure
  2    bad command line (flags, arguments, URL, JSON)
  3    cannot connect (refused, DNS, TLS, HTTP error, --timeout)
  4    the server refused the namespace (connect_error)
  5    no acknowledgement within --timeout
  6    disconnected (by the server, or the connection was lost)
  130  interrupted before emit or call were done
`)
	return b.String()
}

// commandUsage is a command's help: its text, then every flag with its
// default.
func commandUsage(cmd *command) string {
	var b strings.Builder
	b.WriteString(cmd.usage)
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.flags(fs, &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv})
	// A flag whose usage is "short for --name" is shown beside name.
	short := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if long, ok := strings.CutPrefix(f.Usage, "short for --"); ok {
			short[long] = f.Name
		}
	})
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, "short for --") {
			return
		}
		if first {
			b.WriteString("\nflags:\n")
			first = false
		}
		b.WriteString("  ")
		if s := short[f.Name]; s != "" {
			b.WriteString("-" + s + ", ")
		}
		b.WriteString("--" + f.Name)
		placeholder, usage := flag.UnquoteUsage(f)
		if placeholder != "" {
			b.WriteString(" " + placeholder)
		}
		b.WriteString("\n        " + usage)
		switch f.DefValue {
		case "", "false", "0":
		default:
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	return b.String()
}
