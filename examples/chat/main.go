// Command chat is a chat server built on the public API of
// github.com/gosio/socketio, with its frontend (frontend/, TypeScript and
// socket.io-client, built into frontend/dist) served on the same port:
// nicknames checked by a connection middleware, rooms with member counts,
// messages acknowledged by the server (the page shows delivery ticks), a
// typing indicator on volatile events, presence, and connection state
// recovery, so that a client that loses its connection for a moment gets
// the messages sent meanwhile when it comes back.
//
//	cd frontend && npm ci && npm run build && cd .. && go run .
//
// or `make chat` from the repository's root; then open http://localhost:3000
// (PORT changes the port, DIST the folder of the built frontend). The page
// takes ?transport=websocket (WebSocket only) or ?transport=polling (HTTP
// long-polling only); by default it starts with polling and upgrades.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	socketio "github.com/gosio/socketio"
)

// recoveryWindow is how long the server keeps the session and the missed
// events of a client that lost its connection.
const recoveryWindow = 2 * time.Minute

// newServer returns the chat's Socket.IO server and its chat.
func newServer() (*socketio.Server, *chat, error) {
	io, err := socketio.NewServer(socketio.Config{
		ConnectionStateRecovery: &socketio.RecoveryConfig{MaxDisconnectionDuration: recoveryWindow},
	})
	if err != nil {
		return nil, nil, err
	}
	return io, newChat(io), nil
}

// newHandler mounts the Socket.IO server and the built frontend.
func newHandler(io *socketio.Server, dist string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.Handle("/", http.FileServer(http.Dir(dist)))
	return mux
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	dist := os.Getenv("DIST")
	if dist == "" {
		dist = "frontend/dist"
	}
	if _, err := os.Stat(dist + "/index.html"); err != nil {
		log.Printf("warning: %s/index.html not found (run `npm ci && npm run build` in frontend/, or `make chat`); only Socket.IO is served", dist)
	}
	io, _, err := newServer()
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr:    ":" + port,
		Handler: newHandler(io, dist),
		// Cut clients that send their headers slowly and idle keep-alive
		// connections; long polls and WebSockets are not affected (see
		// examples/echo and docs/engineio.md).
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("chat on http://localhost:%s", port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
