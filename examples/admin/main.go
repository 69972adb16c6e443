// Command admin is a Socket.IO server watched by the Socket.IO Admin UI:
// a small app (a page whose sockets join a room and ping the server), the
// instrumentation of package github.com/gosio/socketio/admin with a user
// name and password, and the Admin UI's own files, all on one port.
//
//	npm ci && go run .
//
// then open http://localhost:3000/admin-ui/, type http://localhost:3000
// as the server URL with the user admin and the password changeit, and
// open http://localhost:3000/ in a few tabs to see their sockets come and
// go. The UI and the socket.io-client bundle come from npm (this
// folder's package.json): the project ships no third-party code.
//
// Environment: PORT (3000), ADMIN_USER (admin), ADMIN_PASSWORD_HASH (a
// bcrypt hash; without it ADMIN_PASSWORD, default changeit, is hashed at
// start), ADMIN_MODE (development or production), NODE_MODULES (the
// folder holding @socket.io/admin-ui and socket.io-client,
// ./node_modules), REDIS_ADDR (e.g. 127.0.0.1:6379: run several servers
// over the Redis adapter; the UI connected to one sees them all),
// SERVER_ID (the name of this server in the UI: the host name, or with
// REDIS_ADDR the host name and the process id).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	redisadapter "github.com/gosio/socketio/adapter/redis"
	"github.com/gosio/socketio/admin"
)

// settings are the example's configuration, from the environment.
type settings struct {
	user, hash  string
	mode        admin.Mode
	nodeModules string
	serverID    string          // "": the host name
	adapter     adapter.Factory // nil: in memory
}

// page is the app: each tab is a socket that joins the lobby and pings.
const page = `<!doctype html>
<meta charset="utf-8">
<title>gosio app watched by the Admin UI</title>
<p>Socket <code id="id">connecting…</code> — <span id="last"></span></p>
<p>The Admin UI is at <a href="/admin-ui/">/admin-ui/</a>.</p>
<script src="/socket.io/socket.io.min.js"></script>
<script>
  const socket = io();
  socket.on("connect", () => {
    document.getElementById("id").textContent = socket.id;
    socket.emit("join", "lobby");
  });
  socket.on("pong", (n) => (document.getElementById("last").textContent = "pong " + n));
  let n = 0;
  setInterval(() => socket.emit("ping", ++n), 5000);
</script>
`

// newServer returns the app's Socket.IO server, instrumented for the
// Admin UI, and the HTTP handler serving it, its page and the UI.
func newServer(s settings) (*socketio.Server, *admin.Instrumentation, http.Handler, error) {
	ui, err := admin.UIDir(filepath.Join(s.nodeModules, "@socket.io", "admin-ui", "ui", "dist"))
	if err != nil {
		return nil, nil, nil, err
	}
	io, err := socketio.NewServer(socketio.Config{
		ClientFiles: os.DirFS(filepath.Join(s.nodeModules, "socket.io-client", "dist")),
		Adapter:     s.adapter,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	io.OnConnection(func(sock *socketio.Socket) {
		socketio.On(sock, "join", func(room string) { sock.Join(room) })
		socketio.On(sock, "ping", func(n int) { _ = sock.Emit("pong", n) })
	})
	in, err := admin.Instrument(io, admin.Options{
		Auth:     admin.Basic{Username: s.user, PasswordHash: s.hash},
		Mode:     s.mode,
		ServerID: s.serverID,
	})
	if err != nil {
		_ = io.Close()
		return nil, nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	uiHandler := admin.UIHandler("/admin-ui/", ui)
	mux.Handle("/admin-ui/", uiHandler)
	mux.Handle("/admin-ui", uiHandler) // redirected to /admin-ui/
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	})
	return io, in, mux, nil
}

// env returns the environment variable k, or def.
func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// load reads the settings, hashing ADMIN_PASSWORD when no hash is given
// and connecting to Redis when REDIS_ADDR is set (the client is closed by
// the returned function).
func load() (settings, func(), error) {
	s := settings{
		user:        env("ADMIN_USER", "admin"),
		hash:        os.Getenv("ADMIN_PASSWORD_HASH"),
		mode:        admin.Mode(env("ADMIN_MODE", string(admin.Development))),
		nodeModules: env("NODE_MODULES", "node_modules"),
		serverID:    os.Getenv("SERVER_ID"),
	}
	closeRedis := func() {}
	if addr := os.Getenv("REDIS_ADDR"); addr != "" {
		rdb := goredis.NewClient(&goredis.Options{Addr: addr})
		closeRedis = func() { _ = rdb.Close() }
		s.adapter = redisadapter.NewAdapter(rdb, redisadapter.Options{})
		if s.serverID == "" {
			host, _ := os.Hostname()
			s.serverID = host + "#" + strconv.Itoa(os.Getpid()) // unique per server, as the UI needs
		}
	}
	if s.hash == "" {
		h, err := bcrypt.GenerateFromPassword([]byte(env("ADMIN_PASSWORD", "changeit")), bcrypt.DefaultCost)
		if err != nil {
			closeRedis()
			return s, nil, fmt.Errorf("hashing ADMIN_PASSWORD: %w", err)
		}
		s.hash = string(h)
	}
	return s, closeRedis, nil
}

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

// run serves until SIGINT or SIGTERM, then shuts down.
func run() error {
	s, closeRedis, err := load()
	if err != nil {
		return err
	}
	defer closeRedis()
	io, in, h, err := newServer(s)
	if err != nil {
		return fmt.Errorf("%w\n(run `npm ci` in examples/admin, or set NODE_MODULES)", err)
	}
	addr := ":" + env("PORT", "3000")
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	failed := make(chan error, 1)
	go func() {
		log.Printf("app on http://localhost%s/, Admin UI on http://localhost%s/admin-ui/ (user %s)", addr, addr, s.user)
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			failed <- err
		}
	}()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	select {
	case <-stop:
	case err = <-failed:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = in.Close()
	if serr := io.Shutdown(ctx); serr != nil {
		log.Print(serr)
	}
	_ = srv.Shutdown(ctx)
	return err
}
