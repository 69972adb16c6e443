package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/client"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ", ") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// connFlags are the flags shared by the commands that connect to a server.
type connFlags struct {
	namespace   string
	auth        string
	query       listFlag
	header      listFlag
	transports  string
	path        string
	timeout     time.Duration
	insecure    bool
	noReconnect bool
	linger      time.Duration // emit without --ack
}

const (
	defaultTimeout = 10 * time.Second
	defaultLinger  = 250 * time.Millisecond
)

func (f *connFlags) register(fs *flag.FlagSet, reconnects bool) {
	fs.StringVar(&f.namespace, "namespace", "", "namespace to join, e.g. /chat (default: the URL's path, else /)")
	fs.StringVar(&f.namespace, "n", "", "short for --namespace")
	fs.StringVar(&f.auth, "auth", "", "JSON object sent with the CONNECT packet (the server's handshake.auth)")
	fs.Var(&f.query, "query", "a query parameter (`k=v`) of every request, seen in the handshake (repeatable)")
	fs.Var(&f.query, "q", "short for --query")
	fs.Var(&f.header, "header", "an HTTP header (`'Name: value'`) sent with every request (repeatable)")
	fs.Var(&f.header, "H", "short for --header")
	fs.StringVar(&f.transports, "transports", "polling,websocket", "transports in order: the first opens the connection; polling then websocket upgrades")
	fs.StringVar(&f.path, "path", client.DefaultPath, "the server's Engine.IO path")
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout, "how long to wait for the connection, and for each acknowledgement")
	fs.BoolVar(&f.insecure, "insecure", false, "accept any TLS certificate (https and wss URLs)")
	fs.BoolVar(&f.insecure, "k", false, "short for --insecure")
	if reconnects {
		fs.BoolVar(&f.noReconnect, "no-reconnect", false, "exit (code 6) when the connection is lost instead of reconnecting")
	}
}

// target is a parsed connection request.
type target struct {
	url       string // scheme and host, the namespace path stripped
	namespace string
	opts      client.Options
}

// resolve checks the URL and the flags. The namespace is --namespace, or
// the URL's path as socket.io-client reads io("http://host/chat"). A URL
// without a scheme gets http://.
func (f *connFlags) resolve(raw string) (*target, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %v", err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return nil, fmt.Errorf("bad URL %q: the scheme must be http, https, ws or wss", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("bad URL %q: no host", raw)
	}
	if f.timeout <= 0 {
		return nil, errors.New("--timeout must be positive")
	}
	t := &target{namespace: u.Path}
	if f.namespace != "" {
		t.namespace = f.namespace
	}
	if t.namespace == "" {
		t.namespace = "/"
	}
	if !strings.HasPrefix(t.namespace, "/") {
		t.namespace = "/" + t.namespace
	}
	o := &t.opts
	o.Path = f.path
	o.Timeout = f.timeout
	o.Query = u.Query()
	for _, q := range f.query {
		k, v, ok := strings.Cut(q, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--query %q: want k=v", q)
		}
		o.Query.Add(k, v)
	}
	for _, h := range f.header {
		k, v, ok := strings.Cut(h, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("--header %q: want 'Name: value'", h)
		}
		if o.Header == nil {
			o.Header = http.Header{}
		}
		o.Header.Add(k, strings.TrimSpace(v))
	}
	for _, tr := range strings.Split(f.transports, ",") {
		switch tr = strings.TrimSpace(tr); tr {
		case client.Polling, client.WebSocket:
			o.Transports = append(o.Transports, tr)
		default:
			return nil, fmt.Errorf("--transports: unknown transport %q (polling, websocket)", tr)
		}
	}
	if f.auth != "" {
		var m map[string]any
		if err := json.Unmarshal([]byte(f.auth), &m); err != nil || m == nil {
			return nil, fmt.Errorf("--auth %q: want a JSON object", f.auth)
		}
		o.Socket.Auth = json.RawMessage(f.auth)
	}
	if f.insecure {
		o.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	o.NoReconnection = f.noReconnect
	u.Path, u.RawPath, u.RawQuery, u.Fragment = "", "", "", ""
	t.url = u.String()
	return t, nil
}

// session is a socket connected for a command.
type session struct {
	m *client.Manager
	s *client.Socket
}

func (s *session) close() { _ = s.m.Close() }

// connect opens the connection and joins the namespace; setup registers
// the socket's handlers first, so that nothing the server emits on
// connection is missed. The first connection attempt that fails ends the
// wait at once (a refused port does not wait for --timeout); later losses
// reconnect unless NoReconnection is set. On failure it reports the error
// and returns the exit code.
func (c *cli) connect(ctx context.Context, t *target, setup func(*client.Socket)) (*session, int) {
	m, err := client.NewManager(t.url, &t.opts)
	if err != nil {
		c.errorf("%v", err)
		return nil, exitUsage
	}
	s := m.Socket(t.namespace, &t.opts.Socket)
	cctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
	defer cancel()
	var (
		mu      sync.Mutex
		first   error
		waiting = true
	)
	s.OnConnectError(func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if waiting && first == nil {
			first = err
			cancel()
		}
	})
	if setup != nil {
		setup(s)
	}
	err = s.Connect(cctx)
	mu.Lock()
	waiting = false
	if err != nil && first != nil {
		err = first
	}
	mu.Unlock()
	if err == nil {
		return &session{m: m, s: s}, exitOK
	}
	_ = m.Close()
	where := t.url + " (namespace " + t.namespace + ")"
	var ce *client.ConnectError
	switch {
	case ctx.Err() != nil:
		c.errorf("interrupted while connecting to %s", where)
		return nil, exitInterrupted
	case errors.As(err, &ce):
		msg := fmt.Sprintf("the server refused %s: %s", where, ce.Message)
		if len(ce.Data) > 0 {
			msg += " " + string(ce.Data)
		}
		c.errorf("%s", msg)
		return nil, exitRefused
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, client.ErrConnectTimeout):
		c.errorf("cannot connect to %s: no connection within %v (%v)", where, t.opts.Timeout, err)
		return nil, exitConnect
	default:
		c.errorf("cannot connect to %s: %v", where, err)
		return nil, exitConnect
	}
}
