package socketio_test

import (
	"encoding/json"
	"slices"
	"testing"

	socketio "github.com/gosio/socketio"
)

func TestRoomSet(t *testing.T) {
	for _, tc := range []struct {
		name  string
		set   socketio.RoomSet
		list  []string
		json  string
		has   string
		hasnt string
	}{
		{"zero", socketio.RoomSet{}, nil, `[]`, "", "a"},
		{"unsorted with duplicates", socketio.NewRoomSet("b", "a", "c", "a"), []string{"a", "b", "c"}, `["a","b","c"]`, "b", "d"},
		{"one", socketio.NewRoomSet("x"), []string{"x"}, `["x"]`, "x", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := slices.Collect(tc.set.All()); !slices.Equal(got, tc.list) {
				t.Fatalf("All: %v, want %v", got, tc.list)
			}
			if tc.set.Len() != len(tc.list) || !slices.Equal(tc.set.Slice(), tc.list) {
				t.Fatalf("Len %d, Slice %v", tc.set.Len(), tc.set.Slice())
			}
			if tc.has != "" && !tc.set.Has(tc.has) {
				t.Fatalf("Has(%q) false", tc.has)
			}
			if tc.set.Has(tc.hasnt) {
				t.Fatalf("Has(%q) true", tc.hasnt)
			}
			b, err := json.Marshal(tc.set)
			if err != nil || string(b) != tc.json {
				t.Fatalf("JSON %s, %v; want %s", b, err, tc.json)
			}
			var back socketio.RoomSet
			if err := json.Unmarshal(b, &back); err != nil || !slices.Equal(back.Slice(), tc.set.Slice()) {
				t.Fatalf("JSON round trip: %v, %v", back, err)
			}
		})
	}
	// Slice is a copy: changing it leaves the set alone.
	s := socketio.NewRoomSet("a", "b")
	l := s.Slice()
	l[0] = "z"
	if !s.Has("a") || s.Has("z") {
		t.Fatal("Slice shares the set's storage")
	}
}
