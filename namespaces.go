package socketio

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
)

// The server's namespaces by name. A namespace is created once per name;
// its adapter is created with the server's lock released, so that a slow
// factory (a network adapter dialing its broker) holds up only the
// lookups of that name, which wait for it, and never the others.

// errNamespaceUnavailable is what a client connecting to a dynamic child
// whose adapter could not be created sees (its CONNECT_ERROR message).
const errNamespaceUnavailable = "Namespace unavailable"

// nspCreation is a namespace whose adapter is being created.
type nspCreation struct {
	done chan struct{} // closed once n or err is set
	n    *Namespace
	err  error
}

// wait returns the creation's outcome once it is known.
func (c *nspCreation) wait() (*Namespace, error) {
	<-c.done
	return c.n, c.err
}

// lookup returns the namespace called name, waiting for a creation of it
// in flight. It returns (nil, nil) when there is none, and the creation's
// error when the one it waited for failed. With ref, a dynamic child that
// is cleaned up when empty gets a reference, released by n.release.
func (s *Server) lookup(name string, ref bool) (*Namespace, error) {
	for {
		s.mu.Lock()
		if n := s.nsps[name]; n != nil {
			if ref {
				n.acquireLocked()
			}
			s.mu.Unlock()
			return n, nil
		}
		c := s.creating[name]
		s.mu.Unlock()
		if c == nil {
			return nil, nil
		}
		if _, err := c.wait(); err != nil {
			return nil, err
		}
		// Created: look again (it may have been removed meanwhile).
	}
}

// ensure returns the namespace called name, creating it when there is
// none, as a child of parent (nil for a namespace of Server.Of). created
// reports whether this call created it; ref is as for lookup. Concurrent
// calls for one name create it once: the others wait for the first, and
// share its error when the adapter factory fails. Nothing is kept after a
// failure, so a later call tries again.
func (s *Server) ensure(name string, parent *ParentNamespace, ref bool) (n *Namespace, created bool, err error) {
	for {
		s.mu.Lock()
		if s.nspClosed {
			s.mu.Unlock()
			return nil, false, ErrServerClosed
		}
		if n = s.nsps[name]; n != nil {
			if ref {
				n.acquireLocked()
			}
			s.mu.Unlock()
			return n, false, nil
		}
		if c := s.creating[name]; c != nil {
			s.mu.Unlock()
			if _, err := c.wait(); err != nil {
				return nil, false, err
			}
			continue
		}
		c := &nspCreation{done: make(chan struct{})}
		s.creating[name] = c
		s.mu.Unlock()

		n, err = newNamespace(s, name, parent) // the factory runs here, unlocked
		closeNew := false
		s.mu.Lock()
		delete(s.creating, name)
		switch {
		case err != nil:
			n = nil
		case s.nspClosed:
			closeNew, err = true, ErrServerClosed
		default:
			s.nsps[name] = n
			if parent != nil {
				parent.mu.Lock()
				parent.children[name] = n
				parent.mu.Unlock()
			}
			if ref {
				n.acquireLocked()
			}
		}
		c.err = err
		forward := false
		if err == nil {
			c.n = n
			forward = s.obs.Load().wantsRooms() // published under the lock Observe takes
		}
		s.mu.Unlock()
		if forward {
			n.forwardRoomEvents()
		}
		close(c.done)
		if closeNew {
			_ = n.adapter.Close()
			return nil, false, err
		}
		return c.n, err == nil, err
	}
}

// Of returns the namespace with the given name, creating it on first use.
// A name without a leading slash gets one.
//
// Creating a namespace creates its adapter (Config.Adapter). When the
// factory fails, Of returns its error and keeps nothing: a later call
// tries again. Concurrent calls for one name create it once; a slow
// factory delays only the lookups of the name being created.
func (s *Server) Of(name string) (*Namespace, error) {
	if len(name) == 0 || name[0] != '/' {
		name = "/" + name
	}
	s.mu.RLock()
	n := s.nsps[name]
	s.mu.RUnlock()
	if n != nil {
		return n, nil
	}
	n, _, err := s.ensure(name, nil, false)
	return n, err
}

