package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/gosio/socketio/parser"
)

// runInProcess calls run as main would.
func runInProcess(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		out, err string // substrings of stdout and stderr
		noOut    bool
	}{
		{"no command", nil, exitUsage, "", "usage: socketio <command>", true},
		{"help", []string{"--help"}, exitOK, "exit codes:", "", false},
		{"-h", []string{"-h"}, exitOK, "commands:", "", false},
		{"help command", []string{"help", "call"}, exitOK, "usage: socketio call", "", false},
		{"help unknown", []string{"help", "nope"}, exitUsage, "", `unknown command "nope"`, true},
		{"unknown command", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`, true},
		{"flag first", []string{"--timeout", "1s"}, exitUsage, "", "flags go after the command", true},
		{"version", []string{"version"}, exitOK, "socketio ", "", false},
		{"--version", []string{"--version"}, exitOK, "socketio ", "", false},
		{"version extra", []string{"version", "x"}, exitUsage, "", "unexpected argument", true},
		{"command help", []string{"listen", "--help"}, exitOK, "usage: socketio listen", "", false},
		{"command -h", []string{"serve", "-h"}, exitOK, "usage: socketio serve", "", false},
		{"unknown flag", []string{"emit", "--bogus", "http://x", "e"}, exitUsage, "", "flag provided but not defined: -bogus", true},
		{"bad duration", []string{"call", "--timeout", "soon", "http://x", "e"}, exitUsage, "", `invalid value "soon"`, true},
		{"missing flag value", []string{"call", "http://x", "e", "--auth"}, exitUsage, "", "flag needs an argument", true},
		{"emit without event", []string{"emit", "http://x"}, exitUsage, "", "want a URL and an event name", true},
		{"call without url", []string{"call"}, exitUsage, "", "want a URL and an event name", true},
		{"connect two urls", []string{"connect", "http://a", "http://b"}, exitUsage, "", "want one URL", true},
		{"listen no url", []string{"listen"}, exitUsage, "", "want a URL", true},
		{"negative count", []string{"listen", "-c", "-1", "http://x"}, exitUsage, "", "--count must not be negative", true},
		{"serve argument", []string{"serve", "x"}, exitUsage, "", `unexpected argument "x"`, true},
		{"bad JSON arg", []string{"emit", "http://127.0.0.1:1", "e", "hello"}, exitUsage, "", "argument 1: not JSON", true},
		{"bad binary", []string{"emit", "http://127.0.0.1:1", "e", `{"$binary":"!!"}`}, exitUsage, "", "$binary: illegal base64", true},
		{"bad auth", []string{"call", "--auth", "[1]", "http://x", "e"}, exitUsage, "", "--auth \"[1]\": want a JSON object", true},
		{"bad query", []string{"call", "-q", "novalue", "http://x", "e"}, exitUsage, "", `--query "novalue": want k=v`, true},
		{"bad header", []string{"call", "-H", "NoColon", "http://x", "e"}, exitUsage, "", `--header "NoColon"`, true},
		{"bad transport", []string{"call", "--transports", "carrier-pigeon", "http://x", "e"}, exitUsage, "", `unknown transport "carrier-pigeon"`, true},
		{"bad timeout", []string{"call", "--timeout", "0s", "http://x", "e"}, exitUsage, "", "--timeout must be positive", true},
		{"bad format", []string{"listen", "--format", "xml", "http://x"}, exitUsage, "", `--format "xml"`, true},
		{"bad color", []string{"listen", "--color", "rainbow", "http://x"}, exitUsage, "", `--color "rainbow"`, true},
		{"bad reply", []string{"listen", "--reply", "nope", "http://x"}, exitUsage, "", "--reply argument 1: not JSON", true},
		{"bad scheme", []string{"listen", "gopher://x"}, exitUsage, "", "the scheme must be", true},
		{"serve bad transport", []string{"serve", "--addr", "127.0.0.1:0", "--transports", "smoke"}, exitUsage, "", "unknown transport smoke", true},
		{"serve bad addr", []string{"serve", "--addr", "127.0.0.1:99999"}, exitError, "", "invalid port", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runInProcess(tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) || (tc.noOut && out != "") {
				t.Fatalf("socketio %q: got code %d\nstdout: %s\nstderr: %s\nwant code %d, stdout with %q, stderr with %q",
					tc.args, code, out, errOut, tc.code, tc.out, tc.err)
			}
		})
	}
}

// Every flag of every command is in its help.
func TestHelpListsEveryFlag(t *testing.T) {
	for _, cmd := range commands {
		help := commandUsage(cmd)
		if !strings.HasPrefix(help, "usage: socketio "+cmd.name) {
			t.Errorf("%s: help starts with %q", cmd.name, help[:min(40, len(help))])
		}
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.flags(fs, &cli{})
		fs.VisitAll(func(f *flag.Flag) {
			name := "--" + f.Name
			if long, ok := strings.CutPrefix(f.Usage, "short for --"); ok {
				name = "-" + f.Name + ", --" + long
			}
			if !strings.Contains(help, name) {
				t.Errorf("%s --help does not show %s:\n%s", cmd.name, name, help)
			}
		})
		if !strings.Contains(mainUsage(), "  "+cmd.name+" ") {
			t.Errorf("socketio --help does not list %s", cmd.name)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		ack  bool
		ns   string
		err  string
	}{
		{[]string{"u", "e"}, []string{"u", "e"}, false, "", ""},
		{[]string{"--ack", "u", "e", "-n", "/x"}, []string{"u", "e"}, true, "/x", ""},
		{[]string{"u", "--namespace=/y", "e", "-1", "-2.5e3", "--ack"}, []string{"u", "e", "-1", "-2.5e3"}, true, "/y", ""},
		{[]string{"u", "e", "--", "--ack", "-n"}, []string{"u", "e", "--ack", "-n"}, false, "", ""},
		{[]string{"u", "-", "-.5"}, []string{"u", "-", "-.5"}, false, "", ""},
		{[]string{"u", "--ack=false", "-n", "-1"}, []string{"u"}, false, "-1", ""},
		{[]string{"-x"}, nil, false, "", "flag provided but not defined: -x"},
		{[]string{"u", "-n"}, nil, false, "", "flag needs an argument"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(bytes.Buffer))
		ack := fs.Bool("ack", false, "")
		var ns string
		fs.StringVar(&ns, "n", "", "")
		fs.StringVar(&ns, "namespace", "", "")
		pos, err := parseArgs(fs, tc.args)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: want error %q, got %v", tc.args, tc.err, err)
			}
			continue
		}
		if err != nil || !slices.Equal(pos, tc.pos) || *ack != tc.ack || ns != tc.ns {
			t.Errorf("%q: got %q ack=%v ns=%q err=%v; want %q ack=%v ns=%q", tc.args, pos, *ack, ns, err, tc.pos, tc.ack, tc.ns)
		}
	}
}

// encoded returns what the emitted args look like on the wire.
func encoded(t *testing.T, args []any) (string, [][]byte) {
	t.Helper()
	data, atts, err := parser.MarshalArgs(args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), atts
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line, event, wire string
		atts              int
		err               string
	}{
		{`chat`, "chat", `[]`, 0, ""},
		{`  chat   "hello"  `, "chat", `["hello"]`, 0, ""},
		{"chat\t1\t2", "chat", `[1,2]`, 0, ""},
		{`chat "hello" {"b":1,"a":[1.50,-2]} null true`, "chat", `["hello",{"b":1,"a":[1.50,-2]},null,true]`, 0, ""},
		{`"my event" 1`, "my event", `[1]`, 0, ""},
		{`":ack" 1`, ":ack", `[1]`, 0, ""},
		{`up {"$binary":"AAEC"} [{"$binary":""}]`, "up", `[{"_placeholder":true,"num":0},[{"_placeholder":true,"num":1}]]`, 2, ""},
		{`nums 12345678901234567890 1e400`, "nums", `[12345678901234567890,1e400]`, 0, ""},
		{`{"a":1}`, "{\"a\":1}", `[]`, 0, ""},
		{`chat hello`, "", "", 0, "argument 1: not JSON"},
		{`chat "ok" {bad}`, "", "", 0, "argument 2: not JSON"},
		{`"unterminated`, "", "", 0, "event name"},
		{``, "", "", 0, "no event name"},
		{`b {"$binary":42}`, "", "", 0, "want a base64 string"},
	} {
		event, args, err := parseLine(tc.line)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: want error %q, got %v", tc.line, tc.err, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		wire, atts := encoded(t, args)
		if event != tc.event || wire != tc.wire || len(atts) != tc.atts {
			t.Errorf("%q: got %q %s (%d attachments), want %q %s (%d)", tc.line, event, wire, len(atts), tc.event, tc.wire, tc.atts)
		}
	}
}

