package engineio

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gosio/socketio/engineio/packet"
)

// upgradeGrace is the period at which polls held during an upgrade are
// released with a noop, counted from the probe (Node checks every 100 ms).
const upgradeGrace = 100 * time.Millisecond

// beginRequest admits a polling GET or POST: the session must still be on
// polling (400 code 3 otherwise), and no other request of the same kind may
// be in progress (*active): an overlapping one gets 400 and ends the
// session. On success *active is set.
func (c *Conn) beginRequest(w http.ResponseWriter, r *http.Request, active *bool) bool {
	c.mu.Lock()
	if c.state != stateClosed && c.transport != Polling {
		c.mu.Unlock()
		c.srv.refuse(w, r, codeBadRequest, "transport mismatch")
		return false
	}
	if *active {
		c.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		c.finish(ReasonTransportError, errOverlap, closeMsg)
		return false
	}
	*active = true
	c.mu.Unlock()
	return true
}

// servePoll answers a long-polling GET: at once with whatever is queued, or
// when something is queued, the session ends, or an upgrade releases it.
func (c *Conn) servePoll(w http.ResponseWriter, r *http.Request) {
	if !c.beginRequest(w, r, &c.getActive) {
		return
	}
	c.mu.Lock()
	arrivedProbing := c.probing
	c.mu.Unlock()

	// A long poll may outlive an http.Server WriteTimeout shorter than the
	// heartbeat; push the deadline past the longest possible wait.
	cfg := &c.srv.cfg
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(cfg.PingInterval + cfg.PingTimeout + 10*time.Second))

	var tick *time.Timer // the upgrade tick, while a probe is under way
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	var tickC <-chan time.Time
	for {
		c.mu.Lock()
		switch {
		case c.state == stateClosed:
			ans, already := c.pollAnswer, c.answered
			c.answered = true
			c.getActive = false
			c.mu.Unlock()
			c.srv.forget(c)
			if already {
				// The close answer has gone out: the sid is unknown now.
				c.srv.refuse(w, r, codeUnknownSID, "sid of a closed session")
				return
			}
			c.srv.writePayload(w, r, []*Message{ans})
			return
		case c.transport != Polling:
			c.getActive = false
			c.mu.Unlock()
			if arrivedProbing {
				c.srv.refuse(w, r, codeBadRequest, "transport mismatch")
			} else {
				c.srv.writePayload(w, r, []*Message{noopMsg})
			}
			return
		case len(c.queue) > 0:
			batch, final := c.takePollBatchLocked()
			c.getActive = false
			if final {
				c.answered = true // this batch is the close packet
			}
			reason := c.reason
			c.mu.Unlock()
			c.srv.writePayload(w, r, batch)
			if final {
				c.finish(reason, nil, closeMsg)
			} else {
				c.notifyDrain()
			}
			return
		case c.probing:
			// As in Node, which checks every 100 ms from the probe, a poll
			// held during an upgrade is released with a noop at the next
			// tick, so that the client can pause polling and finish.
			if tick != nil && tickC == nil { // the tick has come
				c.getActive = false
				c.mu.Unlock()
				c.srv.writePayload(w, r, []*Message{noopMsg})
				return
			}
			if tick == nil {
				tick = time.NewTimer(upgradeGrace - (hbNow()-c.probeAt)%upgradeGrace)
				tickC = tick.C
			}
		}
		c.mu.Unlock()
		select {
		case <-c.pollCh:
		case <-tickC:
			tickC = nil // the tick is due: the next pass answers
		case <-r.Context().Done():
			c.mu.Lock()
			c.getActive = false
			// The session fails with this GET: a GET that slips in before
			// finish below must get 400, not the close answer.
			c.answered = true
			c.mu.Unlock()
			c.finish(ReasonTransportError, r.Context().Err(), closeMsg)
			return
		}
	}
}

// takePollBatchLocked takes what a poll response carries. When a graceful
// close is pending, the close packet travels alone in the last response,
// after the rest has been delivered (as in Node): the JavaScript client
// handles Socket.IO packets on the next tick, so a DISCONNECT sharing a
// payload with the close would be overtaken by it. final reports that the
// batch is that close packet.
func (c *Conn) takePollBatchLocked() (batch []*Message, final bool) {
	batch = c.queue
	n := len(batch)
	if c.state == stateClosing && n > 1 && batch[n-1] == closeMsg {
		c.queue = []*Message{closeMsg}
		c.queued = 0
		return batch[: n-1 : n-1], false
	}
	c.queue, c.queued = nil, 0
	return batch, c.state == stateClosing && n > 0 && batch[n-1] == closeMsg
}

// servePost takes a polling payload from the client. Every packet in it is
// handled, message handlers included, before the POST is answered.
func (c *Conn) servePost(w http.ResponseWriter, r *http.Request) {
	if !c.beginRequest(w, r, &c.postActive) {
		return
	}
	defer func() {
		c.mu.Lock()
		c.postActive = false
		c.mu.Unlock()
	}()

	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/octet-stream" {
		// The session ends first, so that the held GET carries the close
		// packet before the client sees this error (as with Node).
		c.finish(ReasonTransportError, errBinaryPost, closeMsg)
		c.srv.refuse(w, r, codeBadRequest, "binary payload")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(c.srv.cfg.MaxPayload)))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			// As in Node, the session survives an oversized POST.
			c.srv.writeStatus(w, r, http.StatusRequestEntityTooLarge, "payload too large")
			return
		}
		c.finish(ReasonTransportError, err, closeMsg)
		return
	}
	pkts, err := packet.DecodePayload(body)
	if err != nil {
		c.finish(ReasonParseError, err, closeMsg)
		c.srv.refuse(w, r, codeBadRequest, err.Error())
		return
	}
	for _, p := range pkts {
		if !c.onPacket(p, false) {
			break
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}
