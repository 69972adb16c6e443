//go:build linux

package ws

import (
	"sync"
	"syscall"
	"unsafe"
)

// pollSupported reports whether this platform has the readiness poller.
const pollSupported = true

// poller waits for connections to become readable with one epoll set for
// the whole process, so that an idle connection holds no goroutine and no
// read buffer. Each fd is registered edge-triggered: when it is reported,
// one goroutine reads what is there (pollConn.readPass); a report that
// comes while it reads makes it, or a goroutine after it, read again. A
// connection is therefore read by one goroutine at a time, and watching
// it again after a read costs no system call.
//
// The waiting goroutine exists only while connections are registered: it
// ends when the last one leaves and starts again with the next.
type poller struct {
	mu      sync.Mutex
	epfd    int
	wake    [2]int // pipe: a write ends the wait when the set becomes empty
	conns   map[int32]*pollConn
	running bool
	err     error
}

var (
	thePoller     poller
	thePollerOnce sync.Once
)

// getPoller returns the process's poller, or nil when epoll is unusable.
func getPoller() *poller {
	thePollerOnce.Do(func() {
		p := &thePoller
		p.conns = make(map[int32]*pollConn)
		p.epfd, p.err = syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if p.err != nil {
			return
		}
		if p.err = syscall.Pipe2(p.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); p.err != nil {
			return
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(p.wake[0])}
		p.err = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev)
	})
	if thePoller.err != nil {
		return nil
	}
	return &thePoller
}

// pollEvents: edge-triggered (-EPOLLET, which the syscall package spells
// as a negative int), so that a connection needs no system call to be
// watched again after a read pass; pollConn.again keeps a report that
// comes while a pass runs.
const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | -syscall.EPOLLET

// add registers c's fd, armed. It runs inside the fd's RawConn.Control, so
// the fd cannot be closed meanwhile.
func (p *poller) add(fd int, c *pollConn) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := syscall.EpollEvent{Events: pollEvents, Fd: int32(fd)}
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return err
	}
	p.conns[int32(fd)] = c
	if !p.running {
		p.running = true
		go p.loop()
	}
	return nil
}

// del forgets fd. Run inside RawConn.Control, before the fd is closed.
func (p *poller) del(fd int, c *pollConn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[int32(fd)] != c {
		return
	}
	_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, fd, nil)
	delete(p.conns, int32(fd))
	if len(p.conns) == 0 && p.running {
		_, _ = syscall.Write(p.wake[1], []byte{0})
	}
}

// loop waits for readiness and hands each ready connection to a goroutine
// of its own server. It returns when no connection is left.
func (p *poller) loop() {
	events := make([]syscall.EpollEvent, 256)
	ready := make([]*pollConn, 0, len(events))
	var drain [64]byte
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil && err != syscall.EINTR {
			p.mu.Lock()
			p.running = false
			p.err = err
			p.mu.Unlock()
			return
		}
		p.mu.Lock()
		for i := 0; i < n; i++ {
			fd := events[i].Fd
			if int(fd) == p.wake[0] {
				for {
					if k, _ := syscall.Read(p.wake[0], drain[:]); k <= 0 {
						break
					}
				}
				continue
			}
			if c := p.conns[fd]; c != nil {
				if events[i].Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
					c.hup.Store(true)
				}
				ready = append(ready, c)
			}
		}
		exit := len(p.conns) == 0
		if exit {
			p.running = false
		}
		p.mu.Unlock()
		// Outside the lock: ready may end a connection (del locks).
		for i, c := range ready {
			c.ready()
			ready[i] = nil
		}
		ready = ready[:0]
		if exit {
			return
		}
	}
}

// writevNow writes bufs to fd without waiting (the fd is non-blocking), in
// IOV_MAX chunks, and returns how many bytes went out: fewer than asked
// when the socket buffer is full (syscall.EAGAIN is not an error here).
func writevNow(fd int, bufs [][]byte) (int, error) {
	const iovMax = 1024
	var iovs [iovMax]syscall.Iovec
	total := 0
	for len(bufs) > 0 {
		k, want := 0, 0
		for k < len(bufs) && k < iovMax {
			if b := bufs[k]; len(b) > 0 {
				iovs[k].Base = &b[0]
			} else {
				iovs[k].Base = nil
			}
			iovs[k].SetLen(len(bufs[k]))
			want += len(bufs[k])
			k++
		}
		var n uintptr
		var errno syscall.Errno
		for {
			n, _, errno = syscall.Syscall(syscall.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iovs[0])), uintptr(k))
			if errno != syscall.EINTR {
				break
			}
		}
		clear(iovs[:k])
		if errno == syscall.EAGAIN {
			return total, nil
		}
		if errno != 0 {
			return total, errno
		}
		total += int(n)
		if int(n) < want {
			return total, nil
		}
		bufs = bufs[k:]
	}
	return total, nil
}

// errWouldBlock is what a read without waiting returns when nothing is there.
var errWouldBlock error = syscall.EAGAIN

// readNow reads from fd once without waiting (the fd is non-blocking).
func readNow(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		if err != syscall.EINTR {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}
