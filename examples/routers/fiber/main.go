// Command fiber serves the seed's Socket.IO backend ("mensaje" ->
// "respuesta") beside a Fiber (v3) application on one port: a net/http
// server routes /socket.io/ to Socket.IO and everything else to the Fiber
// app, through Fiber's adaptor.FiberApp.
//
// Socket.IO is not mounted inside Fiber (app.All("/socket.io/*",
// adaptor.HTTPHandler(io))): Fiber runs on fasthttp, whose adaptor builds
// each http.Request from fasthttp's buffers without copying them, and
// fasthttp reuses those buffers for the next request on the connection. A
// Socket.IO session keeps what its handshake request carried (query,
// headers, transport, context) for as long as it lives, so the next
// request overwrites it: fiber_test.go shows it. The README's Routers
// section says what works and what does not.
//
//	PORT=3000 go run .
package main

import (
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/adaptor"

	socketio "github.com/gosio/socketio"
)

// newServer returns the seed's Socket.IO server.
func newServer() (*socketio.Server, error) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		return nil, err
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "mensaje", func(data string) {
			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})
	})
	return io, nil
}

// newApp returns the Fiber application: everything but Socket.IO.
func newApp() *fiber.App {
	app := fiber.New()
	app.Get("/", func(c fiber.Ctx) error { return c.SendString("Fiber here; Socket.IO on /socket.io/\n") })
	app.Get("/api/hello/:name", func(c fiber.Ctx) error {
		return c.JSON(fiber.Map{"hello": c.Params("name")})
	})
	return app
}

// newHandler puts net/http in front: Socket.IO gets its requests from
// net/http directly (WebSocket upgrades, long polls, its own request
// data), the Fiber app gets the others through adaptor.FiberApp. Fiber's
// middleware does not see the Socket.IO requests; wrap io in net/http
// middleware for those.
func newHandler(io *socketio.Server, app *fiber.App) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.Handle("/", adaptor.FiberApp(app))
	return mux
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
	// The net/http server takes the place of app.Listen: its timeouts
	// apply to the Fiber routes too.
	srv := &http.Server{
		Addr:    ":" + port,
		Handler: newHandler(io, newApp()),
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
