package client

import "sync"

// group counts the goroutines a Manager starts (transport readers, writers,
// dials, handler queues, timer callbacks) so that Close can wait for them.
// Unlike a sync.WaitGroup it accepts new members while someone waits, and it
// refuses them once it is closed.
type group struct {
	mu     sync.Mutex
	n      int
	closed bool
	idle   *sync.Cond
}

// Go runs f on a new goroutine counted by the group. It reports false (and
// does not run f) once the group is closed and idle.
func (g *group) Go(f func()) bool {
	if !g.add() {
		return false
	}
	go func() {
		defer g.done()
		f()
	}()
	return true
}

// run runs f on the calling goroutine (a timer's), counted by the group.
func (g *group) run(f func()) {
	if !g.add() {
		return
	}
	defer g.done()
	f()
}

func (g *group) add() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed && g.n == 0 {
		return false
	}
	g.n++
	return true
}

func (g *group) done() {
	g.mu.Lock()
	g.n--
	if g.n == 0 && g.idle != nil {
		g.idle.Broadcast()
	}
	g.mu.Unlock()
}

// wait marks the group closed and blocks until no member runs.
func (g *group) wait() {
	g.mu.Lock()
	g.closed = true
	if g.idle == nil {
		g.idle = sync.NewCond(&g.mu)
	}
	for g.n > 0 {
		g.idle.Wait()
	}
	g.mu.Unlock()
}

// serial runs tasks one at a time, in order, on a goroutine of the group
// that exists only while there are tasks. It holds no lock while a task
// runs.
type serial struct {
	g       *group
	mu      sync.Mutex
	tasks   []func()
	running bool
}

// push queues a task.
func (s *serial) push(task func()) {
	s.mu.Lock()
	s.tasks = append(s.tasks, task)
	if !s.running {
		s.running = true
		if !s.g.Go(s.loop) {
			s.running = false
			s.tasks = nil
		}
	}
	s.mu.Unlock()
}

// pending returns the number of queued tasks.
func (s *serial) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks)
}

func (s *serial) loop() {
	for {
		s.mu.Lock()
		if len(s.tasks) == 0 {
			s.running = false
			s.tasks = nil
			s.mu.Unlock()
			return
		}
		t := s.tasks[0]
		s.tasks[0] = nil
		s.tasks = s.tasks[1:]
		s.mu.Unlock()
		t()
	}
}
