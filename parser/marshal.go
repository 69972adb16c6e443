package parser

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Marshal encodes v as compact JSON like encoding/json (without HTML
// escaping, as JavaScript's JSON.stringify), except that every non-nil byte
// slice found in v is taken out as a binary attachment and replaced by the
// placeholder {"_placeholder":true,"num":N}, N counting from 0 in document
// (depth-first) order. Byte slices are found inside maps, slices, arrays,
// pointers, interfaces and struct fields (following encoding/json's field
// rules: tags, omitempty, omitzero, embedding).
//
// A value whose type implements json.Marshaler or encoding.TextMarshaler is
// encoded by its own method, so byte slices inside it are not extracted
// (json.RawMessage is written as is). A nil []byte is written as null.
// The attachments share memory with v: do not modify them until the packet
// is sent.
func Marshal(v any) (data json.RawMessage, attachments [][]byte, err error) {
	m := newMarshaler()
	if err := m.value(reflect.ValueOf(v), 0); err != nil {
		return nil, nil, err
	}
	return m.buf.Bytes(), m.atts, nil
}

// MarshalArgs encodes args as a JSON array with Marshal: the payload of an
// EVENT (after the name) or of an ACK.
func MarshalArgs(args ...any) (data json.RawMessage, attachments [][]byte, err error) {
	if b, ok := marshalScalars(nil, args); ok {
		return b, nil, nil
	}
	if args == nil {
		args = []any{}
	}
	return Marshal(args)
}

// NewEvent returns an EVENT packet for namespace nsp carrying the event name
// and args, encoded with Marshal: if args contain byte slices, the packet is
// a BinaryEvent with attachments. Set an ack id with SetID. Reserved names
// (see IsReservedEvent) are refused.
func NewEvent(nsp, name string, args ...any) (*Packet, error) {
	if IsReservedEvent(name) {
		return nil, invalidf("reserved event name %q", name)
	}
	if b, ok := marshalScalars(&name, args); ok {
		return newPacket(Event, nsp, b, nil), nil
	}
	data, atts, err := Marshal(append([]any{name}, args...))
	if err != nil {
		return nil, err
	}
	return newPacket(Event, nsp, data, atts), nil
}

// NewAck returns an ACK packet for namespace nsp answering the ack id with
// args, encoded with Marshal (a BinaryAck if args contain byte slices).
func NewAck(nsp string, id uint64, args ...any) (*Packet, error) {
	data, atts, err := MarshalArgs(args...)
	if err != nil {
		return nil, err
	}
	p := newPacket(Ack, nsp, data, atts)
	p.SetID(id)
	return p, nil
}

func newPacket(t PacketType, nsp string, data json.RawMessage, atts [][]byte) *Packet {
	if len(atts) > 0 {
		t += BinaryEvent - Event // Event -> BinaryEvent, Ack -> BinaryAck
	}
	return &Packet{Type: t, Namespace: nsp, Data: data, Attachments: atts}
}

// RawArray joins already-marshalled JSON values into a JSON array, for
// example the arguments of an ACK. Each element must be valid JSON; it is
// copied without reformatting.
func RawArray(elems ...json.RawMessage) (json.RawMessage, error) {
	n := 2
	for _, e := range elems {
		n += len(e) + 1
	}
	out := make([]byte, 1, n)
	out[0] = '['
	for i, e := range elems {
		if !json.Valid(e) {
			return nil, fmt.Errorf("parser: element %d is not valid JSON", i)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, bytes.TrimSpace(e)...)
	}
	return append(out, ']'), nil
}

// EventData returns the payload of an EVENT named name whose arguments are
// already-marshalled JSON values: ["name",args...]. Reserved names are
// refused.
func EventData(name string, args ...json.RawMessage) (json.RawMessage, error) {
	if IsReservedEvent(name) {
		return nil, invalidf("reserved event name %q", name)
	}
	m := newMarshaler()
	if err := m.delegate(reflect.ValueOf(name)); err != nil {
		return nil, err
	}
	return RawArray(append([]json.RawMessage{m.buf.Bytes()}, args...)...)
}

// marshaler writes JSON, delegating to encoding/json every value whose type
// cannot hold a byte slice and walking the others itself.
type marshaler struct {
	buf  bytes.Buffer
	enc  *json.Encoder
	atts [][]byte
}

func newMarshaler() *marshaler {
	m := &marshaler{}
	m.enc = json.NewEncoder(&m.buf)
	m.enc.SetEscapeHTML(false)
	return m
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

var errTooDeep = errors.New("parser: value too deeply nested (or cyclic)")

// delegate encodes v with encoding/json. An addressable v is passed by
// pointer so that pointer-receiver MarshalJSON methods apply, as they would
// inside json.Marshal.
func (m *marshaler) delegate(v reflect.Value) error {
	if !v.CanInterface() {
		return fmt.Errorf("parser: cannot encode unexported value of type %s", v.Type())
	}
	x := v.Interface()
	if v.CanAddr() {
		x = v.Addr().Interface()
	}
	if err := m.enc.Encode(x); err != nil {
		return err
	}
	m.buf.Truncate(m.buf.Len() - 1) // Encode's newline
	return nil
}

func (m *marshaler) value(v reflect.Value, depth int) error {
	if !v.IsValid() {
		m.buf.WriteString("null")
		return nil
	}
	t := v.Type()
	if !mayHoldBinary(t) {
		return m.delegate(v)
	}
	if depth > maxDepth {
		return errTooDeep
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			m.buf.WriteString("null")
			return nil
		}
		return m.value(v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			m.buf.WriteString("null")
			return nil
		}
		if isByteSlice(t) {
			m.buf.WriteString(`{"_placeholder":true,"num":`)
			m.buf.WriteString(strconv.Itoa(len(m.atts)))
			m.buf.WriteByte('}')
			m.atts = append(m.atts, v.Bytes())
			return nil
		}
		return m.array(v, depth)
	case reflect.Array:
		return m.array(v, depth)
	case reflect.Map:
		if v.IsNil() {
			m.buf.WriteString("null")
			return nil
		}
		return m.object(v, depth)
	case reflect.Struct:
		return m.structValue(v, depth)
	}
	return m.delegate(v)
}

func (m *marshaler) array(v reflect.Value, depth int) error {
	m.buf.WriteByte('[')
	for i := range v.Len() {
		if i > 0 {
			m.buf.WriteByte(',')
		}
		if err := m.value(v.Index(i), depth+1); err != nil {
			return err
		}
	}
	m.buf.WriteByte(']')
	return nil
}

// object writes a map with its keys sorted, as encoding/json does.
func (m *marshaler) object(v reflect.Value, depth int) error {
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k, err := mapKey(it.Key())
		if err != nil {
			return err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	m.buf.WriteByte('{')
	for i, e := range entries {
		if i > 0 {
			m.buf.WriteByte(',')
		}
		if err := m.delegate(reflect.ValueOf(e.key)); err != nil {
			return err
		}
		m.buf.WriteByte(':')
		if err := m.value(e.val, depth+1); err != nil {
			return err
		}
	}
	m.buf.WriteByte('}')
	return nil
}

// mapKey returns the JSON object key for a map key, like encoding/json.
func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		if k.Kind() == reflect.Pointer && k.IsNil() {
			return "", nil
		}
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("parser: unsupported map key type %s", k.Type())
}

func (m *marshaler) structValue(v reflect.Value, depth int) error {
	m.buf.WriteByte('{')
	first := true
	for _, f := range cachedFields(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok || (f.omitEmpty && isEmptyValue(fv)) || (f.omitZero && isZeroValue(fv)) {
			continue
		}
		if !first {
			m.buf.WriteByte(',')
		}
		first = false
		m.buf.WriteString(f.key)
		var err error
		if f.quoted {
			err = m.quoted(fv)
		} else {
			err = m.value(fv, depth+1)
		}
		if err != nil {
			return err
		}
	}
	m.buf.WriteByte('}')
	return nil
}

// quoted writes a scalar field tagged ",string": its JSON text as a string.
func (m *marshaler) quoted(v reflect.Value) error {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			m.buf.WriteString("null")
			return nil
		}
		v = v.Elem()
	}
	inner := newMarshaler()
	if err := inner.delegate(v); err != nil {
		return err
	}
	return m.delegate(reflect.ValueOf(inner.buf.String()))
}

