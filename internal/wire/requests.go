package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gosio/socketio/adapter"
)

// ErrTimeout is returned (with the answers received) when other servers did
// not all answer a request in time.
var ErrTimeout = errors.New("adapter: timeout reached while waiting for responses")

// ErrClosed is returned by the operations of a closed adapter.
var ErrClosed = errors.New("adapter: closed")

// Requests is the bookkeeping of the requests a server sends to the others:
// the requests waiting for answers (pending) and the broadcasts whose acks
// are relayed (acks). mu guards the maps, closed and the fields of the
// pending requests.
type Requests struct {
	mu      sync.Mutex
	closed  bool
	pending map[string]*Request
	acks    map[string]*AckRequest
	timeout time.Duration   // the adapter's requests timeout
	stop    <-chan struct{} // closed when the adapter closes
}

// Request is a pending request of this server waiting for answers. Its
// fields are guarded by the Requests' lock until Wait returned.
type Request struct {
	Type      int
	NumSub    int
	MsgCount  int
	Sockets   []adapter.SocketInfo
	Responses []json.RawMessage
	done      chan struct{}
	finished  bool
}

// AckRequest is a broadcast of this server whose acks other servers relay.
type AckRequest struct {
	onCount func(int)
	onAck   func(adapter.AckResponse)
	timer   *time.Timer
}

// NewRequests returns the bookkeeping of an adapter whose requests wait at
// most timeout and end when stop is closed.
func NewRequests(timeout time.Duration, stop <-chan struct{}) *Requests {
	return &Requests{
		pending: make(map[string]*Request),
		acks:    make(map[string]*AckRequest),
		timeout: timeout,
		stop:    stop,
	}
}

// Start registers a request under rid before it is published. The request
// is finished once MsgCount reaches NumSub (see Request.Finish); how both
// are counted is the adapter's.
func (t *Requests) Start(rid string, typ, numSub, msgCount int) (*Request, error) {
	r := &Request{Type: typ, NumSub: numSub, MsgCount: msgCount, done: make(chan struct{})}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, ErrClosed
	}
	t.pending[rid] = r
	return r, nil
}

// Remove forgets the request rid (its publication failed).
func (t *Requests) Remove(rid string) {
	t.mu.Lock()
	delete(t.pending, rid)
	t.mu.Unlock()
}

// IsPending reports whether rid is a pending request of this server.
func (t *Requests) IsPending(rid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, p := t.pending[rid]
	return p
}

// Wait waits until r is finished, the timeout (ErrTimeout) or the adapter's
// close (ErrClosed), then removes it. Once Wait returned, no answer touches
// r any more: its fields may be read without the lock.
func (t *Requests) Wait(ctx context.Context, rid string, r *Request) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var err error
	select {
	case <-r.done:
	case <-ctx.Done():
		err = ErrTimeout
	case <-t.stop:
		err = ErrClosed
	}
	t.mu.Lock()
	delete(t.pending, rid)
	r.finished = true
	t.mu.Unlock()
	return err
}

// Finish ends the request (called under the lock, from Answer's onAnswer).
func (r *Request) Finish() {
	if !r.finished {
		r.finished = true
		close(r.done)
	}
}

// Answer routes an answer to the request rid: to onAck (called without the
// lock) when a broadcast waits for acks under rid, else to onAnswer (called
// under the lock) when rid is a pending request not finished yet.
func (t *Requests) Answer(rid string, onAck func(*AckRequest) error, onAnswer func(*Request)) error {
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

// AddAck registers a broadcast waiting for acks, kept for timeout (the
// requests timeout when not positive).
func (t *Requests) AddAck(rid string, timeout time.Duration, onCount func(int), onAck func(adapter.AckResponse)) error {
	if timeout <= 0 {
		timeout = t.timeout
	}
	ar := &AckRequest{onCount: onCount, onAck: onAck}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	t.acks[rid] = ar
	ar.timer = time.AfterFunc(timeout, func() {
		t.mu.Lock()
		delete(t.acks, rid)
		t.mu.Unlock()
	})
	return nil
}

// RemoveAck forgets the broadcast rid (its publication failed).
func (t *Requests) RemoveAck(rid string) {
	t.mu.Lock()
	if ar := t.acks[rid]; ar != nil {
		ar.timer.Stop()
		delete(t.acks, rid)
	}
	t.mu.Unlock()
}

// HasAck reports whether a broadcast of this server waits for acks under rid.
func (t *Requests) HasAck(rid string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, mine := t.acks[rid]
	return mine
}

// Close refuses new requests and drops the broadcasts waiting for acks; it
// reports false when already closed.
func (t *Requests) Close() bool {
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

// Relay passes an answer to a broadcast with acks: a client count (type
// countType) or an ack (type ackType, its first argument in "packet").
// prefix starts the error of a count that is not a number.
func (ar *AckRequest) Relay(typ, countType, ackType int64, msg *Object, prefix string) error {
	switch typ {
	case countType:
		cv, _ := msg.Get("clientCount")
		n, ok := AsInt(cv)
		if !ok {
			return errors.New(prefix + ": client count is not a number")
		}
		ar.onCount(int(n))
	case ackType:
		pv, _ := msg.Get("packet")
		raw, atts, err := EncodeJSON(pv, Placeholders)
		if err != nil {
			return err
		}
		ar.onAck(adapter.AckResponse{Args: []json.RawMessage{raw}, Attachments: atts})
	}
	return nil
}

// EmitResult is the outcome of a server-side emit with acks that waited for
// expected answers: a timeout says how many came.
func EmitResult(r *Request, expected int, err error) ([]json.RawMessage, error) {
	if err == ErrTimeout {
		err = fmt.Errorf("%w: only %d responses received out of %d", ErrTimeout, len(r.Responses), expected)
	}
	return r.Responses, err
}

// JSONArgs converts the arguments of a server-side emit.
func JSONArgs(arr []any) []json.RawMessage {
	args := make([]json.RawMessage, len(arr))
	for i, v := range arr {
		args[i] = JSONOf(v)
	}
	return args
}

// SocketTrees is the "sockets" of a FETCH_SOCKETS answer.
func SocketTrees(infos []adapter.SocketInfo) []any {
	socks := make([]any, len(infos))
	for i, s := range infos {
		socks[i] = SocketTree(s)
	}
	return socks
}
