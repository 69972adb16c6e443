// Command metrics serves the seed's Socket.IO backend ("mensaje" ->
// "respuesta", plus "sum" with an acknowledgement) and its Prometheus
// metrics on /metrics: the server's (package metrics/prometheus, with the
// namespace and event labels limited to what the application knows) next to
// the Go runtime's and the process's.
//
//	PORT=3000 go run .
//	curl -s localhost:3000/metrics | grep ^socketio_
package main

import (
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	socketio "github.com/gosio/socketio"
	sioprom "github.com/gosio/socketio/metrics/prometheus"
)

// newServer returns the seed's Socket.IO server and the router serving it
// with the metrics of reg, where the server's collector is registered.
func newServer() (*socketio.Server, http.Handler, error) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		return nil, nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Namespaces and events are labelled by name only for those the
	// application serves: a client can send any event name, and the other
	// names are counted together as "other".
	if _, err := sioprom.New(io, sioprom.Options{
		Registerer:     reg,
		NamespaceLabel: sioprom.Allow("/"),
		EventLabel:     sioprom.Allow("mensaje", "respuesta", "sum"),
	}); err != nil {
		_ = io.Close()
		return nil, nil, err
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "mensaje", func(data string) {
			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})
		socketio.OnAck(s, "sum", func(n []float64) (float64, error) {
			total := 0.0
			for _, x := range n {
				total += x
			}
			return total, nil
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return io, mux, nil
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	io, h, err := newServer()
	if err != nil {
		log.Fatal(err)
	}
	defer io.Close()
	srv := &http.Server{
		Addr:    ":" + port,
		Handler: h,
		// No ReadTimeout or WriteTimeout: long polls and WebSockets outlive
		// them (see the README's Routers section).
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Printf("Socket.IO on http://localhost:%s/socket.io/, metrics on http://localhost:%s/metrics", port, port)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}
