package reliability_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// rawWS is a lean WebSocket client for the Engine.IO WebSocket transport:
// one TCP connection, no goroutine, no buffers kept between frames. Churn
// and hostile clients use it to do exactly what a test says, no more.
type rawWS struct {
	c  net.Conn
	br *bufio.Reader
}

// dialRaw opens an Engine.IO WebSocket connection to base (an http URL)
// and reads the open packet. tune, when set, runs on the TCP connection
// before the handshake (to shrink buffers).
func dialRaw(base string, tune func(*net.TCPConn)) (*rawWS, error) {
	host := strings.TrimPrefix(base, "http://")
	c, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if tune != nil {
		tune(c.(*net.TCPConn))
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	req := "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		c.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(c, 4096)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %s", res.Status)
	}
	r := &rawWS{c: c, br: br}
	open, err := r.readText()
	if err != nil {
		c.Close()
		return nil, err
	}
	if !strings.HasPrefix(open, "0{") {
		c.Close()
		return nil, fmt.Errorf("open packet %q", open)
	}
	_ = c.SetDeadline(time.Time{})
	return r, nil
}

const (
	opText   = 1
	opBinary = 2
	opClose  = 8
	opPing   = 9
	opPong   = 10
)

// writeFrame writes one masked, unfragmented frame.
func (r *rawWS) writeFrame(op byte, payload []byte) error {
	hdr := make([]byte, 0, 14)
	hdr = append(hdr, 0x80|op)
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(hdr)+len(payload))
	copy(masked, hdr)
	for i, b := range payload {
		masked[len(hdr)+i] = b ^ mask[i&3]
	}
	_, err := r.c.Write(masked)
	return err
}

func (r *rawWS) send(s string) error { return r.writeFrame(opText, []byte(s)) }

// readFrame reads one frame (the server's frames are unmasked and, for
// these tests, unfragmented).
func (r *rawWS) readFrame() (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r.br, h[:]); err != nil {
		return 0, nil, err
	}
	op := h[0] & 0x0f
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 16<<20 {
		return 0, nil, errors.New("frame too large")
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r.br, p); err != nil {
		return 0, nil, err
	}
	return op, p, nil
}

// readText returns the next Engine.IO text message, answering WebSocket
// pings and Engine.IO pings ("2") on the way. A close frame is io.EOF.
func (r *rawWS) readText() (string, error) {
	for {
		op, p, err := r.readFrame()
		if err != nil {
			return "", err
		}
		switch op {
		case opPing:
			_ = r.writeFrame(opPong, p)
		case opClose:
			return "", io.EOF
		case opText:
			if string(p) == "2" {
				_ = r.send("3")
				continue
			}
			return string(p), nil
		}
	}
}

// expectPrefix reads the next text message within d and checks its
// prefix.
func (r *rawWS) expectPrefix(prefix string, d time.Duration) (string, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(d))
	defer func() { _ = r.c.SetReadDeadline(time.Time{}) }()
	m, err := r.readText()
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(m, prefix) {
		return m, fmt.Errorf("got %q, want prefix %q", m, prefix)
	}
	return m, nil
}

// waitClosed reads until the server closes the connection, within d; it
// reports whether it did.
func (r *rawWS) waitClosed(d time.Duration) bool {
	_ = r.c.SetReadDeadline(time.Now().Add(d))
	for {
		if _, _, err := r.readFrame(); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}

func (r *rawWS) close() { _ = r.c.Close() }
