//go:build !linux

package ws

import "errors"

var errNoPoller = errors.New("ws: no readiness poller on this platform")

// pollSupported reports whether this platform has the readiness poller;
// elsewhere every connection is read by the library's blocking read loop.
const pollSupported = false

type poller struct{}

func getPoller() *poller { return nil }

func (p *poller) add(int, *pollConn) error { return errNoPoller }
func (p *poller) del(int, *pollConn)       {}

func writevNow(int, [][]byte) (int, error) { return 0, errNoPoller }

var errWouldBlock = errNoPoller

func readNow(uintptr, []byte) (int, error) { return 0, errNoPoller }
