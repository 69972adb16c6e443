package socketio

import "testing"

func TestDebugTopics(t *testing.T) {
	for _, tc := range []struct {
		env         string
		sio, engine bool
	}{
		{"", false, false},
		{"socket.io*", true, false},
		{"socket.io:*", true, false},
		{"socket.io:socket", true, false},
		{"engine", false, true},
		{"engine*", false, true},
		{"engine,socket.io*", true, true},
		{"engine socket.io:client", true, true},
		{"*", true, true},
		{"*,-engine*", true, false},
		{"express:*", false, false},
		{"socket.io-redis", false, false},
	} {
		sio, eng := debugTopics(tc.env)
		if sio != tc.sio || eng != tc.engine {
			t.Errorf("DEBUG=%q: socket.io %v engine %v, want %v %v", tc.env, sio, eng, tc.sio, tc.engine)
		}
	}
}
