package nats_test

import (
	"log"
	"net/http"

	"github.com/nats-io/nats.go"

	socketio "github.com/gosio/socketio"
	natsadapter "github.com/gosio/socketio/adapter/nats"
)

// A server of a cluster over NATS with JetStream: broadcasts survive a
// server's short disconnection, and clients recover their session on any
// server.
func ExampleNewAdapter() {
	nc, err := nats.Connect("nats://127.0.0.1:4222", nats.MaxReconnects(-1))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	io, err := socketio.NewServer(socketio.Config{
		Adapter:                 natsadapter.NewAdapter(nc, natsadapter.Options{Prefix: "chat", JetStream: true}),
		ConnectionStateRecovery: &socketio.RecoveryConfig{},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer io.Close()
	io.OnConnection(func(s *socketio.Socket) {
		s.Join("lobby")
		_ = io.To("lobby").Emit("joined", s.ID()) // reaches the lobby on every server
	})
	log.Fatal(http.ListenAndServe(":3000", io))
}
