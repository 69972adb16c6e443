// Command client is a Go client for the seed's echo server (examples/echo):
// it sends "mensaje" and prints the server's "respuesta".
//
//	go run ../echo &      # the server, on http://localhost:3000
//	go run . "¡Hola desde Go!"
//
// SERVER overrides the server URL (default http://localhost:3000).
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/gosio/socketio/client"
)

// run connects to url, sends msg as "mensaje" and returns the "respuesta".
func run(ctx context.Context, url, msg string) (string, error) {
	s, err := client.Dial(ctx, url, nil)
	if err != nil {
		return "", err
	}
	defer s.Close()
	log.Printf("Conectado al servidor: %s", s.ID())

	respuesta := make(chan string, 1)
	client.On(s, "respuesta", func(m string) { respuesta <- m })
	if err := s.Emit("mensaje", msg); err != nil {
		return "", err
	}
	select {
	case m := <-respuesta:
		return m, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func main() {
	url := os.Getenv("SERVER")
	if url == "" {
		url = "http://localhost:3000"
	}
	msg := "¡Hola desde Go!"
	if len(os.Args) > 1 {
		msg = strings.Join(os.Args[1:], " ")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := run(ctx, url, msg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Respuesta del servidor:", m)
}
