package parser

import (
	"encoding/json"
	"fmt"
)

// Args are the arguments of an event or of an acknowledgement, still
// encoded: JSON values with binary placeholders, and the attachments the
// placeholders point to. Decode them into typed Go values with Bind or
// Decode; binary attachments land in []byte fields wherever they are
// nested. The server (socketio.Args) and the client (client.Args) share
// this type.
type Args struct {
	raw  []json.RawMessage
	atts [][]byte
}

// NewArgs returns Args over raw JSON values and their attachments.
func NewArgs(raw []json.RawMessage, attachments [][]byte) Args {
	return Args{raw: raw, atts: attachments}
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.raw) }

// Raw returns argument i as JSON, binary values still as placeholders.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	return a.raw[i]
}

// Attachments returns the binary attachments the placeholders refer to.
func (a Args) Attachments() [][]byte { return a.atts }

// Decode decodes argument i into dst (a pointer), as encoding/json would,
// with binary attachments restored. A missing argument (JavaScript's
// undefined) leaves dst unchanged.
func (a Args) Decode(i int, dst any) error {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	if err := Unmarshal(a.raw[i], a.atts, dst); err != nil {
		return fmt.Errorf("argument %d: %w", i, err)
	}
	return nil
}

// Bind decodes the arguments, in order, into the pointers dst. Missing
// arguments leave their destination unchanged; extra arguments are ignored.
func (a Args) Bind(dst ...any) error {
	for i, d := range dst {
		if err := a.Decode(i, d); err != nil {
			return err
		}
	}
	return nil
}

// Values returns the arguments as generic values (map[string]any, []any,
// string, float64, bool, nil, and []byte for binary).
func (a Args) Values() ([]any, error) {
	out := make([]any, len(a.raw))
	for i, r := range a.raw {
		v, err := Reconstruct(r, a.atts)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}
