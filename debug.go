package socketio

import (
	"context"
	"log/slog"
	"os"
	"path"
	"strings"

	"github.com/gosio/socketio/engineio"
	"github.com/gosio/socketio/engineio/packet"
	"github.com/gosio/socketio/parser"
)

// WireLogLevel is the level at which WireLog logs.
const WireLogLevel = slog.LevelDebug

// maxLoggedData bounds the bytes of a packet's data WireLog shows.
const maxLoggedData = 512

// WireLog returns an Observer that logs what goes over the wire, at
// WireLogLevel on l: with socketIO, every Socket.IO packet in and out
// (connection id, type, namespace, ack id, data cut at 512 bytes, number of
// attachments, size) and each socket's connect and disconnect; with engine,
// every Engine.IO session's open, upgrade and close and each of its
// packets (type and size: pings and pongs included). It is meant for
// development, as Node's DEBUG=engine,socket.io* is: add it with
//
//	io.Observe(socketio.WireLog(logger, true, true))
//
// or set the DEBUG environment variable (see NewServer).
func WireLog(l *slog.Logger, socketIO, engine bool) Observer {
	var o Observer
	if l == nil {
		return o
	}
	ctx := context.Background()
	log := func(msg string, args ...any) { l.Log(ctx, WireLogLevel, msg, args...) }
	if socketIO {
		logPacket := func(dir string) func(c *engineio.Conn, p *parser.Packet, size int) {
			return func(c *engineio.Conn, p *parser.Packet, size int) {
				if !l.Enabled(ctx, WireLogLevel) {
					return
				}
				args := []any{"sid", c.ID(), "type", p.Type.String(), "nsp", p.Namespace}
				if p.HasID {
					args = append(args, "ack", p.ID)
				}
				data := string(p.Data)
				if len(data) > maxLoggedData {
					data = data[:maxLoggedData] + "…"
				}
				if data != "" {
					args = append(args, "data", data)
				}
				if len(p.Attachments) > 0 {
					args = append(args, "attachments", len(p.Attachments))
				}
				log("socket.io "+dir, append(args, "bytes", size)...)
			}
		}
		o.PacketIn = logPacket("in")
		o.PacketOut = logPacket("out")
		o.SocketConnected = func(s *Socket) {
			log("socket.io connected", "sid", s.Conn().ID(), "nsp", s.Namespace().Name(), "id", s.ID(), "recovered", s.Recovered())
		}
		o.SocketDisconnected = func(s *Socket, reason string) {
			log("socket.io disconnected", "sid", s.Conn().ID(), "nsp", s.Namespace().Name(), "id", s.ID(), "reason", reason)
		}
	}
	if engine {
		o.ConnOpened = func(c *engineio.Conn) {
			r := c.Request()
			log("engine open", "sid", c.ID(), "transport", c.Transport(), "remote", r.RemoteAddr, "url", r.RequestURI())
		}
		o.ConnUpgraded = func(c *engineio.Conn, transport string) {
			log("engine upgrade", "sid", c.ID(), "transport", transport)
		}
		o.ConnClosed = func(c *engineio.Conn, reason string, cause error) {
			args := []any{"sid", c.ID(), "reason", reason}
			if cause != nil {
				args = append(args, "err", cause)
			}
			log("engine close", args...)
		}
		o.EnginePacketIn = func(c *engineio.Conn, t packet.Type, size int) {
			log("engine in", "sid", c.ID(), "type", t.String(), "bytes", size)
		}
		o.EnginePacketOut = func(c *engineio.Conn, t packet.Type, size int) {
			log("engine out", "sid", c.ID(), "type", t.String(), "bytes", size)
		}
	}
	return o
}

// debugTopics reads a Node-style DEBUG value ("engine,socket.io*",
// "socket.io:*", "*"; separated by commas or spaces, "-" excludes) and
// reports whether it asks for the Socket.IO and the Engine.IO wire.
func debugTopics(v string) (socketIO, engine bool) {
	match := func(name string) bool {
		on := false
		for _, pat := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			neg := strings.HasPrefix(pat, "-")
			pat = strings.TrimPrefix(pat, "-")
			if ok, _ := path.Match(pat, name); ok {
				on = !neg
			}
		}
		return on
	}
	// Node's namespaces: socket.io:socket, socket.io:client, ...;
	// engine, engine:socket, engine:ws, ...
	socketIO = match("socket.io") || match("socket.io:socket") || match("socket.io:client")
	engine = match("engine") || match("engine:socket")
	return socketIO, engine
}

// observeDebugEnv adds WireLog when the DEBUG environment variable asks
// for it, logging to Config.Logger when it is set and enabled at
// WireLogLevel, otherwise to standard error.
func (s *Server) observeDebugEnv() {
	sio, eng := debugTopics(os.Getenv("DEBUG"))
	if !sio && !eng {
		return
	}
	l := s.cfg.Logger
	if l == nil || !l.Enabled(context.Background(), WireLogLevel) {
		l = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: WireLogLevel}))
	}
	s.Observe(WireLog(l, sio, eng))
}
