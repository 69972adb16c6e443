// Package clustertest provides an in-process broker for the cluster
// adapter (adapter/cluster), so that several servers of one test process
// form a cluster without Redis or any other service, and faults (a broker
// that hangs or refuses) can be injected.
package clustertest

import (
	"context"
	"errors"
	"sync"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
)

// ErrDown is returned by the transports of a broker that was set down with
// Fail.
var ErrDown = errors.New("clustertest: broker down")

// Broker connects the transports it creates. Messages are encoded and
// decoded as they would be on a network (Message.Encode and Decode), and
// delivered in order, each subscriber on a goroutine of its own.
type Broker struct {
	mu   sync.Mutex
	subs map[string]map[*transport]func(*cluster.Message, string) // by namespace
	hang chan struct{}                                            // non-nil: publications block until closed or ctx
	fail bool
	cut  map[string]bool // servers cut from the broker, by uid
	live int             // transports not closed
}

// New returns a broker.
func New() *Broker {
	return &Broker{
		subs: map[string]map[*transport]func(*cluster.Message, string){},
		cut:  map[string]bool{},
	}
}

// Factory returns an adapter factory (socketio.Config.Adapter) for the
// servers of the broker's cluster.
func (b *Broker) Factory(opts cluster.Options) adapter.Factory {
	return cluster.Factory(func(uid string) (cluster.Transport, error) { return b.NewTransport(uid), nil }, opts)
}

// NewTransport returns the transport of the server uid.
func (b *Broker) NewTransport(uid string) cluster.Transport {
	t := &transport{b: b, uid: uid, queue: make(chan delivery, 1<<16), done: make(chan struct{})}
	b.mu.Lock()
	b.live++
	b.mu.Unlock()
	t.wg.Add(1)
	go t.run()
	return t
}

// Cut isolates the server uid (true), as a network partition would: what
// it publishes and what is published to it is lost, without an error;
// false joins it again.
func (b *Broker) Cut(uid string, cut bool) {
	b.mu.Lock()
	b.cut[uid] = cut
	b.mu.Unlock()
}

// Transports returns the number of transports not closed yet.
func (b *Broker) Transports() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.live
}

// Hang makes publications block until Resume (or their context ends), as
// a broker that stopped answering.
func (b *Broker) Hang() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hang == nil {
		b.hang = make(chan struct{})
	}
}

// Fail makes publications fail at once with ErrDown (true) or work again
// (false).
func (b *Broker) Fail(down bool) {
	b.mu.Lock()
	b.fail = down
	b.mu.Unlock()
}

// Resume ends Hang.
func (b *Broker) Resume() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.hang != nil {
		close(b.hang)
		b.hang = nil
	}
}

// Subscribers returns the number of transports subscribed to namespace nsp.
func (b *Broker) Subscribers(nsp string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs[nsp])
}

type delivery struct {
	deliver func(*cluster.Message, string)
	raw     []byte
}

type transport struct {
	b     *Broker
	uid   string
	queue chan delivery
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func (t *transport) run() {
	defer t.wg.Done()
	for {
		select {
		case d := <-t.queue:
			if m, err := cluster.Decode(d.raw); err == nil {
				d.deliver(m, "")
			}
		case <-t.done:
			return
		}
	}
}

func (t *transport) wait(ctx context.Context) error {
	t.b.mu.Lock()
	hang, fail := t.b.hang, t.b.fail
	t.b.mu.Unlock()
	if fail {
		return ErrDown
	}
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (t *transport) send(ctx context.Context, m *cluster.Message, to string) error {
	if err := t.wait(ctx); err != nil {
		return err
	}
	raw, err := m.Encode()
	if err != nil {
		return err
	}
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if t.b.cut[t.uid] {
		return nil
	}
	for peer, deliver := range t.b.subs[m.Nsp] {
		if peer == t || (to != "" && peer.uid != to) || t.b.cut[peer.uid] {
			continue
		}
		select {
		case peer.queue <- delivery{deliver, raw}:
		default: // a subscriber that cannot keep up loses messages, as on pub/sub
		}
	}
	return nil
}

func (t *transport) Publish(ctx context.Context, m *cluster.Message) (string, error) {
	return "", t.send(ctx, m, "")
}

func (t *transport) PublishResponse(ctx context.Context, to string, m *cluster.Message) error {
	return t.send(ctx, m, to)
}

func (t *transport) Subscribe(ctx context.Context, nsp string, deliver func(*cluster.Message, string)) error {
	if err := t.wait(ctx); err != nil {
		return err
	}
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if t.b.subs[nsp] == nil {
		t.b.subs[nsp] = map[*transport]func(*cluster.Message, string){}
	}
	t.b.subs[nsp][t] = deliver
	return nil
}

func (t *transport) Unsubscribe(nsp string) {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	delete(t.b.subs[nsp], t)
	if len(t.b.subs[nsp]) == 0 {
		delete(t.b.subs, nsp)
	}
}

func (t *transport) Close() error {
	t.once.Do(func() {
		close(t.done)
		t.wg.Wait()
		t.b.mu.Lock()
		t.b.live--
		t.b.mu.Unlock()
	})
	return nil
}
