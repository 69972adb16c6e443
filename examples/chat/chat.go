package main

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	socketio "github.com/gosio/socketio"
)

// Limits on what a client can make the server hold or send to others.
const (
	maxNickRunes = 24   // nickname length
	maxRoomRunes = 32   // room name length
	maxTextRunes = 1000 // message length
	maxCIDBytes  = 64   // client message id length
	maxRooms     = 50   // rooms that exist at once, the default ones included (chat.maxRooms)
	historySize  = 50   // messages kept per room for those who join later
)

// defaultRooms always exist, empty or not; other rooms are created by their
// first member and removed when their last member leaves.
var defaultRooms = []string{"general", "random"}

// Events, client to server (each with an ack):
//
//	join    "room name"            -> joinReply | errorReply
//	leave                          -> {} | errorReply
//	message {"cid": ..., "text": ...} -> postReply | errorReply
//	typing  true | false           (volatile, no ack)
//
// Events, server to client:
//
//	rooms    roomList   (to everyone, whenever a count changes)
//	presence presence   (to a room, whenever its members change)
//	message  Message    (to a room, but not to its sender)
//	typing   typing     (to a room, but not to the typist)

// user is a socket's data (Socket.SetData): set once by the auth
// middleware, restored with the rest of the session by connection state
// recovery, never modified.
type user struct {
	Nick string
}

// Message is a chat message as clients receive it.
type Message struct {
	// ID is given by the server, unique for its lifetime.
	ID string `json:"id"`
	// CID is the sender's own id for the message: the sender matches the
	// ack with the message it shows, and a message sent again after a lost
	// ack is recognised and not posted twice.
	CID  string `json:"cid"`
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
	// TS is the server's time of the message, in milliseconds since the
	// Unix epoch.
	TS int64 `json:"ts"`
}

// roomInfo is one entry of the room list.
type roomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
}

// roomList is the "rooms" event.
type roomList struct {
	Rooms  []roomInfo `json:"rooms"`
	Online int        `json:"online"` // connected sockets, in a room or not
}

// Presence changes.
const (
	presenceJoined  = "joined"  // joined the room
	presenceLeft    = "left"    // left the room, or closed the page
	presenceOffline = "offline" // lost its connection; may come back
	presenceBack    = "back"    // came back with its session recovered
	presenceSync    = "sync"    // no change: the current members, for one client
)

// presence is the "presence" event: the members of a room after a change.
type presence struct {
	Room    string   `json:"room"`
	Members []string `json:"members"` // nicknames, sorted
	Kind    string   `json:"kind"`    // one of the presence constants
	Nick    string   `json:"nick"`    // who changed
	ID      string   `json:"id"`      // the socket id of who changed
}

// typing is the "typing" event.
type typing struct {
	Room   string `json:"room"`
	Nick   string `json:"nick"`
	ID     string `json:"id"`
	Typing bool   `json:"typing"`
}

// joinReply answers "join": the room's members and recent messages.
type joinReply struct {
	Room    string    `json:"room"`
	Members []string  `json:"members"`
	History []Message `json:"history"`
}

// postReply answers "message": the server's id and time of the message.
type postReply struct {
	ID string `json:"id"`
	TS int64  `json:"ts"`
}

// errorReply answers a request the server refused, with a sentence for the
// user.
type errorReply struct {
	Error string `json:"error"`
}

// room is a chat room: its members and its last messages.
type room struct {
	members map[string]string // socket id -> nickname
	history []Message         // oldest first, at most historySize
}

// chat holds the rooms. Its mutex serialises every membership change with
// the events that announce it, so that every client sees the room list and
// the presence of a room change in the order they happened.
type chat struct {
	io       *socketio.Server
	now      func() time.Time
	maxRooms int

	mu     sync.Mutex
	rooms  map[string]*room
	where  map[string]string // socket id -> its room, for sockets in one
	online int
	seq    uint64
}

// newChat returns the chat of io, with the default rooms, and registers its
// handlers on io's main namespace.
func newChat(io *socketio.Server) *chat {
	c := &chat{
		io:       io,
		now:      time.Now,
		maxRooms: maxRooms,
		rooms:    make(map[string]*room),
		where:    make(map[string]string),
	}
	for _, name := range defaultRooms {
		c.rooms[name] = &room{members: make(map[string]string)}
	}
	io.Use(authenticate)
	io.OnConnection(c.onConnection)
	return c
}

// authenticate is the connection middleware: the client names itself in
// its auth payload ({"nick": "Ana"}); a missing or unusable nickname
// refuses the connection with a connect_error the page shows.
func authenticate(s *socketio.Socket) error {
	var auth struct {
		Nick string `json:"nick"`
	}
	if err := s.BindAuth(&auth); err != nil {
		return socketio.NewConnectError("the auth payload must be an object like {\"nick\": \"Ana\"}", nil)
	}
	nick, err := cleanNick(auth.Nick)
	if err != nil {
		return socketio.NewConnectError(err.Error(), nil)
	}
	s.SetData(user{Nick: nick})
	return nil
}

