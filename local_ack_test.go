package socketio_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/client"
)

// clusterCount is the in-memory adapter claiming to be one server of
// three, as a network adapter in a cluster would.
type clusterCount struct{ adapter.Adapter }

func (clusterCount) ServerCount(context.Context) (int, error) { return 3, nil }

// A local broadcast with ack in a cluster completes once this server's
// sockets have answered: it does not wait for counts from the other
// servers, which the local flag keeps out.
func TestLocalEmitWithAckInCluster(t *testing.T) {
	io, err := socketio.NewServer(socketio.Config{Adapter: func(nsp adapter.Namespace) (adapter.Adapter, error) {
		m, err := adapter.NewMemory(nsp)
		return clusterCount{m}, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(io)
	defer hs.Close()
	defer io.Close()
	s, err := client.New(hs.URL, &client.Options{Transports: []string{client.WebSocket}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.On("vote", func(e *client.Event) { _ = e.Ack("yes") })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := io.Local().Timeout(3*time.Second).EmitWithAck(ctx, "vote")
	if err != nil || len(res) != 1 {
		t.Fatalf("local emit with ack: %d answers, %v; want 1 and no error", len(res), err)
	}
	// Without the local flag the other servers' counts are awaited (none
	// come here): the timeout error, with the local answer.
	res, err = io.Timeout(300*time.Millisecond).EmitWithAck(ctx, "vote")
	if err == nil || len(res) != 1 {
		t.Fatalf("cluster emit with ack: %d answers, %v; want 1 and ErrAckTimeout", len(res), err)
	}
}