// Namespaces returns the server's namespaces, by name: the static ones and
// the children of dynamic namespaces that exist now.
func (s *Server) Namespaces() []*Namespace {
	s.mu.RLock()
	nsps := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	s.mu.RUnlock()
	slices.SortFunc(nsps, func(a, b *Namespace) int { return strings.Compare(a.name, b.name) })
	return nsps
}

// namespaceFor finds the namespace a CONNECT addresses: a static one, or a
// child of the first parent that matches (created if needed). The
// namespace comes with a reference (see Namespace.release). It returns
// (nil, nil) when no namespace has the name.
func (s *Server) namespaceFor(name string, auth map[string]any) (*Namespace, error) {
	n, err := s.lookup(name, true)
	if n != nil || err != nil {
		return n, err
	}
	s.mu.RLock()
	parents := slices.Clone(s.parents)
	s.mu.RUnlock()
	for _, p := range parents {
		if p.safeMatch(name, auth) {
			return p.child(name)
		}
	}
	return nil, nil
}

// child returns the child namespace name with a reference, creating it.
func (p *ParentNamespace) child(name string) (*Namespace, error) {
	s := p.srv
	n, created, err := s.ensure(name, p, true)
	if err != nil {
		if !errors.Is(err, ErrServerClosed) {
			s.cfg.Logger.Error("socket.io: dynamic namespace not created: its adapter failed", "nsp", name, "err", err)
		}
		return nil, err
	}
	if !created {
		return n, nil
	}
	s.mu.RLock()
	handlers := slices.Clone(s.onNewNsp)
	s.mu.RUnlock()
	for _, fn := range handlers {
		func() {
			defer func() {
				if v := recover(); v != nil {
					s.cfg.Logger.Error("socket.io: new namespace handler panicked", "nsp", name, "panic", v, "stack", string(debug.Stack()))
				}
			}()
			fn(n)
		}()
	}
	return n, nil
}

// counted reports whether the namespace counts references: a dynamic child
// that is removed once empty (CleanupEmptyChildNamespaces).
func (n *Namespace) counted() bool {
	return n.parent != nil && n.srv.cfg.CleanupEmptyChildNamespaces
}

// acquireLocked takes a reference for a socket that connects (under the
// server's lock).
func (n *Namespace) acquireLocked() {
	if n.counted() {
		n.refs++
	}
}

// release gives back the reference of a socket that has left, was refused,
// or never got to connect. A counted child whose last reference goes is
// removed and its adapter closed: a child nobody uses costs nothing once
// its clients have gone.
func (n *Namespace) release() {
	if !n.counted() {
		return
	}
	s := n.srv
	s.mu.Lock()
	n.refs--
	remove := n.refs == 0 && s.nsps[n.name] == n && !s.nspClosed
	if remove {
		delete(s.nsps, n.name)
		p := n.parent
		p.mu.Lock()
		if p.children[n.name] == n {
			delete(p.children, n.name)
		}
		p.mu.Unlock()
	}
	s.mu.Unlock()
	if remove {
		if err := n.adapter.Close(); err != nil {
			s.cfg.Logger.Warn("socket.io: adapter of a removed namespace did not close", "nsp", n.name, "err", err)
		}
	}
}

// closeAdapters closes the adapter of every namespace, once, with the
// server's lock released; namespaces created afterwards are refused.
func (s *Server) closeAdapters() {
	s.mu.Lock()
	if s.nspClosed {
		s.mu.Unlock()
		return
	}
	s.nspClosed = true
	nsps := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	s.mu.Unlock()
	for _, n := range nsps {
		if err := n.adapter.Close(); err != nil {
			s.cfg.Logger.Warn("socket.io: adapter did not close", "nsp", n.name, "err", err)
		}
	}
}

// adapterError wraps a factory's error with the namespace's name.
func adapterError(name string, err error) error {
	return fmt.Errorf("socketio: namespace %q: adapter: %w", name, err)
}
