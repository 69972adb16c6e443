package adapter_test

import (
	"testing"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter/adaptertest"
)

// The in-memory adapter passes the conformance suite's single-server cases,
// connection state recovery included.
func TestConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Options{
		NewNode:  func(testing.TB, string) socketio.Config { return socketio.Config{} },
		Recovery: adaptertest.RecoveryLocal,
	})
}
