package socketio

import (
	"encoding/json"
	"fmt"
	"iter"
	"slices"
)

// RoomSet is a set of room names: the rooms of a socket (Socket.Rooms) or
// of a fetched socket (RemoteSocket.Rooms). It is a snapshot, taken when
// it was returned, and safe to share. Its zero value is the empty set; its
// JSON form is the array of its names, sorted.
type RoomSet struct {
	names []string // sorted, without duplicates
}

// newRoomSet returns the set of names, taking the slice over.
func newRoomSet(names []string) RoomSet {
	if !slices.IsSorted(names) {
		slices.Sort(names)
	}
	return RoomSet{names: slices.Compact(names)}
}

// NewRoomSet returns the set of the rooms given (duplicates count once).
func NewRoomSet(rooms ...string) RoomSet { return newRoomSet(slices.Clone(rooms)) }

// Has reports whether room is in the set, in O(log n).
func (r RoomSet) Has(room string) bool {
	_, ok := slices.BinarySearch(r.names, room)
	return ok
}

// Len returns the number of rooms.
func (r RoomSet) Len() int { return len(r.names) }

// All iterates over the rooms in sorted order.
//
//	for room := range s.Rooms().All() { ... }
func (r RoomSet) All() iter.Seq[string] { return slices.Values(r.names) }

// Slice returns the rooms, sorted, in a new slice.
func (r RoomSet) Slice() []string { return slices.Clone(r.names) }

// String returns the rooms as fmt prints a slice, e.g. "[lobby x8Ka...]".
func (r RoomSet) String() string { return fmt.Sprint(r.names) }

// MarshalJSON returns the JSON array of the rooms, sorted.
func (r RoomSet) MarshalJSON() ([]byte, error) {
	if r.names == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(r.names)
}

// UnmarshalJSON reads a JSON array of room names.
func (r *RoomSet) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return err
	}
	*r = newRoomSet(names)
	return nil
}
