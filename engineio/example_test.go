package engineio_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gosio/socketio/engineio"
)

// An Engine.IO echo server on a mux of its own, and a client speaking the
// protocol by hand over HTTP long-polling: the handshake, a message sent
// with a POST, and the poll that brings the answer back.
func ExampleServer() {
	srv, err := engineio.NewServer(engineio.Config{})
	if err != nil {
		log.Fatal(err)
	}
	srv.OnConnection(func(c *engineio.Conn) {
		c.OnMessage(func(data []byte, binary bool) {
			_ = c.Send(append([]byte("echo: "), data...))
		})
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	hs := httptest.NewServer(mux)
	defer hs.Close()
	defer srv.Close()

	base := hs.URL + "/engine.io/?EIO=4&transport=polling"
	open := get(base) // "0" (open) and the handshake as JSON
	var hello struct {
		SID      string   `json:"sid"`
		Upgrades []string `json:"upgrades"`
	}
	if err := json.Unmarshal([]byte(open[1:]), &hello); err != nil {
		log.Fatal(err)
	}
	fmt.Println("open, upgrades:", hello.Upgrades)
	res, err := http.Post(base+"&sid="+hello.SID, "text/plain;charset=UTF-8", strings.NewReader("4hello"))
	if err != nil {
		log.Fatal(err)
	}
	_ = res.Body.Close()
	fmt.Println(get(base + "&sid=" + hello.SID)) // "4": a message
	// Output:
	// open, upgrades: [websocket]
	// 4echo: hello
}

func get(url string) string {
	res, err := http.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		log.Fatal(err)
	}
	return string(b)
}
