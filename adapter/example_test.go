package adapter_test

import (
	"encoding/json"
	"fmt"
	"log"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/parser"
)

// printNsp is a namespace for the example: it encodes nothing (its sockets
// print the packet they get) and keeps no recovery state.
type printNsp struct{}

func (printNsp) Name() string                                              { return "/chat" }
func (printNsp) Encode(*parser.Packet) (adapter.Encoded, error)            { return nil, nil }
func (printNsp) NextAckID() uint64                                         { return 1 }
func (printNsp) OnServerSideEmit([]json.RawMessage, func(json.RawMessage)) {}
func (printNsp) RecoveryDuration() time.Duration                           { return 0 }

// printSocket is a socket handle that prints what it is delivered.
type printSocket struct{ id string }

func (s *printSocket) ID() adapter.SocketID { return s.id }
func (s *printSocket) Deliver(p *parser.Packet, _ adapter.Encoded, _ adapter.BroadcastFlags) {
	name, args, _ := parser.DecodeEvent(p)
	fmt.Printf("%s got %s %s\n", s.id, name, args[0])
}
func (s *printSocket) ExpectAck(uint64, func(adapter.AckResponse)) {}
func (s *printSocket) Disconnect(bool)                             {}
func (s *printSocket) Info() adapter.SocketInfo                    { return adapter.SocketInfo{ID: s.id} }

// The in-memory adapter keeps the handles the namespace gives it with
// AddAll and delivers broadcasts to them: to a room, to everyone but the
// members of a room, to everyone.
func ExampleNewMemory() {
	a, err := adapter.NewMemory(printNsp{})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	ana, bob := &printSocket{"ana"}, &printSocket{"bob"}
	a.AddAll(ana, "ana", "lobby") // a socket is in its own room too
	a.AddAll(bob, "bob")
	fmt.Println(a.SocketRooms("ana"), a.Sockets(adapter.BroadcastOptions{Rooms: []adapter.Room{"lobby"}}))

	for _, b := range []struct {
		event string
		opts  adapter.BroadcastOptions
	}{
		{"to-lobby", adapter.BroadcastOptions{Rooms: []adapter.Room{"lobby"}}},
		{"not-lobby", adapter.BroadcastOptions{Except: []adapter.Room{"lobby"}}},
	} {
		p, err := parser.NewEvent("/chat", b.event, 1)
		if err != nil {
			log.Fatal(err)
		}
		if err := a.Broadcast(p, b.opts); err != nil {
			log.Fatal(err)
		}
	}
	a.DelAll("ana") // ana disconnected: gone from every room
	fmt.Println(a.Rooms())
	// Output:
	// [ana lobby] [ana]
	// ana got to-lobby 1
	// bob got not-lobby 1
	// [bob]
}