// nickOf returns the nickname of a socket that passed authenticate.
func nickOf(s *socketio.Socket) string {
	u, _ := s.Data().(user)
	return u.Nick
}

func (c *chat) onConnection(s *socketio.Socket) {
	c.connected(s)
	s.On("join", func(e *socketio.Event) {
		var name string
		if err := e.Bind(&name); err != nil {
			_ = e.Ack(errorReply{"join takes a room name"})
			return
		}
		reply, err := c.join(s, name)
		if err != nil {
			_ = e.Ack(errorReply{err.Error()})
			return
		}
		_ = e.Ack(reply)
	})
	s.On("leave", func(e *socketio.Event) {
		c.leave(s, presenceLeft)
		_ = e.Ack(struct{}{})
	})
	s.On("message", func(e *socketio.Event) {
		var in struct {
			CID  string `json:"cid"`
			Text string `json:"text"`
		}
		if err := e.Bind(&in); err != nil {
			_ = e.Ack(errorReply{`message takes {"cid": "...", "text": "..."}`})
			return
		}
		reply, err := c.post(s, in.CID, in.Text)
		if err != nil {
			_ = e.Ack(errorReply{err.Error()})
			return
		}
		_ = e.Ack(reply)
	})
	s.On("typing", func(e *socketio.Event) {
		var on bool
		if e.Bind(&on) == nil {
			c.typing(s, on)
		}
	})
	s.OnDisconnect(func(reason string) {
		kind := presenceLeft
		switch reason {
		case "transport close", "transport error", "ping timeout":
			kind = presenceOffline // the client reconnects by itself
		}
		c.disconnected(s, kind)
	})
}

// connected counts a new socket. A recovered socket is back in its room
// (the library restored its rooms): it is a member again, its room hears
// that it is back, and it gets the room's members.
func (c *chat) connected(s *socketio.Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.online++
	if s.Recovered() {
		if name := c.chatRoomOf(s); name != "" {
			r := c.rooms[name]
			if r == nil {
				if len(c.rooms) >= c.maxRooms {
					s.Leave(name)
					c.emitRoomsLocked()
					return
				}
				r = &room{members: make(map[string]string)}
				c.rooms[name] = r
			}
			r.members[s.ID()] = nickOf(s)
			c.where[s.ID()] = name
			members := r.memberList()
			_ = s.To(name).Emit("presence", presence{Room: name, Members: members, Kind: presenceBack, Nick: nickOf(s), ID: s.ID()})
			_ = s.Emit("presence", presence{Room: name, Members: members, Kind: presenceSync})
		}
	}
	c.emitRoomsLocked()
}

// chatRoomOf returns the chat room among the socket's rooms (not its own
// room), or "".
func (c *chat) chatRoomOf(s *socketio.Socket) string {
	for r := range s.Rooms().All() {
		if r != s.ID() {
			return r
		}
	}
	return ""
}

// disconnected takes a socket that disconnected out of its room.
func (c *chat) disconnected(s *socketio.Socket, kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.online--
	c.leaveLocked(s, kind)
	c.emitRoomsLocked()
}

