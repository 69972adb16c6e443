package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gosio/socketio/client"
)

// A client for the seed's echo server: "mensaje" is answered with
// "respuesta".
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, "http://localhost:3000", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	client.On(s, "respuesta", func(msg string) { fmt.Println(msg) })
	if err := s.Emit("mensaje", "¡Hola desde Go!"); err != nil {
		log.Fatal(err)
	}
}

// Several namespaces on one connection, with reconnection events and an
// auth token refreshed before every (re)connection.
func ExampleManager() {
	m, err := client.NewManager("https://example.com", &client.Options{
		Transports:           []string{client.WebSocket},
		ReconnectionAttempts: 10,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.OnReconnectAttempt(func(n int) { log.Printf("reconnecting (attempt %d)", n) })
	admin := m.Socket("/admin", &client.SocketOptions{
		AuthFunc: func(ctx context.Context) (any, error) {
			return map[string]string{"token": "fresh token"}, nil
		},
	})
	admin.OnDisconnect(func(reason string) { log.Println("disconnected:", reason) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.Connect(ctx); err != nil {
		log.Fatal(err) // a *client.ConnectError carries the server's message and data
	}
	answer, err := admin.EmitWithAck(ctx, "stats")
	if err != nil {
		log.Fatal(err)
	}
	var stats map[string]int
	_ = answer.Bind(&stats)
	fmt.Println(stats)
}

// Receive suits tests and command-line tools: it returns the events no
// handler took, in order.
func ExampleSocket_Receive() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, "http://localhost:3000", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	_ = s.Emit("mensaje", "hola")
	ev, err := s.Receive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var text string
	_ = ev.Bind(&text)
	fmt.Println(ev.Name, text)
}
