package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/adapter"
)

// requests is the bookkeeping of the requests a server sends to the others,
// shared by the classic adapter and the ClusterAdapter (sharded, Streams):
// the requests waiting for answers (pending) and the broadcasts whose acks
// are relayed (acks). mu guards the maps, closed and the fields of the
// pending requests.
type requests struct {
	mu      sync.Mutex
	closed  bool
	pending map[string]*request
	acks    map[string]*ackRequest
	timeout time.Duration   // RequestsTimeout
	stop    <-chan struct{} // closed when the adapter closes
}

// request is a pending request of this server waiting for answers.
type request struct {
	typ       int
	numSub    int
	msgCount  int
	sockets   []adapter.SocketInfo
	responses []json.RawMessage
	done      chan struct{}
	finished  bool
}

type ackRequest struct {
	onCount func(int)
	onAck   func(adapter.AckResponse)
	timer   *time.Timer
}

func newRequests(timeout time.Duration, stop <-chan struct{}) *requests {
	return &requests{
		pending: make(map[string]*request),
		acks:    make(map[string]*ackRequest),
		timeout: timeout,
		stop:    stop,
	}
}

// start registers a request under rid before it is published. The request
// is finished once msgCount reaches numSub (see request.finish); how both
// are counted is the adapter's.
func (t *requests) start(rid string, typ, numSub, msgCount int) (*request, error) {
	r := &request{typ: typ, numSub: numSub, msgCount: msgCount, done: make(chan struct{})}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errClosed
	}
	t.pending[rid] = r
	return r, nil
}

// remove forgets the request rid (its publication failed).
func (t *requests) remove(rid string) {
	t.mu.Lock()
	delete(t.pending, rid)
	t.mu.Unlock()
}

// isPending reports whether rid is a pending request of this server.
func (t *requests) isPending(rid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, p := t.pending[rid]
	return p
}

// wait waits until r is finished, the timeout (ErrTimeout) or the adapter's
// close (errClosed), then removes it. Once wait returned, no answer touches
// r any more: its fields may be read without the lock.
func (t *requests) wait(ctx context.Context, rid string, r *request) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var err error
	select {
	case <-r.done:
	case <-ctx.Done():
		err = ErrTimeout
	case <-t.stop:
		err = errClosed
	}
	t.mu.Lock()
	delete(t.pending, rid)
	r.finished = true
	t.mu.Unlock()
	return err
}

func (r *request) finish() {
	if !r.finished {
		r.finished = true
		close(r.done)
	}
}

// answer routes an answer to the request rid: to onAck (called without the
// lock) when a broadcast waits for acks under rid, else to onAnswer (called
// under the lock) when rid is a pending request not finished yet.
func (t *requests) answer(rid string, onAck func(*ackRequest) error, onAnswer func(*request)) error {
	t.mu.Lock()
	if ar := t.acks[rid]; ar != nil {
		t.mu.Unlock()
		return onAck(ar)
	}
	defer t.mu.Unlock()
	r := t.pending[rid]
	if r == nil || r.finished {
		return nil
	}
	onAnswer(r)
	return nil
}

// addAck registers a broadcast waiting for acks, kept for timeout
// (RequestsTimeout when not positive).
func (t *requests) addAck(rid string, timeout time.Duration, onCount func(int), onAck func(adapter.AckResponse)) error {
	if timeout <= 0 {
		timeout = t.timeout
	}
	ar := &ackRequest{onCount: onCount, onAck: onAck}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	t.acks[rid] = ar
	ar.timer = time.AfterFunc(timeout, func() {
		t.mu.Lock()
		delete(t.acks, rid)
		t.mu.Unlock()
	})
	return nil
}

// hasAck reports whether a broadcast of this server waits for acks under rid.
func (t *requests) hasAck(rid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, mine := t.acks[rid]
	return mine
}

// close refuses new requests and drops the broadcasts waiting for acks; it
// reports false when already closed.
func (t *requests) close() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.closed = true
	for id, ar := range t.acks {
		ar.timer.Stop()
		delete(t.acks, id)
	}
	return true
}

// relay passes an answer to a broadcast with acks: a client count (type
// countType) or an ack (type ackType, its first argument in "packet").
// prefix starts the error of a count that is not a number.
func (ar *ackRequest) relay(typ, countType, ackType int64, msg *object, prefix string) error {
	switch typ {
	case countType:
		cv, _ := msg.get("clientCount")
		n, ok := asInt(cv)
		if !ok {
			return errors.New(prefix + ": client count is not a number")
		}
		ar.onCount(int(n))
	case ackType:
		pv, _ := msg.get("packet")
		raw, atts, err := encodeJSON(pv, placeholders)
		if err != nil {
			return err
		}
		ar.onAck(adapter.AckResponse{Args: []json.RawMessage{raw}, Attachments: atts})
	}
	return nil
}

// emitResult is the outcome of a server-side emit with acks that waited for
// expected answers: a timeout says how many came.
func emitResult(r *request, expected int, err error) ([]json.RawMessage, error) {
	if err == ErrTimeout {
		err = fmt.Errorf("%w: only %d responses received out of %d", ErrTimeout, len(r.responses), expected)
	}
	return r.responses, err
}

// awaitSubscriptions reads ps until Redis confirmed n subscriptions and
// returns the messages received meanwhile.
func awaitSubscriptions(ctx context.Context, ps *goredis.PubSub, n int) ([]*goredis.Message, error) {
	var early []*goredis.Message
	for confirmed := 0; confirmed < n; {
		msg, err := ps.Receive(ctx)
		if err != nil {
			return nil, err
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			confirmed++
		case *goredis.Message:
			early = append(early, m)
		}
	}
	return early, nil
}

// jsonArgs converts the arguments of a server-side emit.
func jsonArgs(arr []any) []json.RawMessage {
	args := make([]json.RawMessage, len(arr))
	for i, v := range arr {
		args[i] = jsonOf(v)
	}
	return args
}

// socketTrees is the "sockets" of a FETCH_SOCKETS answer.
func socketTrees(infos []adapter.SocketInfo) []any {
	socks := make([]any, len(infos))
	for i, s := range infos {
		socks[i] = socketTree(s)
	}
	return socks
}
