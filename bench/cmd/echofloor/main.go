// Command echofloor is a measuring stick for the echo scenario of the
// benchmarks, not a Socket.IO server: the least a Go server on net/http can
// do to answer the load tool's echoes, so that bench's figures for the real
// servers can be read against what this machine and this load tool allow.
//
// It answers a WebSocket upgrade on any path (hijacked from net/http), sends
// an Engine.IO open packet, answers "40" with a namespace connect, and
// answers every `42<id>["echo",<arg>]` with `43<id>[<arg>]`, on the
// connection's own goroutine, with one blocking read and one write per
// message: a goroutine per connection (Go's netpoller), no queue, no writer
// hand-off, no Socket.IO or Engine.IO parsing beyond finding the ack id and
// the argument. With -json the argument is decoded into a string and encoded
// again with encoding/json, the work every real server has to do per echo.
// Everything else (pings, other packets, binary, fragments) is ignored.
//
// It prints its address on stdout like goserver and accepts (and ignores)
// goserver's -cpuprofile and -memprofile, so that bench can run it in
// goserver's place:
//
//	bench -goserver ./echofloor -servers go -only echo
package main

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

var useJSON = flag.Bool("json", false, "decode and re-encode the echoed argument with encoding/json")

func main() {
	flag.String("cpuprofile", "", "ignored (goserver's flag)")
	flag.String("memprofile", "", "ignored (goserver's flag)")
	flag.Parse()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		os.Exit(0)
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("/quit", func(http.ResponseWriter, *http.Request) { os.Exit(0) })
	mux.HandleFunc("/", upgrade)
	log.Fatal(http.Serve(ln, mux))
}

func upgrade(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		http.Error(w, "WebSocket only", http.StatusBadRequest)
		return
	}
	nc, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n")
	if rw.Flush() != nil {
		_ = nc.Close()
		return
	}
	serve(nc, rw.Reader)
}

// serve reads the client's frames and answers on this goroutine.
func serve(nc net.Conn, br *bufio.Reader) {
	defer func() { _ = nc.Close() }()
	out := make([]byte, 0, 512) // the frame written
	ans := make([]byte, 0, 512) // the Engine.IO message answered
	if _, err := nc.Write(frame(out, []byte(`0{"sid":"floor","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`))); err != nil {
		return
	}
	var hdr [14]byte
	var payload []byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		n := int(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[2:4]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint16(hdr[2:4]))
		case 127:
			if _, err := io.ReadFull(br, hdr[2:10]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint64(hdr[2:10]))
		}
		if n > 1<<20 {
			return
		}
		var mask [4]byte
		if hdr[1]&0x80 != 0 {
			if _, err := io.ReadFull(br, mask[:]); err != nil {
				return
			}
		}
		payload = slices.Grow(payload[:0], n)[:n]
		if _, err := io.ReadFull(br, payload); err != nil {
			return
		}
		for i := range payload {
			payload[i] ^= mask[i&3]
		}
		if hdr[0]&0x0f == 8 { // close
			return
		}
		ans = answerOf(ans[:0], payload)
		if len(ans) == 0 {
			continue
		}
		out = frame(out[:0], ans)
		if _, err := nc.Write(out); err != nil {
			return
		}
	}
}

// answerOf appends the reply to one Engine.IO message to dst; nothing
// when there is none.
func answerOf(dst, p []byte) []byte {
	switch {
	case string(p) == "40":
		return append(dst, `40{"sid":"floorsocket"}`...)
	case bytes.HasPrefix(p, []byte("42")):
		i := 2
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		id, rest := p[2:i], p[i:]
		const ev = `["echo",`
		if len(id) == 0 || !bytes.HasPrefix(rest, []byte(ev)) || rest[len(rest)-1] != ']' {
			return dst
		}
		arg := rest[len(ev) : len(rest)-1]
		if *useJSON {
			var s string
			if json.Unmarshal(arg, &s) != nil {
				return dst
			}
			b, _ := json.Marshal([]string{s})
			return append(append(append(dst, "43"...), id...), b...)
		}
		dst = append(append(append(dst, "43"...), id...), '[')
		return append(append(dst, arg...), ']')
	}
	return dst
}

// frame appends a final unmasked text frame holding p to f.
func frame(f []byte, p []byte) []byte {
	f = append(f, 0x81)
	switch {
	case len(p) < 126:
		f = append(f, byte(len(p)))
	case len(p) < 1<<16:
		f = append(f, 126, byte(len(p)>>8), byte(len(p)))
	default:
		f = append(f, 127)
		f = binary.BigEndian.AppendUint64(f, uint64(len(p)))
	}
	return append(f, p...)
}
