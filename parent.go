package socketio

import (
	"regexp"
	"runtime/debug"
	"slices"
	"sync"
)

// ParentNamespace creates child namespaces on demand: the first client that
// connects to a name it matches creates that namespace (Node's dynamic
// namespaces, io.of(regexp) and io.of(function)). The parent's middleware
// and connection handlers apply to every child, before the child's own;
// its Emit reaches every child. A namespace created with Server.Of always
// wins over a dynamic match.
type ParentNamespace struct {
	srv   *Server
	match func(name string, auth map[string]any) bool

	mu          sync.RWMutex
	middlewares []Middleware
	onConn      []func(*Socket)
	children    map[string]*Namespace
}

// OfRegexp returns a parent namespace for the names re matches, e.g.
// regexp.MustCompile(`^/dynamic-\d+$`).
func (s *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return s.addParent(func(name string, _ map[string]any) bool { return re.MatchString(name) })
}

// OfFunc returns a parent namespace for the names match accepts; match gets
// the namespace name and the client's CONNECT auth. It runs on the
// connection's reader, so it should be quick.
func (s *Server) OfFunc(match func(name string, auth map[string]any) bool) *ParentNamespace {
	return s.addParent(match)
}

func (s *Server) addParent(match func(string, map[string]any) bool) *ParentNamespace {
	p := &ParentNamespace{srv: s, match: match, children: make(map[string]*Namespace)}
	s.mu.Lock()
	s.parents = append(s.parents, p)
	s.mu.Unlock()
	return p
}

// OnNewNamespace adds a handler called when a dynamic namespace creates a
// child (Node's "new_namespace" event).
func (s *Server) OnNewNamespace(fn func(*Namespace)) {
	s.mu.Lock()
	s.onNewNsp = append(s.onNewNsp, fn)
	s.mu.Unlock()
}

func (p *ParentNamespace) safeMatch(name string, auth map[string]any) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			p.srv.cfg.Logger.Error("socket.io: namespace matcher panicked", "nsp", name, "panic", v, "stack", string(debug.Stack()))
			ok = false
		}
	}()
	return p.match(name, auth)
}

// Use adds a connection middleware run for every child, before the child's
// own.
func (p *ParentNamespace) Use(mw Middleware) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, mw)
	p.mu.Unlock()
}

// OnConnection adds a handler called for each socket that connects to any
// child.
func (p *ParentNamespace) OnConnection(fn func(*Socket)) {
	p.mu.Lock()
	p.onConn = append(p.onConn, fn)
	p.mu.Unlock()
}

// Children returns the child namespaces created so far.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, n := range p.children {
		out = append(out, n)
	}
	return out
}

// Emit sends an event to every socket of every child.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	return p.each(func(n *Namespace) error { return n.Emit(event, args...) })
}

// EmitTo sends an event to the sockets in the rooms, in every child.
func (p *ParentNamespace) EmitTo(rooms []string, event string, args ...any) error {
	return p.each(func(n *Namespace) error { return n.To(rooms...).Emit(event, args...) })
}

func (p *ParentNamespace) each(fn func(*Namespace) error) error {
	var first error
	for _, n := range p.Children() {
		if err := fn(n); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (p *ParentNamespace) hooks() ([]Middleware, []func(*Socket)) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.middlewares), slices.Clone(p.onConn)
}
