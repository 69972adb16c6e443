// Package conformance holds the servers the official Socket.IO conformance
// suites run against, built only on the public API, and (in its tests) the
// runner that starts them and runs the suites from suites/ with Node.
//
// The suites are the Socket.IO maintainers' own, copied unchanged (MIT, see
// suites/LICENSE): the Engine.IO protocol v4 suite, the Socket.IO protocol v5
// suite and socket.io-client's test suite. Each server is configured as the
// suite's documentation asks; NewClientFixture mirrors the Node fixture
// test/support/server.ts of socket.io-client.
package conformance

import (
	"errors"
	"net/http"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/engineio"
)

// NewEngineIO returns the Engine.IO v4 suite's server: path /engine.io/,
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000, CORS "*",
// and every message echoed to its session (text as text, binary as
// binary).
func NewEngineIO() (*engineio.Server, error) {
	srv, err := engineio.NewServer(engineio.Config{
		Path:         "/engine.io/",
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
		MaxPayload:   1_000_000,
		CORS:         &engineio.CORS{Origins: []string{"*"}},
	})
	if err != nil {
		return nil, err
	}
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) {
			if binary {
				_ = c.SendBinary(data)
			} else {
				_ = c.Send(data)
			}
		})
	})
	return srv, nil
}

// NewSocketIO returns the Socket.IO v5 suite's server: path /socket.io/,
// pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1,000,000,
// connectTimeout 1,000 ms, CORS "*", no recovery, the namespaces / and
// /custom; each connection gets its CONNECT payload back as "auth", and /
// echoes "message" as "message-back" and acknowledges "message-with-ack"
// with its arguments.
func NewSocketIO() (*socketio.Server, error) {
	io, err := socketio.NewServer(socketio.Config{
		ConnectTimeout: time.Second,
		Engine: engineio.Config{
			PingInterval: 300 * time.Millisecond,
			PingTimeout:  200 * time.Millisecond,
			MaxPayload:   1_000_000,
			CORS:         &engineio.CORS{Origins: []string{"*"}},
		},
	})
	if err != nil {
		return nil, err
	}
	sendAuth := func(s *socketio.Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
	}
	io.OnConnection(func(s *socketio.Socket) {
		sendAuth(s)
		s.On("message", func(e *socketio.Event) {
			args, err := e.Args().Values()
			if err == nil {
				_ = s.Emit("message-back", args...)
			}
		})
		s.On("message-with-ack", func(e *socketio.Event) {
			args, err := e.Args().Values()
			if err == nil {
				_ = e.Ack(args...)
			}
		})
	})
	custom, err := io.Of("/custom")
	if err != nil {
		return nil, err
	}
	custom.OnConnection(sendAuth)
	return io, nil
}

// NewClientFixture returns the server socket.io-client's own test suite
// expects, a mirror of its Node fixture (test/support/server.ts):
// pingInterval 2 s, connection state recovery on, a 10 ms delay before
// each handshake is allowed, a main-namespace middleware refusing ?fail,
// and the namespaces and handlers the fixture defines.
func NewClientFixture() (*socketio.Server, error) {
	io, err := socketio.NewServer(socketio.Config{
		ConnectionStateRecovery: &socketio.RecoveryConfig{},
		Engine: engineio.Config{
			PingInterval: 2 * time.Second,
			AllowRequest: func(*http.Request) error {
				// The suite tests the client's connection timeout
				// against this delay.
				time.Sleep(10 * time.Millisecond)
				return nil
			},
		},
	})
	if err != nil {
		return nil, err
	}
	nsps := map[string]*socketio.Namespace{}
	for _, name := range []string{"/foo", "/timeout_socket", "/valid", "/asd", "/abc", "/no"} {
		if nsps[name], err = io.Of(name); err != nil {
			return nil, err
		}
	}
	nsps["/foo"].OnConnection(func(s *socketio.Socket) { s.On("getId", sendID(s)) })
	for _, name := range []string{"/timeout_socket", "/valid", "/asd"} {
		nsps[name].OnConnection(func(*socketio.Socket) {})
	}
	nsps["/abc"].OnConnection(func(s *socketio.Socket) { _ = s.Emit("handshake", s.Handshake()) })
	io.Use(func(s *socketio.Socket) error {
		if s.Handshake().Query.Has("fail") {
			//lint:ignore ST1005 the official suite expects this exact message
			return errors.New("Auth failed (main namespace)")
		}
		return nil
	})
	nsps["/no"].Use(func(*socketio.Socket) error {
		//lint:ignore ST1005 the official suite expects this exact message
		return errors.New("Auth failed (custom namespace)")
	})
	io.OnConnection(func(s *socketio.Socket) { clientFixtureHandlers(s) })
	return io, nil
}

