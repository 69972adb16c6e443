package testutil

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// EventOf waits (15 s) for the next "event" line of the sio-driver's
// client c named name whose arguments match (nil: any), and returns its
// arguments.
func (p *Proc) EventOf(c, name string, match func(args []any) bool) []any {
	p.t.Helper()
	e := p.Expect(15*time.Second, fmt.Sprintf("%s of %s", name, c), func(e Event) bool {
		if e.Name() != "event" || e.Str("c") != c || e.Str("name") != name {
			return false
		}
		args, _ := e["args"].([]any)
		return match == nil || match(args)
	})
	args, _ := e["args"].([]any)
	return args
}

// ArgsStartWith matches arguments whose first values are want, compared
// as JSON values (the rest, a timestamp say, is free).
func ArgsStartWith(want ...any) func([]any) bool {
	return func(args []any) bool {
		if len(args) < len(want) {
			return false
		}
		for i, w := range want {
			if !JSONEqual(args[i], w) {
				return false
			}
		}
		return true
	}
}

// JSONEqual compares two values by their JSON form ([]string{"a"} equals
// []any{"a"}).
func JSONEqual(a, b any) bool {
	var va, vb any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	return reflect.DeepEqual(va, vb)
}
