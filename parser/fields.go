package parser

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// structField is one JSON member of a struct type, resolved with
// encoding/json's rules.
type structField struct {
	name      string
	key       string // `"name":`, ready to write
	index     []int  // path through embedded structs
	typ       reflect.Type
	tagged    bool
	omitEmpty bool
	omitZero  bool
	quoted    bool // ",string"
}

var fieldCache sync.Map // reflect.Type -> []structField

func cachedFields(t reflect.Type) []structField {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]structField)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.([]structField)
}

// typeFields lists the JSON members of struct type t in encoding order:
// exported fields and the promoted fields of embedded structs, where a
// shallower field hides deeper ones of the same name, a tagged field wins
// over untagged ones at the same depth, and remaining ties drop the name.
func typeFields(t reflect.Type) []structField {
	type level struct {
		typ   reflect.Type
		index []int
	}
	var all []structField
	seen := map[reflect.Type]bool{}
	next := []level{{typ: t}}
	for len(next) > 0 {
		current := next
		next = nil
		// Types embedded more than once at this depth annihilate their
		// fields; count them to reproduce that.
		times := map[reflect.Type]int{}
		for _, l := range current {
			times[l.typ]++
		}
		for _, l := range current {
			if seen[l.typ] {
				continue
			}
			seen[l.typ] = true
			for i := range l.typ.NumField() {
				sf := l.typ.Field(i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if sf.Anonymous {
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(l.index), i)
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, level{typ: ft, index: index})
					continue
				}
				f := structField{
					name:      name,
					index:     index,
					typ:       sf.Type,
					tagged:    name != "",
					omitEmpty: hasOption(opts, "omitempty"),
					omitZero:  hasOption(opts, "omitzero"),
				}
				if f.name == "" {
					f.name = sf.Name
				}
				if hasOption(opts, "string") {
					switch ft.Kind() {
					case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
						reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
						reflect.Float32, reflect.Float64, reflect.String:
						f.quoted = true
					}
				}
				m := newMarshaler()
				_ = m.delegate(reflect.ValueOf(f.name)) // a string always encodes
				f.key = m.buf.String() + ":"
				all = append(all, f)
				if times[l.typ] > 1 {
					all = append(all, f) // a duplicate, so that the name is dropped below
				}
			}
		}
	}

	// Keep the dominant field of each name.
	slices.SortStableFunc(all, func(a, b structField) int {
		return cmp.Or(
			strings.Compare(a.name, b.name),
			cmp.Compare(len(a.index), len(b.index)),
			boolOrder(a.tagged, b.tagged),
			slices.Compare(a.index, b.index),
		)
	})
	out := all[:0]
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		group := all[i:j]
		if len(group) == 1 || len(group[0].index) < len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b structField) int { return slices.Compare(a.index, b.index) })
	return out
}

// boolOrder puts true first.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func hasOption(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// validTagName reports whether encoding/json accepts name as a member name
// from a struct tag.
func validTagName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