func TestRenderArgs(t *testing.T) {
	long := bytes.Repeat([]byte{0xab}, 100)
	args := parser.NewArgs([]json.RawMessage{
		json.RawMessage(`"x"`),
		json.RawMessage(`{"z":1,"a":{"_placeholder":true,"num":0},"n":1.50}`),
		json.RawMessage(`[{"_placeholder":true,"num":1}]`),
		json.RawMessage(`{"_placeholder":true,"num":7}`), // no such attachment: shown as it is
	}, [][]byte{{1, 2}, long})
	got, err := argsJSON(args)
	if err != nil {
		t.Fatal(err)
	}
	want := `["x",{"z":1,"a":{"$binary":"AQI="},"n":1.50},[{"$binary":"` + b64(long) + `"}],{"_placeholder":true,"num":7}]`
	if got != want {
		t.Fatalf("argsJSON:\ngot  %s\nwant %s", got, want)
	}
	p := &printer{}
	got, err = renderArgs(args, " ", "", "", style{binary: p.prettyBinary})
	if err != nil {
		t.Fatal(err)
	}
	want = `"x" {"z":1,"a":<2 bytes AQI=>,"n":1.50} [<100 bytes ` + b64(long)[:48] + `…>] {"_placeholder":true,"num":7}`
	if got != want {
		t.Fatalf("pretty:\ngot  %s\nwant %s", got, want)
	}
	// The echo of serve sends the same bytes back.
	vs, err := echoArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	wire, atts := encoded(t, vs)
	if wire != `["x",{"a":{"_placeholder":true,"num":0},"n":1.50,"z":1},[{"_placeholder":true,"num":1}],{"_placeholder":true,"num":7}]` ||
		len(atts) != 2 || !bytes.Equal(atts[0], []byte{1, 2}) || !bytes.Equal(atts[1], long) {
		t.Fatalf("echo: %s %v", wire, atts)
	}
}

