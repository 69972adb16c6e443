package parser

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
)

// A small JSON scanner over bytes, used to split arrays and find placeholder
// objects without building a tree. It checks the JSON grammar as it goes and
// never panics on malformed input.

// maxDepth bounds nesting, like encoding/json's scanner.
const maxDepth = 10000

var errSyntax = errors.New("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// scanString expects b[i] == '"' and returns the index after the closing
// quote and whether the string contains escapes.
func scanString(b []byte, i int) (end int, escaped bool, err error) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, errSyntax
	}
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, nil
		case c < 0x20:
			return 0, false, errSyntax
		case c == '\\':
			escaped = true
			i++
			if i >= len(b) {
				return 0, false, errSyntax
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return 0, false, errSyntax
				}
				for _, h := range b[i+1 : i+5] {
					if !isDigit(h) && (h|0x20 < 'a' || h|0x20 > 'f') {
						return 0, false, errSyntax
					}
				}
				i += 4
			default:
				return 0, false, errSyntax
			}
		}
	}
	return 0, false, errSyntax
}

// stringValue returns the decoded value of the JSON string token tok.
func stringValue(tok []byte, escaped bool) (string, error) {
	if !escaped {
		return string(tok[1 : len(tok)-1]), nil
	}
	var s string
	err := json.Unmarshal(tok, &s)
	return s, err
}

// scanNumber returns the index after the JSON number starting at b[i].
func scanNumber(b []byte, i int) (int, error) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return 0, errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return 0, errSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return 0, errSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, nil
}

func scanLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, errSyntax
	}
	return i + len(lit), nil
}

// skipValue returns the index after the JSON value that starts at b[i]
// (leading spaces are skipped). Nested values are checked too.
func skipValue(b []byte, i, depth int) (int, error) {
	i = skipSpace(b, i)
	if i >= len(b) {
		return 0, errSyntax
	}
	switch c := b[i]; c {
	case '"':
		end, _, err := scanString(b, i)
		return end, err
	case '{', '[':
		if depth >= maxDepth {
			return 0, errSyntax
		}
		return scanContainer(b, i, depth, nil)
	case 't':
		return scanLiteral(b, i, "true")
	case 'f':
		return scanLiteral(b, i, "false")
	case 'n':
		return scanLiteral(b, i, "null")
	default:
		return scanNumber(b, i)
	}
}

// scanContainer scans the object or array at b[i]. For every member it calls
// member (if not nil) with the key token (nil for array elements) and the
// index of the value; member must return the index after the value. When
// member is nil, values are skipped.
func scanContainer(b []byte, i, depth int, member func(key []byte, escaped bool, at int) (int, error)) (int, error) {
	open := b[i]
	closing := byte(']')
	if open == '{' {
		closing = '}'
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == closing {
		return i + 1, nil
	}
	for {
		var key []byte
		var escaped bool
		if open == '{' {
			end, esc, err := scanString(b, i)
			if err != nil {
				return 0, err
			}
			key, escaped = b[i:end], esc
			i = skipSpace(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, errSyntax
			}
			i++
		}
		var err error
		if member != nil {
			i, err = member(key, escaped, skipSpace(b, i))
		} else {
			i, err = skipValue(b, i, depth+1)
		}
		if err != nil {
			return 0, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case closing:
			return i + 1, nil
		default:
			return 0, errSyntax
		}
	}
}

// splitArray returns the elements of the JSON array data, each without
// surrounding spaces. The elements share memory with data.
func splitArray(data []byte) ([]json.RawMessage, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, errors.New("not a JSON array")
	}
	// An event is its name and an argument or two: one allocation.
	elems := make([]json.RawMessage, 0, 4)
	end, err := scanContainer(data, i, 0, func(_ []byte, _ bool, at int) (int, error) {
		end, err := skipValue(data, at, 1)
		if err == nil {
			elems = append(elems, json.RawMessage(data[at:end:end]))
		}
		return end, err
	})
	if err != nil {
		return nil, err
	}
	if skipSpace(data, end) != len(data) {
		return nil, errSyntax
	}
	return elems, nil
}

// placeholder is the position of a placeholder object in a JSON text and the
// attachment it stands for; num is -1 when its "num" is not a valid index.
type placeholder struct {
	start, end int
	num        int
}

