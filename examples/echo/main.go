// Command echo is the Go twin of the seed note's Fastify backend: it logs
// new clients, answers every "mensaje" with a "respuesta", logs disconnects,
// and serves the seed's frontend (built into frontend/dist) on "/".
//
//	PORT=3000 go run .
//
// The frontend's code is the seed's, unchanged: it connects to
// http://localhost:3000, so keep the default port (or use the Vite dev
// server, whose origin http://localhost:5173 is allowed by CORS).
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
	"github.com/gosio/socketio/engineio"
)

// newServer returns the Socket.IO server of the seed.
func newServer() (*socketio.Server, error) {
	io, err := socketio.NewServer(socketio.Config{
		Engine: engineio.Config{CORS: &engineio.CORS{Origins: []string{"http://localhost:5173"}}},
	})
	if err != nil {
		return nil, err
	}
	io.OnConnection(func(socket *socketio.Socket) {
		log.Printf("Nuevo cliente conectado: %s", socket.ID())

		socketio.On(socket, "mensaje", func(data string) {
			log.Printf("Mensaje recibido: %s", data)
			_ = socket.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})

		socket.OnDisconnect(func(string) {
			log.Printf("Cliente desconectado: %s", socket.ID())
		})
	})
	return io, nil
}

// Timeouts of the HTTP server. See newHTTPServer.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// newHTTPServer returns the HTTP server for h. ReadHeaderTimeout cuts
// clients that send their request headers slowly (slowloris: without it,
// each such client holds a connection and a goroutine for as long as it
// likes), and IdleTimeout closes keep-alive connections left idle between
// requests. Neither touches a request once its headers are in: a long poll
// (held up to the ping interval, 25 s) and a WebSocket (taken over from
// net/http) are not cut.
//
// ReadTimeout and WriteTimeout are not needed and stay unset. They would
// not cut long polls or WebSockets either (the engine moves a long poll's
// write deadline past the heartbeat, and net/http clears the deadlines of
// a connection taken over for a WebSocket), but they count from the start
// of every request: a ReadTimeout must leave time to upload a POST of
// MaxPayload bytes (1 MB) on the slowest link served, and a WriteTimeout
// also bounds the other handlers (the frontend's files here).
func newHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
	}
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
	if _, err := os.Stat(dist); err != nil {
		log.Printf("warning: %s not found (run `npm run build` in frontend/); only Socket.IO is served", dist)
	}
	io, err := newServer()
	if err != nil {
		log.Fatal(err)
	}
	srv := newHTTPServer(":"+port, newHandler(io, dist))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = io.Shutdown(shutdown)
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("Servidor corriendo en http://localhost:%s", port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
