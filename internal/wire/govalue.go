package wire

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// FromGo converts a Go value (socket.data, handshake auth) to the tree the
// way encoding/json would, except that a []byte stays bytes: a Buffer in
// msgpack and {"type":"Buffer","data":[...]} in JSON, as a Node server
// writes a Buffer, instead of encoding/json's base64 string. Values that
// implement json.Marshaler or encoding.TextMarshaler are converted through
// them.
func FromGo(v any) (any, error) {
	return fromGo(reflect.ValueOf(v), 0)
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	rawType       = reflect.TypeFor[json.RawMessage]()
)

func fromGo(v reflect.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	if !v.IsValid() {
		return nil, nil
	}
	t := v.Type()
	switch {
	case t == rawType:
		return DecodeJSON(v.Bytes(), nil)
	case t.Implements(jsonMarshaler) && (v.Kind() != reflect.Pointer || !v.IsNil()):
		b, err := v.Interface().(json.Marshaler).MarshalJSON()
		if err != nil {
			return nil, err
		}
		return DecodeJSON(b, nil)
	case t.Implements(textMarshaler) && (v.Kind() != reflect.Pointer || !v.IsNil()):
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		return string(b), err
	}
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u > math.MaxInt64 {
			return u, nil
		}
		return int64(v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f), nil
		}
		return f, nil
	case reflect.String:
		return v.String(), nil
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		return fromGo(v.Elem(), depth+1)
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return slices.Clone(v.Bytes()), nil
		}
		return fromList(v, depth)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			reflect.Copy(reflect.ValueOf(b), v)
			return b, nil
		}
		return fromList(v, depth)
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		o := &Object{}
		keys := make([]string, 0, v.Len())
		vals := map[string]reflect.Value{}
		for it := v.MapRange(); it.Next(); {
			k, err := mapKey(it.Key())
			if err != nil {
				return nil, err
			}
			keys = append(keys, k)
			vals[k] = it.Value()
		}
		slices.Sort(keys) // encoding/json's order
		for _, k := range keys {
			e, err := fromGo(vals[k], depth+1)
			if err != nil {
				return nil, err
			}
			o.Set(k, e)
		}
		return o, nil
	case reflect.Struct:
		o := &Object{}
		if err := fromStruct(o, v, depth); err != nil {
			return nil, err
		}
		return o, nil
	}
	return nil, fmt.Errorf("wire: cannot convert %s", t)
}

func fromList(v reflect.Value, depth int) (any, error) {
	a := make([]any, v.Len())
	for i := range a {
		e, err := fromGo(v.Index(i), depth+1)
		if err != nil {
			return nil, err
		}
		a[i] = e
	}
	return a, nil
}

func mapKey(k reflect.Value) (string, error) {
	if k.Kind() == reflect.String {
		return k.String(), nil
	}
	if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
		b, err := tm.MarshalText()
		return string(b), err
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprint(k.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fmt.Sprint(k.Uint()), nil
	}
	return "", fmt.Errorf("wire: unsupported map key type %s", k.Type())
}

// fromStruct adds the exported fields of a struct as encoding/json names
// them (the json tag's name, omitempty, "-"; embedded structs without a
// name are flattened).
func fromStruct(o *Object, v reflect.Value, depth int) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				ft, fv = ft.Elem(), fv.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if err := fromStruct(o, fv, depth+1); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(","+opts+",", ",omitempty,") && isEmpty(fv) {
			continue
		}
		e, err := fromGo(fv, depth+1)
		if err != nil {
			return err
		}
		if strings.Contains(","+opts+",", ",string,") {
			e = JSString(e)
		}
		o.Set(name, e)
	}
	return nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// ToGo converts a tree value to the Go value encoding/json would decode
// into an any (map[string]any, []any, float64, string, bool, nil), except
// that a Buffer stays []byte, so that a Go value with a []byte survives a
// trip to another server and back (see DataAs in the root package), and a
// Node Buffer reads as bytes. A JSON Buffer object
// {"type":"Buffer","data":[...]} is read as bytes too.
func ToGo(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case time.Time:
		return jsDate(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = ToGo(e)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out
	case *Object:
		if x == nil {
			return nil
		}
		if b, ok := jsonBuffer(x); ok {
			return b
		}
		m := make(map[string]any, len(x.Keys))
		for i, k := range x.Keys {
			m[k] = ToGo(x.Vals[i])
		}
		return m
	}
	return v
}

// jsonBuffer reads {"type":"Buffer","data":[bytes...]}.
func jsonBuffer(o *Object) ([]byte, bool) {
	if len(o.Keys) != 2 {
		return nil, false
	}
	if t, _ := o.Get("type"); t != "Buffer" {
		return nil, false
	}
	d, _ := o.Get("data")
	arr, ok := d.([]any)
	if !ok {
		return nil, false
	}
	b := make([]byte, len(arr))
	for i, e := range arr {
		n, ok := e.(int64)
		if !ok || n < 0 || n > 255 {
			return nil, false
		}
		b[i] = byte(n)
	}
	return b, true
}
