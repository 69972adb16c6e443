package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gosio/socketio/client"
)

// A client for the seed's echo server: "mensaje" is answered with
// "respuesta". The handlers are registered before the socket connects, so
// that none of the server's events is missed.
func Example() {
	s, err := client.New("http://localhost:3000", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	respuesta := make(chan string, 1)
	client.On(s, "respuesta", func(msg string) { respuesta <- msg })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		log.Fatal(err) // names the cause: "connection refused", a refused namespace...
	}
	if err := s.Emit("mensaje", "¡Hola desde Go!"); err != nil {
		log.Fatal(err)
	}
	select {
	case msg := <-respuesta:
		fmt.Println(msg)
	case <-ctx.Done():
		log.Fatal("no answer")
	}
}

// Dial is New and Connect in one call, for clients that need no handler
// for what the server emits on connection (it goes to Receive).
func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := client.Dial(ctx, "http://localhost:3000", nil)
	if errors.Is(err, context.DeadlineExceeded) {
		// The message names the cause, as in "socketio client: context
		// deadline exceeded; last connection error: ... connection refused".
		log.Fatal("no connection within 10s: ", err)
	} else if err != nil {
		log.Fatal(err) // a *client.ConnectError: the server refused the namespace
	}
	defer s.Close()
	if err := s.Emit("mensaje", "hola"); err != nil {
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
