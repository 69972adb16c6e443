// Command chi serves the seed's Socket.IO backend ("mensaje" -> "respuesta")
// on a chi router, behind chi's request logger and panic recoverer (which
// wrap the ResponseWriter) and a middleware that authenticates the user.
// The user the middleware put into the request's context reaches the
// socket through Socket.Context: the connection middleware refuses
// anonymous clients, a handler answers "whoami".
//
//	PORT=3000 go run .
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
)

type userKey struct{}

// authenticate is the application's middleware: a request with
// "Authorization: Bearer <name>" is made by the user <name>. (A real one
// would check a token.) It runs for every HTTP request Socket.IO receives:
// the polling requests and the WebSocket upgrade.
func authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && name != "" {
			r = r.WithContext(context.WithValue(r.Context(), userKey{}, name))
		}
		next.ServeHTTP(w, r)
	})
}

// userOf returns the user authenticate found, or "".
func userOf(ctx context.Context) string {
	name, _ := ctx.Value(userKey{}).(string)
	return name
}

// newServer returns the seed's Socket.IO server, for authenticated users.
func newServer() (*socketio.Server, error) {
	io, err := socketio.NewServer(socketio.Config{
		// Keep the handshake request's context, so that what the
		// middleware stored in it reaches the sockets.
		Engine: engineio.Config{SessionContext: engineio.KeepRequestContext},
	})
	if err != nil {
		return nil, err
	}
	// The socket's context carries the values of the HTTP request that
	// opened the connection.
	io.Use(func(s *socketio.Socket) error {
		if userOf(s.Context()) == "" {
			return socketio.NewConnectError("unauthorized", nil)
		}
		return nil
	})
	io.OnConnection(func(s *socketio.Socket) {
		user := userOf(s.Context())
		socketio.On(s, "mensaje", func(data string) {
			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})
		s.On("whoami", func(e *socketio.Event) { _ = e.Ack(user) })
	})
	return io, nil
}

// newRouter mounts Socket.IO on "/socket.io/*": chi matches a pattern
// exactly, so the wildcard is needed for the requests below the path.
func newRouter(io *socketio.Server) http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.Logger, middleware.Recoverer, authenticate)
	r.Handle("/socket.io/*", io)
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Socket.IO on /socket.io/\n"))
	})
	return r
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	io, err := newServer()
	if err != nil {
		log.Fatal(err)
	}
	defer io.Close()
	srv := &http.Server{
		Addr:    ":" + port,
		Handler: newRouter(io),
		// No ReadTimeout or WriteTimeout: long polls and WebSockets outlive
		// them (see the README's Routers section).
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Printf("Servidor corriendo en http://localhost:%s", port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
