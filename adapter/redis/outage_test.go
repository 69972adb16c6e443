package redis_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// cutProxy is a TCP proxy to Redis whose connections can be cut, to take
// one server off Redis while the others stay connected.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		p.conns[up] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			_ = dst.Close()
			_ = src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// cut closes every proxied connection and refuses new ones until restore.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *cutProxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *cutProxy) close() {
	_ = p.ln.Close()
	p.cut()
	p.wg.Wait()
}

// One server loses its Redis connection for a while; the others keep
// broadcasting. With pub/sub (classic, sharded) what was published meanwhile
// is lost for that server; with Streams the server resumes from its last
// entry and its clients get everything.
func TestServerCutOff(t *testing.T) {
	t.Parallel()
	forProtocols(t, func(t *testing.T, proto string) {
		key := randomKey(t)
		proxy := newCutProxy(t, redisAddr)
		a := newGoNode(t, newClient(t, redisAddr), key, "A", proto)
		b := newGoNode(t, newClient(t, proxy.addr()), key, "B", proto)
		ca, cb := newClients(t, a.url), newClients(t, b.url)
		ca.connect("a1")
		cb.connect("b1")
		waitCount(t, a.io, 2)
		_ = a.io.Emit("before", 1)
		cb.eventIs("b1", "before", `[1]`)

		proxy.cut()
		waitCount(t, a.io, 1) // B's subscription is gone
		if err := a.io.Emit("during", 2); err != nil {
			t.Fatal(err)
		}
		ca.eventIs("a1", "during", `[2]`)
		time.Sleep(300 * time.Millisecond)
		proxy.restore()
		waitCount(t, a.io, 2)
		if err := a.io.Emit("after", 3); err != nil {
			t.Fatal(err)
		}
		if proto == "streams" {
			cb.eventIs("b1", "during", `[2]`)
			t.Log("streams: b1 got the broadcast sent while its server was cut off")
		} else {
			cb.eventIs("b1", "after", `[3]`)
			cb.none("b1", "during")
			t.Logf("%s: the broadcast sent while B was cut off was lost for b1 (at most once)", proto)
			return
		}
		cb.eventIs("b1", "after", `[3]`)
		res, err := b.io.ServerSideEmitWithAck(context.Background(), "ping-server", "back")
		if err != nil || len(res) != 1 {
			t.Fatalf("after the cut: %v %v", res, err)
		}
		a.expectSide(t, `["back"]`)
	})
}