// clientFixtureHandlers registers the main namespace's event handlers of the
// Node fixture.
func clientFixtureHandlers(s *socketio.Socket) {
	reply := func(event string, args ...any) func(*socketio.Event) {
		return func(*socketio.Event) { _ = s.Emit(event, args...) }
	}
	isBinary := func(e *socketio.Event, i int) bool {
		var b []byte
		return e.Args().Decode(i, &b) == nil && b != nil
	}
	// jsonWithBuffer checks {hello: "lol", message: <Buffer>, goodbye: "gotcha"}.
	jsonWithBuffer := func(e *socketio.Event) bool {
		var v struct {
			Hello   string `json:"hello"`
			Message []byte `json:"message"`
			Goodbye string `json:"goodbye"`
		}
		return e.Bind(&v) == nil && v.Hello == "lol" && v.Message != nil && v.Goodbye == "gotcha"
	}
	now := func() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

	s.On("hi", reply("hi"))
	s.On("echo", func(e *socketio.Event) {
		args, err := e.Args().Values()
		if err == nil && len(args) > 0 {
			_ = e.Ack(args[0])
		} else {
			_ = e.Ack()
		}
	})
	s.On("ack", func(*socketio.Event) {
		// Node's fixture passes an ack callback and goes on: the next
		// events must not wait for the client's answer.
		go func() {
			ans, err := s.EmitWithAck(s.Context(), "ack")
			if err != nil {
				return
			}
			var a int
			var b struct {
				Test bool `json:"test"`
			}
			if ans.Bind(&a, &b) == nil && a == 5 && b.Test {
				_ = s.Emit("got it")
			}
		}()
	})
	s.On("getAckDate", func(e *socketio.Event) { _ = e.Ack(now()) })
	s.On("getDate", func(*socketio.Event) { _ = s.Emit("takeDate", now()) })
	s.On("getDateObj", func(*socketio.Event) { _ = s.Emit("takeDateObj", map[string]string{"date": now()}) })
	s.On("getUtf8", func(*socketio.Event) {
		for _, t := range []string{"てすと", "Я Б Г Д Ж Й", "Ä ä Ü ü ß", "utf8 — string", "utf8 — string"} {
			_ = s.Emit("takeUtf8", t)
		}
	})
	s.On("false", reply("false", false))
	s.On("doge", reply("doge", []byte("asdfasdf")))
	s.On("buffa", func(e *socketio.Event) {
		if isBinary(e, 0) {
			_ = s.Emit("buffack")
		}
	})
	s.On("jsonbuff", func(e *socketio.Event) {
		if jsonWithBuffer(e) {
			_ = s.Emit("jsonbuff-ack")
		}
	})
	var abuff1, blob1, blob2 bool // touched by this socket's handlers only, one at a time
	s.On("abuff1", func(e *socketio.Event) { abuff1 = isBinary(e, 0) })
	s.On("abuff2", func(*socketio.Event) {
		if abuff1 {
			_ = s.Emit("abuff2-ack")
		}
	})
	s.On("blob", func(e *socketio.Event) {
		if isBinary(e, 0) {
			_ = s.Emit("back")
		}
	})
	s.On("jsonblob", func(e *socketio.Event) {
		if jsonWithBuffer(e) {
			_ = s.Emit("jsonblob-ack")
		}
	})
	s.On("blob1", func(e *socketio.Event) { blob1 = isBinary(e, 0) })
	s.On("blob2", func(e *socketio.Event) {
		var v string
		blob2 = blob1 && e.Args().Decode(0, &v) == nil && v == "second"
	})
	s.On("blob3", func(e *socketio.Event) {
		if isBinary(e, 0) && blob1 && blob2 {
			_ = s.Emit("blob3-ack")
		}
	})
	s.On("getbin", reply("takebin", []byte("asdfasdf")))
	s.On("getHandshake", func(e *socketio.Event) { _ = e.Ack(s.Handshake()) })
	s.On("getId", sendID(s))
}

// sendID acknowledges an event with the socket's id.
func sendID(s *socketio.Socket) func(*socketio.Event) {
	return func(e *socketio.Event) { _ = e.Ack(s.ID()) }
}
