package reliability_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultProxy is a TCP proxy on loopback between clients and a server whose
// connections can be cut (both sides closed, new ones refused until
// restore), stalled (nothing forwarded for a while, in either direction,
// the bytes held back being delivered afterwards) and delayed (each chunk
// waits before it is forwarded), in the middle of a stream.
type faultProxy struct {
	ln       net.Listener
	target   string
	accepted atomic.Int64

	mu     sync.Mutex
	down   bool
	delay  time.Duration
	resume chan struct{} // non-nil while stalled; closed when the stall ends
	links  map[*link]struct{}
	wg     sync.WaitGroup
}

// link is one proxied connection: the client side and the server side.
type link struct {
	client, server net.Conn
	once           sync.Once
	done           chan struct{}
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		_ = l.client.Close()
		_ = l.server.Close()
	})
}

// newFaultProxy listens on a free loopback port and forwards to target
// (host:port). It stops when the test ends.
func newFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// url is the proxy's http URL.
func (p *faultProxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		l := &link{client: c, server: up, done: make(chan struct{})}
		p.mu.Lock()
		if p.down { // cut while dialing
			p.mu.Unlock()
			l.close()
			continue
		}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pump(l, up, c)
		go p.pump(l, c, up)
	}
}

// pump copies src to dst chunk by chunk, honouring stalls and the delay.
func (p *faultProxy) pump(l *link, dst, src net.Conn) {
	defer p.wg.Done()
	defer func() {
		l.close()
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			resume, delay := p.resume, p.delay
			p.mu.Unlock()
			if resume != nil {
				select {
				case <-resume:
				case <-l.done:
					return
				}
			}
			if delay > 0 {
				select {
				case <-time.After(delay):
				case <-l.done:
					return
				}
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every proxied connection on both sides, as a network failure
// would, and refuses new connections until restore.
func (p *faultProxy) cut() {
	p.mu.Lock()
	p.down = true
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// restore accepts connections again after a cut.
func (p *faultProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// stall stops forwarding on every connection for d; what arrives
// meanwhile is forwarded afterwards. It returns at once.
func (p *faultProxy) stall(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.resume != nil {
		return
	}
	ch := make(chan struct{})
	p.resume = ch
	time.AfterFunc(d, func() {
		p.mu.Lock()
		p.resume = nil
		p.mu.Unlock()
		close(ch)
	})
}

// setDelay makes every chunk wait d before it is forwarded (0: none).
func (p *faultProxy) setDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

func (p *faultProxy) close() {
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// The proxy itself: bytes pass, a stall holds them back and then delivers
// them, a cut closes both sides and refuses new connections until restore.
func TestFaultProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // an echo server
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 1024)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if _, err := c.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	defer func() { _ = ln.Close(); wg.Wait() }()
	p := newFaultProxy(t, ln.Addr().String())
	defer p.close()

	c, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo := func() time.Duration {
		t.Helper()
		start := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4)
		if _, err := readFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("echo through the proxy: %q %v", buf, err)
		}
		return time.Since(start)
	}
	echo()
	p.stall(300 * time.Millisecond)
	if d := echo(); d < 250*time.Millisecond {
		t.Fatalf("echo took %v during a 300ms stall", d)
	}
	p.setDelay(100 * time.Millisecond)
	if d := echo(); d < 180*time.Millisecond { // delayed both ways
		t.Fatalf("echo took %v with 100ms delay each way", d)
	}
	p.setDelay(0)
	p.cut()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("read after a cut succeeded")
	}
	c2, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c2.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection was forwarded while the proxy was down")
	}
	c2.Close()
	p.restore()
	c, err = net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	echo()
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