// fieldByIndex is reflect.Value.FieldByIndex that reports false instead of
// panicking on a nil embedded pointer.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZeroValue implements ",omitzero": an IsZero() bool method if the type
// has one, else the zero value.
func isZeroValue(v reflect.Value) bool {
	type zeroer interface{ IsZero() bool }
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return true
	}
	if !v.CanInterface() {
		return v.IsZero()
	}
	if z, ok := v.Interface().(zeroer); ok {
		return z.IsZero()
	}
	if reflect.PointerTo(v.Type()).Implements(reflect.TypeFor[zeroer]()) {
		if !v.CanAddr() {
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(zeroer).IsZero()
	}
	return v.IsZero()
}

// isByteSlice reports whether encoding/json would write values of the slice
// type t as base64: the values this package sends as attachments.
func isByteSlice(t reflect.Type) bool {
	if t.Kind() != reflect.Slice || t.Elem().Kind() != reflect.Uint8 {
		return false
	}
	p := reflect.PointerTo(t.Elem())
	return !p.Implements(jsonMarshalerType) && !p.Implements(textMarshalerType)
}

func hasMarshaler(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || t.Implements(textMarshalerType) ||
		p.Implements(jsonMarshalerType) || p.Implements(textMarshalerType)
}

var holdsBinary sync.Map // reflect.Type -> bool

// mayHoldBinary reports whether a value of type t can contain a byte slice
// that Marshal must extract. Values of other types go to encoding/json whole.
func mayHoldBinary(t reflect.Type) bool {
	if r, ok := holdsBinary.Load(t); ok {
		return r.(bool)
	}
	r := computeHoldsBinary(t, map[reflect.Type]bool{})
	holdsBinary.Store(t, r)
	return r
}

func computeHoldsBinary(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if r, ok := holdsBinary.Load(t); ok {
		return r.(bool)
	}
	if visiting[t] {
		return true // recursive type: assume it may (walking is always correct)
	}
	if hasMarshaler(t) {
		return false
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Slice:
		return isByteSlice(t) || computeHoldsBinary(t.Elem(), visiting)
	case reflect.Pointer, reflect.Array, reflect.Map:
		return computeHoldsBinary(t.Elem(), visiting)
	case reflect.Struct:
		for _, f := range cachedFields(t) {
			if computeHoldsBinary(f.typ, visiting) {
				return true
			}
		}
	}
	return false
}

// AppendArg returns the JSON array data with v (which must hold no binary)
// appended as its last element. Connection state recovery uses it to add
// an event's offset.
func AppendArg(data json.RawMessage, v any) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) < 2 || trimmed[0] != '[' || trimmed[len(trimmed)-1] != ']' {
		return nil, invalidf("payload is not a JSON array")
	}
	elem, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(trimmed[1 : len(trimmed)-1])
	out := make([]byte, 0, len(trimmed)+len(elem)+1)
	out = append(out, trimmed[:len(trimmed)-1]...)
	if len(body) > 0 {
		out = append(out, ',')
	}
	out = append(out, elem...)
	return append(out, ']'), nil
}
