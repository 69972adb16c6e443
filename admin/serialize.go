package admin

import (
	"context"
	"maps"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/adapter"
)

// SerializedSocket is a socket as the UI receives it (all_sockets,
// socket_connected).
type SerializedSocket struct {
	// ID is the socket id.
	ID string `json:"id"`
	// ClientID is the first 12 characters of the Engine.IO session id:
	// the UI groups the sockets of one connection into a client by it.
	ClientID string `json:"clientId"`
	// Transport is "polling" or "websocket".
	Transport string `json:"transport"`
	// Nsp is the namespace's name.
	Nsp string `json:"nsp"`
	// Data is the socket's data (Socket.SetData), {} when it has none.
	Data any `json:"data"`
	// Handshake describes the request that opened the connection.
	Handshake SerializedHandshake `json:"handshake"`
	// Rooms are the socket's rooms, its own id included.
	Rooms []string `json:"rooms"`
}

// SerializedHandshake is a socket's handshake as the UI shows it: Node's
// socket.handshake without the auth payload (it may hold credentials).
type SerializedHandshake struct {
	// Address is the Cf-Connecting-Ip header, else X-Forwarded-For, else
	// the peer's address.
	Address string `json:"address"`
	// Headers have lower-case names and one string value each, as in
	// Node.
	Headers map[string]any `json:"headers"`
	// Query holds the query parameters of the first request (a string
	// each, an array for a repeated one).
	Query map[string]any `json:"query"`
	// Issued is the time of the handshake, in milliseconds since the Unix
	// epoch.
	Issued int64 `json:"issued"`
	// Secure reports a TLS connection.
	Secure bool `json:"secure"`
	// Time is the time of the handshake as JavaScript's Date.toString()
	// prints it.
	Time string `json:"time"`
	// URL is the request URI of the first request.
	URL string `json:"url"`
	// XDomain reports a cross-origin request (an Origin header).
	XDomain bool `json:"xdomain"`
}

func serializeHandshake(h *adapter.Handshake) SerializedHandshake {
	addr := h.Headers.Get("Cf-Connecting-Ip")
	if addr == "" {
		addr = h.Headers.Get("X-Forwarded-For")
	}
	if addr == "" {
		addr = h.Address
	}
	return SerializedHandshake{
		Address: addr,
		Headers: adapter.NodeHeaders(h.Headers),
		Query:   adapter.NodeQuery(h.Query),
		Issued:  h.Issued,
		Secure:  h.Secure,
		Time:    h.Time,
		URL:     h.URL,
		XDomain: h.XDomain,
	}
}

// serializeData returns a socket's data for the UI: {} for none, and an
// object without the "_admin" key Node's instrumentation keeps there (the
// data of a Node server's socket, in a mixed cluster).
func serializeData(v any) any {
	switch d := v.(type) {
	case nil:
		return map[string]any{}
	case map[string]any:
		if _, ok := d["_admin"]; ok {
			d = maps.Clone(d)
			delete(d, "_admin")
		}
		return d
	}
	return v
}

// clientID is the UI's client id of an Engine.IO session.
func clientID(sid string) string {
	if len(sid) > 12 {
		return sid[:12]
	}
	return sid
}

// serializeSocket describes a socket of this server.
func serializeSocket(s *socketio.Socket) SerializedSocket {
	return SerializedSocket{
		ID:        s.ID(),
		ClientID:  clientID(s.Conn().ID()),
		Transport: s.Conn().Transport(),
		Nsp:       s.Namespace().Name(),
		Data:      serializeData(s.Data()),
		Handshake: serializeHandshake(s.Handshake()),
		Rooms:     s.Rooms().Slice(),
	}
}

// serializeRemote describes a fetched socket. For a socket of this
// server, the client id and transport come from its connection. Another
// server's socket carries neither: a Node server's keeps them in
// data._admin, which is used; for a Go server's the client id is the
// first 12 characters of the socket id (one client per socket) and the
// transport the handshake's.
func serializeRemote(nsp *socketio.Namespace, r *socketio.RemoteSocket) SerializedSocket {
	out := SerializedSocket{
		ID:        r.ID,
		Nsp:       nsp.Name(),
		Data:      serializeData(r.Data),
		Handshake: serializeHandshake(&r.Handshake),
		Rooms:     r.Rooms.Slice(),
	}
	if s := nsp.Socket(r.ID); s != nil {
		out.ClientID, out.Transport = clientID(s.Conn().ID()), s.Conn().Transport()
		return out
	}
	if d, ok := r.Data.(map[string]any); ok {
		if a, ok := d["_admin"].(map[string]any); ok {
			out.ClientID, _ = a["clientId"].(string)
			out.Transport, _ = a["transport"].(string)
		}
	}
	if out.ClientID == "" {
		out.ClientID = clientID(r.ID)
	}
	if out.Transport == "" {
		out.Transport = r.Handshake.Query.Get("transport")
	}
	return out
}

// allSockets lists the sockets of every namespace of this server,
// wherever they are connected (FetchSockets across the cluster). A
// namespace whose fetch fails is logged and left out.
func (in *Instrumentation) allSockets(ctx context.Context) []SerializedSocket {
	out := []SerializedSocket{}
	for _, nsp := range in.io.Namespaces() {
		remote, err := nsp.FetchSockets(ctx)
		if err != nil {
			in.log.Warn("socket.io admin: fetching the sockets failed", "nsp", nsp.Name(), "err", err)
		}
		for _, r := range remote {
			out = append(out, serializeRemote(nsp, r))
		}
	}
	return out
}

// isoTime formats t as JavaScript's Date.toISOString (a Date argument of
// Node's events travels as this string).
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