// findPlaceholders returns, in document order, the placeholder objects of
// data: objects whose "_placeholder" member is true, as socket.io-parser
// recognizes them (other members are ignored; a placeholder's own members are
// not searched). It fails if data is not valid JSON or if a placeholder's
// "num" is not an integer in [0, count).
func findPlaceholders(data []byte, count int) ([]placeholder, error) {
	f := finder{data: data, count: count}
	end, err := f.value(0, 0)
	if err != nil {
		return nil, err
	}
	if skipSpace(data, end) != len(data) {
		return nil, errSyntax
	}
	f.removeDropped()
	for _, p := range f.found {
		if p.num < 0 {
			return nil, invalidf("placeholder at offset %d has no valid attachment number (have %d attachments)", p.start, count)
		}
	}
	return f.found, nil
}

type finder struct {
	data    []byte
	count   int
	found   []placeholder
	dropped [][2]int // ranges of found overridden by a repeated key
}

func (f *finder) value(i, depth int) (int, error) {
	i = skipSpace(f.data, i)
	if i >= len(f.data) {
		return 0, errSyntax
	}
	switch f.data[i] {
	case '[':
		if depth >= maxDepth {
			return 0, errSyntax
		}
		return scanContainer(f.data, i, depth, func(_ []byte, _ bool, at int) (int, error) {
			return f.value(at, depth+1)
		})
	case '{':
		if depth >= maxDepth {
			return 0, errSyntax
		}
		return f.object(i, depth)
	default:
		return skipValue(f.data, i, depth)
	}
}

// object scans the object at data[start]. Placeholders found inside it are
// dropped again if the object itself turns out to be a placeholder, which
// keeps the scan linear. As in JSON.parse, a repeated key overrides the
// earlier member, so the placeholders of the earlier value are dropped: the
// range is recorded in f.dropped and removed at the end of the scan, which
// keeps the indices of f.found stable meanwhile and the scan linear.
func (f *finder) object(start, depth int) (int, error) {
	mark := len(f.found)
	isPlaceholder := false
	var num []byte
	var holders map[string][2]int // members whose value holds placeholders: f.found[lo:hi]
	end, err := scanContainer(f.data, start, depth, func(key []byte, escaped bool, at int) (int, error) {
		lo := len(f.found)
		end, err := f.value(at, depth+1)
		if err != nil {
			return 0, err
		}
		name := key[1 : len(key)-1]
		if escaped {
			s, err := stringValue(key, true)
			if err != nil {
				return 0, errSyntax
			}
			name = []byte(s)
		}
		switch string(name) {
		case "_placeholder":
			isPlaceholder = string(f.data[at:end]) == "true"
		case "num":
			num = f.data[at:end]
		}
		if r, ok := holders[string(name)]; ok {
			f.dropped = append(f.dropped, r)
			delete(holders, string(name))
		}
		if len(f.found) > lo {
			if holders == nil {
				holders = map[string][2]int{}
			}
			holders[string(name)] = [2]int{lo, len(f.found)}
		}
		return end, nil
	})
	if err != nil {
		return 0, err
	}
	if isPlaceholder {
		f.found = append(f.found[:mark], placeholder{start: start, end: end, num: attachmentIndex(num, f.count)})
		// Forget the dropped ranges recorded inside this object: they all
		// start at or after mark, and those indices are now reused.
		for len(f.dropped) > 0 && f.dropped[len(f.dropped)-1][0] >= mark {
			f.dropped = f.dropped[:len(f.dropped)-1]
		}
	}
	return end, nil
}

// removeDropped deletes the placeholders of the f.dropped ranges from
// f.found.
func (f *finder) removeDropped() {
	if len(f.dropped) == 0 {
		return
	}
	slices.SortFunc(f.dropped, func(a, b [2]int) int { return a[0] - b[0] })
	kept := f.found[:0]
	r, covered := 0, 0 // covered: end of the dropped ranges starting at or before i
	for i, p := range f.found {
		for r < len(f.dropped) && f.dropped[r][0] <= i {
			covered = max(covered, f.dropped[r][1])
			r++
		}
		if i >= covered {
			kept = append(kept, p)
		}
	}
	f.found = kept
}

// attachmentIndex returns the integer value of the JSON number tok if it is
// in [0, count), else -1.
func attachmentIndex(tok []byte, count int) int {
	if len(tok) == 0 || (tok[0] != '-' && !isDigit(tok[0])) {
		return -1
	}
	n, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || n != math.Trunc(n) || n < 0 || n >= float64(count) {
		return -1
	}
	return int(n)
}
