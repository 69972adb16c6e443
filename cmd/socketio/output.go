package main

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/client"
)

// ANSI styles of the pretty form.
const (
	ansiReset   = "\x1b[0m"
	ansiDim     = "\x1b[2m"
	ansiEvent   = "\x1b[1;36m" // bold cyan
	ansiString  = "\x1b[32m"   // green
	ansiScalar  = "\x1b[33m"   // yellow: numbers, true, false, null
	ansiBinary  = "\x1b[35m"   // magenta
	ansiState   = "\x1b[1;33m" // bold yellow
	ansiFailure = "\x1b[1;31m" // bold red
)

func scalarColor(raw []byte) string {
	if len(raw) > 0 && raw[0] == '"' {
		return ansiString
	}
	return ansiScalar
}

// timeFormat is the time of JSON lines: RFC 3339, milliseconds, local zone.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// outputFlags choose the form of what connect and listen print.
type outputFlags struct {
	format string
	color  string
}

func (f *outputFlags) register(fs *flag.FlagSet, format string) {
	fs.StringVar(&f.format, "format", format, "output form: json (one JSON object a line) or pretty (readable, colored on a terminal)")
	fs.StringVar(&f.color, "color", "auto", "colors of the pretty form: auto (on a terminal, unless NO_COLOR is set), always or never")
}

// printer writes events and connection states, one a line, as JSON or in
// the pretty form. It is safe for concurrent use.
type printer struct {
	mu    sync.Mutex
	w     io.Writer
	json  bool
	color bool
}

func (c *cli) newPrinter(f *outputFlags, w io.Writer) (*printer, error) {
	p := &printer{w: w}
	switch f.format {
	case "json":
		p.json = true
	case "pretty":
	default:
		return nil, fmt.Errorf("--format %q: want json or pretty", f.format)
	}
	switch f.color {
	case "always":
		p.color = true
	case "never":
	case "auto":
		p.color = c.getenv("NO_COLOR") == "" && isTerminal(w)
	default:
		return nil, fmt.Errorf("--color %q: want auto, always or never", f.color)
	}
	p.color = p.color && !p.json
	return p, nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *printer) paint(b *strings.Builder, style, s string) {
	if p.color {
		b.WriteString(style)
		b.WriteString(s)
		b.WriteString(ansiReset)
		return
	}
	b.WriteString(s)
}

// prettyBinary writes binary data as <N bytes base64>, the base64 cut
// after 48 characters.
func (p *printer) prettyBinary(b *strings.Builder, data []byte) {
	s := base64.StdEncoding.EncodeToString(data)
	if len(s) > 48 {
		s = s[:48] + "…"
	}
	p.paint(b, ansiBinary, "<"+strconv.Itoa(len(data))+" bytes "+s+">")
}

func (p *printer) line(s string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := io.WriteString(p.w, s+"\n")
	return err
}

func (p *printer) stamp(b *strings.Builder, now time.Time) {
	p.paint(b, ansiDim, now.Format("15:04:05.000"))
	b.WriteByte(' ')
}

// event prints an event received: {"event":..,"args":[..],"time":..} with
// "ack":true when the server waits for an acknowledgement, or
// `15:04:05.000 < name arg arg` in the pretty form.
func (p *printer) event(name string, a client.Args, ack bool) error {
	now := time.Now()
	var b strings.Builder
	if p.json {
		args, err := argsJSON(a)
		if err != nil {
			return fmt.Errorf("event %q: %w", name, err)
		}
		nb, _ := marshalNoEscape(name)
		fmt.Fprintf(&b, `{"event":%s,"args":%s,"time":"%s"`, nb, args, now.Format(timeFormat))
		if ack {
			b.WriteString(`,"ack":true`)
		}
		b.WriteByte('}')
		return p.line(b.String())
	}
	args, err := renderArgs(a, " ", "", "", style{binary: p.prettyBinary, color: p.color})
	if err != nil {
		return fmt.Errorf("event %q: %w", name, err)
	}
	p.stamp(&b, now)
	b.WriteString("< ")
	p.paint(&b, ansiEvent, name)
	if args != "" {
		b.WriteByte(' ')
		b.WriteString(args)
	}
	if ack {
		p.paint(&b, ansiDim, "  (waits for an ack)")
	}
	return p.line(b.String())
}

// ackAnswer prints the acknowledgement of an event emitted with :ack:
// {"ack":name,"args":[..],"time":..} or `15:04:05.000 ack name: arg arg`;
// failure is set instead of the arguments when none came.
func (p *printer) ackAnswer(name string, a client.Args, failure error) error {
	now := time.Now()
	var b strings.Builder
	nb, _ := marshalNoEscape(name)
	if p.json {
		if failure != nil {
			eb, _ := marshalNoEscape(failure.Error())
			fmt.Fprintf(&b, `{"ack":%s,"error":%s,"time":"%s"}`, nb, eb, now.Format(timeFormat))
			return p.line(b.String())
		}
		args, err := argsJSON(a)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, `{"ack":%s,"args":%s,"time":"%s"}`, nb, args, now.Format(timeFormat))
		return p.line(b.String())
	}
	p.stamp(&b, now)
	b.WriteString("ack ")
	p.paint(&b, ansiEvent, name)
	b.WriteString(": ")
	if failure != nil {
		p.paint(&b, ansiFailure, failure.Error())
		return p.line(b.String())
	}
	args, err := renderArgs(a, " ", "", "", style{binary: p.prettyBinary, color: p.color})
	if err != nil {
		return err
	}
	b.WriteString(args)
	return p.line(b.String())
}

// state prints a change of the connection: {"state":..,"k":v,..,"time":..}
// or `15:04:05.000 * state k=v`. kv alternates keys and string values.
func (p *printer) state(state string, kv ...string) error {
	now := time.Now()
	var b strings.Builder
	if p.json {
		fmt.Fprintf(&b, `{"state":%q`, state)
		for i := 0; i+1 < len(kv); i += 2 {
			vb, _ := marshalNoEscape(kv[i+1])
			fmt.Fprintf(&b, `,%q:%s`, kv[i], vb)
		}
		fmt.Fprintf(&b, `,"time":"%s"}`, now.Format(timeFormat))
		return p.line(b.String())
	}
	p.stamp(&b, now)
	style := ansiState
	if state == "error" || state == "connect_error" || state == "disconnected" {
		style = ansiFailure
	}
	p.paint(&b, style, "* "+state)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteString(" " + kv[i] + "=" + kv[i+1])
	}
	return p.line(b.String())
}
