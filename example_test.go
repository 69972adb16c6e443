package socketio_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	socketio "github.com/gosio/socketio"
	"github.com/gosio/socketio/client"
	"github.com/gosio/socketio/engineio"
)

// The seed's backend (examples/echo): every "mensaje" is answered with a
// "respuesta". The server is mounted on a mux of its own, served with the
// timeouts that matter for a real-time server.
func Example() {
	io, err := socketio.NewServer(socketio.Config{
		Engine: engineio.Config{CORS: &engineio.CORS{Origins: []string{"http://localhost:5173"}}},
	})
	if err != nil {
		log.Fatal(err)
	}
	io.OnConnection(func(socket *socketio.Socket) {
		log.Printf("Nuevo cliente conectado: %s", socket.ID())

		socketio.On(socket, "mensaje", func(data string) {
			log.Printf("Mensaje recibido: %s", data)
			_ = socket.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})

		socket.OnDisconnect(func(string) {
			log.Printf("Cliente desconectado: %s", socket.ID())
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	srv := &http.Server{
		Addr:    ":3000",
		Handler: mux,
		// Cut clients that send their headers slowly (slowloris) and idle
		// keep-alive connections, without cutting long polls or WebSockets.
		// ReadTimeout and WriteTimeout are not needed: see docs/engineio.md.
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	log.Fatal(srv.ListenAndServe())
}

// serveExample starts io on a local port for the runnable examples, and
// returns its URL and a function that stops both.
func serveExample(io *socketio.Server) (string, func()) {
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	hs := httptest.NewServer(mux)
	return hs.URL, func() {
		_ = io.Close()
		hs.Close()
	}
}

// The same exchange, run: a server answering "mensaje" on a local port,
// and the Go client (package client) talking to it.
func Example_goClient() {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.On(s, "mensaje", func(data string) {
			_ = s.Emit("respuesta", "Hola, recibí tu mensaje: "+data)
		})
	})
	url, stop := serveExample(io)
	defer stop()

	c, err := client.New(url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	respuesta := make(chan string, 1)
	client.On(c, "respuesta", func(msg string) { respuesta <- msg })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		log.Fatal(err)
	}
	if err := c.Emit("mensaje", "¡Hola desde Go!"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-respuesta)
	// Output: Hola, recibí tu mensaje: ¡Hola desde Go!
}

// A typed handler whose result answers the client's acknowledgement. An
// error answers {"error": message}; so does an argument that does not
// decode, before the handler runs.
func ExampleOnAck() {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.OnAck(s, "sum", func(n []int) (int, error) {
			if len(n) == 0 {
				return 0, errors.New("nothing to add")
			}
			total := 0
			for _, v := range n {
				total += v
			}
			return total, nil
		})
	})
	url, stop := serveExample(io)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	for _, arg := range []any{[]int{1, 2, 3}, []int{}, "three"} {
		res, err := c.EmitWithAck(ctx, "sum", arg)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(res.Raw(0)))
	}
	// Output:
	// 6
	// {"error":"nothing to add"}
	// {"error":"invalid argument 0: json: cannot unmarshal string into Go value of type []int"}
}

// A namespace of its own, guarded by a middleware: a refused client gets
// the middleware's error as its connect_error.
func ExampleServer_Of() {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	admin, err := io.Of("/admin") // the adapter factory's error, if any
	if err != nil {
		log.Fatal(err)
	}
	admin.Use(func(s *socketio.Socket) error {
		var auth struct {
			Token string `json:"token"`
		}
		if err := s.BindAuth(&auth); err != nil || auth.Token != "secret" {
			return socketio.NewConnectError("not authorized", nil)
		}
		return nil
	})
	admin.OnConnection(func(s *socketio.Socket) { _ = s.Emit("welcome", "admin") })
	url, stop := serveExample(io)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, token := range []string{"guess", "secret"} {
		c, err := client.New(url+"/admin", &client.Options{Socket: client.SocketOptions{Auth: map[string]string{"token": token}}})
		if err != nil {
			log.Fatal(err)
		}
		welcome := make(chan string, 1)
		client.On(c, "welcome", func(who string) { welcome <- who })
		if err := c.Connect(ctx); err != nil {
			fmt.Println("refused:", err)
		} else {
			fmt.Println("welcome", <-welcome)
		}
		_ = c.Close()
	}
	// Output:
	// refused: not authorized
	// welcome admin
}

// Operators select sockets by room; a socket's rooms are a RoomSet.
func ExampleSocket_Join() {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	io.OnConnection(func(s *socketio.Socket) {
		socketio.OnAck(s, "join", func(room string) (bool, error) {
			s.Join(room)
			return s.Rooms().Has(room), nil
		})
	})
	url, stop := serveExample(io)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	res, err := c.EmitWithAck(ctx, "join", "lobby")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("joined:", string(res.Raw(0)))
	fmt.Println("in the lobby:", len(io.In("lobby").SocketIDs()), "elsewhere:", len(io.Except("lobby").SocketIDs()))
	news := make(chan string, 1)
	client.On(c, "news", func(s string) { news <- s })
	if err := io.To("lobby").Emit("news", "hello, lobby"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(<-news)
	// Output:
	// joined: true
	// in the lobby: 1 elsewhere: 0
	// hello, lobby
}

// DataAs reads the data of fetched sockets as a typed value, the same way
// for sockets of this server and of the other servers of a cluster.
func ExampleDataAs() {
	type user struct {
		Name string `json:"name"`
	}
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	io.Use(func(s *socketio.Socket) error {
		s.SetData(user{Name: s.Handshake().Query.Get("name")})
		return nil
	})
	url, stop := serveExample(io)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url+"?name=ana", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	socks, err := io.FetchSockets(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range socks {
		u, err := socketio.DataAs[user](r)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(u.Name)
	}
	// Output: ana
}

func ExampleRoomSet() {
	rooms := socketio.NewRoomSet("lobby", "x8Ka", "game-7", "lobby")
	fmt.Println(rooms.Len(), rooms.Has("lobby"), rooms.Has("game-8"))
	for r := range rooms.All() {
		fmt.Println(r)
	}
	// Output:
	// 3 true false
	// game-7
	// lobby
	// x8Ka
}

// An observer counting events by name and timing their handlers: what a
// metrics exporter does (metrics/prometheus is one). Every field of
// Observer is optional; one that is not set costs nothing.
func ExampleServer_Observe() {
	io, err := socketio.NewServer(socketio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	received := map[string]int{}
	disconnected := make(chan string, 1)
	io.Observe(socketio.Observer{
		EventReceived: func(ctx context.Context, ev *socketio.Event) (context.Context, func(error)) {
			mu.Lock()
			received[ev.Name]++
			mu.Unlock()
			start := time.Now()
			return ctx, func(err error) {
				_ = time.Since(start) // the handlers' duration, for a histogram
			}
		},
		SocketDisconnected: func(s *socketio.Socket, reason string) {
			disconnected <- reason
		},
	})
	io.OnConnection(func(s *socketio.Socket) {
		s.On("ping", func(e *socketio.Event) { _ = e.Ack("pong") })
	})
	url, stop := serveExample(io)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, nil)
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if _, err := c.EmitWithAck(ctx, "ping"); err != nil {
			log.Fatal(err)
		}
	}
	c.Close()
	fmt.Println("disconnected:", <-disconnected)
	mu.Lock()
	fmt.Println("ping:", received["ping"])
	mu.Unlock()
	// Output:
	// disconnected: client namespace disconnect
	// ping: 3
}
