package prometheus

import (
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// Other is the label value of the namespaces and events that a label
// function does not keep (see Allow), and of every new value once a label
// has MaxLabelValues of them.
const Other = "other"

// Allow returns a label function for Options.NamespaceLabel or
// Options.EventLabel that keeps the listed names as they are and maps every
// other name to Other.
func Allow(names ...string) func(string) string {
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
	}
	return func(name string) string {
		if keep[name] {
			return name
		}
		return Other
	}
}

// maxCachedNames bounds how many raw names (namespace or event names as
// received) a resolver remembers; past it, a name it has not seen is
// mapped again at each use (a client sending random event names costs a
// lock and a call of the label function per event, never memory).
const maxCachedNames = 1024

// resolver maps raw names to the metrics of their label value, with a
// bounded number of label values (max besides Other, then Other) and of
// cached names.
// Lookups of cached names take no lock and allocate nothing.
type resolver[T any] struct {
	label func(string) string
	max   int
	make  func(labelValue string) *T
	// known, when not nil, tells whether a name may get a label value of
	// its own: the others are Other, and not cached (they may become
	// known later).
	known func(name string) bool

	names atomic.Pointer[map[string]*T] // copy on write

	mu     sync.Mutex
	values map[string]*T // label value -> metrics, guarded by mu
}

func newResolver[T any](label func(string) string, max int, mk func(string) *T) *resolver[T] {
	r := &resolver[T]{label: label, max: max, make: mk, values: map[string]*T{}}
	r.names.Store(&map[string]*T{})
	return r
}

// get returns the metrics of the raw name.
func (r *resolver[T]) get(name string) *T {
	if t, ok := (*r.names.Load())[name]; ok {
		return t
	}
	return r.resolve(name)
}

// getBytes is get for a name given as bytes, without converting them to a
// string when the name is cached.
func (r *resolver[T]) getBytes(name []byte) *T {
	if t, ok := (*r.names.Load())[string(name)]; ok {
		return t
	}
	return r.resolve(string(name))
}

func (r *resolver[T]) resolve(name string) *T {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := *r.names.Load()
	if t, ok := names[name]; ok {
		return t
	}
	if r.known != nil && !r.known(name) {
		return r.valueLocked(Other)
	}
	v := r.label(name)
	if !utf8.ValidString(v) {
		v = Other // Prometheus refuses it
	}
	if _, ok := r.values[v]; !ok && v != Other {
		n := len(r.values)
		if _, ok := r.values[Other]; ok {
			n--
		}
		if n >= r.max {
			v = Other
		}
	}
	t := r.valueLocked(v)
	if len(names) < maxCachedNames {
		next := make(map[string]*T, len(names)+1)
		for k, x := range names {
			next[k] = x
		}
		next[name] = t
		r.names.Store(&next)
	}
	return t
}

// valueLocked returns the metrics of the label value v, made if needed.
func (r *resolver[T]) valueLocked(v string) *T {
	t, ok := r.values[v]
	if !ok {
		t = r.make(v)
		r.values[v] = t
	}
	return t
}
