package main

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
)

// TestEcho runs the client against a server with the seed's behaviour
// (examples/echo: "mensaje" is answered with "respuesta").
func TestEcho(t *testing.T) {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		t.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "mensaje", func(data string) {
			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})
	})
	srv := httptest.NewServer(io)
	defer srv.Close()
	defer io.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := run(ctx, srv.URL, "hola")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hola, recibí tu mensaje: hola"; got != want {
		t.Fatalf("respuesta %q, want %q", got, want)
	}
}