// join moves the socket into the room named name (out of its current one),
// creating the room if needed.
func (c *chat) join(s *socketio.Socket, name string) (joinReply, error) {
	name, err := cleanRoom(name)
	if err != nil {
		return joinReply{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rooms[name]
	if c.where[s.ID()] != name {
		if r == nil && len(c.rooms) >= c.maxRooms {
			return joinReply{}, fmt.Errorf("there are %d rooms already: join one of them", c.maxRooms)
		}
		c.leaveLocked(s, presenceLeft)
		if r == nil {
			r = &room{members: make(map[string]string)}
			c.rooms[name] = r
		}
		r.members[s.ID()] = nickOf(s)
		c.where[s.ID()] = name
		s.Join(name)
		_ = s.To(name).Emit("presence", presence{Room: name, Members: r.memberList(), Kind: presenceJoined, Nick: nickOf(s), ID: s.ID()})
		c.emitRoomsLocked()
	}
	return joinReply{Room: name, Members: r.memberList(), History: append([]Message{}, r.history...)}, nil
}

// leave takes the socket out of its room, if it is in one.
func (c *chat) leave(s *socketio.Socket, kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leaveLocked(s, kind) {
		c.emitRoomsLocked()
	}
}

// leaveLocked takes the socket out of its room and tells the room. An
// empty room that is not a default one is removed. It reports whether the
// socket was in a room.
func (c *chat) leaveLocked(s *socketio.Socket, kind string) bool {
	name, ok := c.where[s.ID()]
	if !ok {
		return false
	}
	delete(c.where, s.ID())
	s.Leave(name) // a no-op for a disconnected socket: it has left already
	r := c.rooms[name]
	delete(r.members, s.ID())
	if len(r.members) == 0 && !slices.Contains(defaultRooms, name) {
		delete(c.rooms, name)
		return true
	}
	_ = c.io.To(name).Emit("presence", presence{Room: name, Members: r.memberList(), Kind: kind, Nick: nickOf(s), ID: s.ID()})
	return true
}

// emitRoomsLocked sends the room list to everyone.
func (c *chat) emitRoomsLocked() {
	list := roomList{Online: c.online, Rooms: make([]roomInfo, 0, len(c.rooms))}
	for name, r := range c.rooms {
		list.Rooms = append(list.Rooms, roomInfo{Name: name, Members: len(r.members)})
	}
	// The default rooms first, in their order, then the others by name.
	rank := func(name string) int {
		if i := slices.Index(defaultRooms, name); i >= 0 {
			return i
		}
		return len(defaultRooms)
	}
	slices.SortFunc(list.Rooms, func(a, b roomInfo) int {
		return cmp.Or(cmp.Compare(rank(a.Name), rank(b.Name)), strings.Compare(a.Name, b.Name))
	})
	_ = c.io.Emit("rooms", list)
}

// post sends a message from the socket to its room. A message whose cid
// the room has already seen from the same nickname (sent again after a
// lost ack) is answered with the first one's id and not sent again.
func (c *chat) post(s *socketio.Socket, cid, text string) (postReply, error) {
	if cid == "" || len(cid) > maxCIDBytes {
		return postReply{}, fmt.Errorf("a message needs a cid of 1 to %d bytes", maxCIDBytes)
	}
	text, err := cleanText(text)
	if err != nil {
		return postReply{}, err
	}
	nick := nickOf(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	name, ok := c.where[s.ID()]
	if !ok {
		return postReply{}, errors.New("join a room first")
	}
	r := c.rooms[name]
	for _, m := range r.history {
		if m.CID == cid && m.From == nick {
			return postReply{ID: m.ID, TS: m.TS}, nil
		}
	}
	c.seq++
	m := Message{ID: "m" + strconv.FormatUint(c.seq, 10), CID: cid, Room: name, From: nick, Text: text, TS: c.now().UnixMilli()}
	if len(r.history) == historySize {
		r.history = slices.Delete(r.history, 0, 1)
	}
	r.history = append(r.history, m)
	// Broadcast through the room, so that a member away for a moment gets
	// it when its session is recovered.
	_ = s.To(name).Emit("message", m)
	return postReply{ID: m.ID, TS: m.TS}, nil
}

// typing tells the socket's room that it started or stopped typing. It is
// volatile: a lost typing event is replaced by the next one, and a
// reconnecting client does not need the old ones.
func (c *chat) typing(s *socketio.Socket, on bool) {
	c.mu.Lock()
	name, ok := c.where[s.ID()]
	c.mu.Unlock()
	if ok {
		_ = s.To(name).Volatile().Emit("typing", typing{Room: name, Nick: nickOf(s), ID: s.ID(), Typing: on})
	}
}

// memberList returns the nicknames of the room's members, sorted.
func (r *room) memberList() []string {
	list := make([]string, 0, len(r.members))
	for _, nick := range r.members {
		list = append(list, nick)
	}
	slices.SortFunc(list, func(a, b string) int {
		return cmp.Or(strings.Compare(strings.ToLower(a), strings.ToLower(b)), strings.Compare(a, b))
	})
	return list
}

// cleanNick returns the nickname trimmed, or why it cannot be used.
func cleanNick(s string) (string, error) {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return "", errors.New("choose a nickname")
	case utf8.RuneCountInString(s) > maxNickRunes:
		return "", fmt.Errorf("a nickname has %d characters at most", maxNickRunes)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", errors.New("a nickname cannot hold control characters")
	}
	return s, nil
}

// cleanRoom returns the room name in its canonical form (lower case,
// spaces as dashes), or why it cannot be used.
func cleanRoom(s string) (string, error) {
	s = strings.ToLower(strings.Join(strings.Fields(s), "-"))
	switch {
	case s == "":
		return "", errors.New("name the room")
	case utf8.RuneCountInString(s) > maxRoomRunes:
		return "", fmt.Errorf("a room name has %d characters at most", maxRoomRunes)
	case strings.IndexFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_'
	}) >= 0:
		return "", errors.New("a room name holds letters, digits, - and _ only")
	}
	return s, nil
}

// cleanText returns the message trimmed, or why it cannot be sent.
func cleanText(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("the message is empty")
	case utf8.RuneCountInString(s) > maxTextRunes:
		return "", fmt.Errorf("a message has %d characters at most", maxTextRunes)
	}
	return s, nil
}