func b64(b []byte) string {
	var s strings.Builder
	jsonBinary(&s, b)
	return strings.TrimSuffix(strings.TrimPrefix(s.String(), `{"$binary":"`), `"}`)
}

// Colors: auto means a character device without NO_COLOR; always and
// never are what they say; JSON is never colored.
func TestColorChoice(t *testing.T) {
	dev, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	pipe := new(bytes.Buffer)
	for _, tc := range []struct {
		format, color, noColor string
		dev                    bool
		want                   bool
	}{
		{"pretty", "auto", "", true, true},
		{"pretty", "auto", "1", true, false},
		{"pretty", "auto", "", false, false},
		{"pretty", "always", "1", false, true},
		{"pretty", "never", "", true, false},
		{"json", "always", "", true, false},
	} {
		c := &cli{getenv: func(k string) string {
			if k == "NO_COLOR" {
				return tc.noColor
			}
			return ""
		}}
		var w io.Writer = pipe
		if tc.dev {
			w = dev
		}
		p, err := c.newPrinter(&outputFlags{format: tc.format, color: tc.color}, w)
		if err != nil || p.color != tc.want {
			t.Errorf("%+v: color %v, err %v", tc, p != nil && p.color, err)
		}
	}
}

// FuzzArgs: whatever a peer sends as an argument and whatever is typed on
// a line, nothing panics; valid JSON is printed as valid JSON.
func FuzzArgs(f *testing.F) {
	for _, s := range []string{
		`"x"`, `{"a":[1,2,{"_placeholder":true,"num":0}]}`, `{"_placeholder":true,"num":1}`,
		`{"$binary":"AAEC"}`, `[[[[[]]]]]`, `1e999`, `chat "hi" {"a":1}`, `"ev" [{"$binary":"!"}]`,
	} {
		f.Add(s, []byte{1, 2})
	}
	f.Fuzz(func(t *testing.T, s string, att []byte) {
		if json.Valid([]byte(s)) {
			a := parser.NewArgs([]json.RawMessage{json.RawMessage(s)}, [][]byte{att})
			out, err := argsJSON(a)
			if err != nil {
				t.Fatalf("argsJSON(%q): %v", s, err)
			}
			if !json.Valid([]byte(out)) {
				t.Fatalf("argsJSON(%q) = %q, not JSON", s, out)
			}
			p := &printer{color: true}
			if _, err := renderArgs(a, " ", "", "", style{binary: p.prettyBinary, color: true}); err != nil {
				t.Fatalf("pretty(%q): %v", s, err)
			}
			if _, err := echoArgs(a); err != nil {
				t.Fatalf("echoArgs(%q): %v", s, err)
			}
		}
		if _, args, err := parseLine(s); err == nil {
			if _, _, err := parser.MarshalArgs(args...); err != nil {
				t.Fatalf("parseLine(%q) gave arguments that do not encode: %v", s, err)
			}
		}
	})
}
