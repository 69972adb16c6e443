package parser

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The common event carries a string or a number or two. These helpers write
// and read such values without reflection or encoding/json's state, giving
// byte for byte what encoding/json gives (without HTML escaping, as
// Marshal); FuzzFastJSON checks them against it.

// appendScalar appends the JSON of v when v is nil or of a predeclared
// string, boolean or number type (none has JSON methods) and reports
// whether it did. A NaN or an infinity is not written: encoding/json's
// error is the answer for it.
func appendScalar(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int8:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int16:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int32:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(dst, x, 10), true
	case float64:
		return appendJSONFloat(dst, x, 64)
	case float32:
		return appendJSONFloat(dst, float64(x), 32)
	}
	return dst, false
}

// scalarLen is a guess of the JSON length of v, for sizing a buffer.
func scalarLen(v any) int {
	if s, ok := v.(string); ok {
		return len(s) + 2
	}
	return 24
}

// appendJSONFloat writes f as encoding/json does: the shortest decimal
// that reads back as f, in exponent form below 1e-6 and from 1e21 on, with
// a two-digit negative exponent shortened ("1e-07" is "1e-7").
func appendJSONFloat(dst []byte, f float64, bits int) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		if n := len(dst) - start; n >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst, true
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string the way encoding/json does
// with HTML escaping off: quote, backslash and control characters escaped
// (\b \f \n \r \t short, the others as \u00XX), invalid UTF-8 replaced by
// \ufffd, U+2028 and U+2029 escaped, everything else as it is.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainString returns the value of the JSON string raw when it needs no
// unescaping: quotes around valid UTF-8 with no quote, backslash or
// control character inside. ok is false for anything else, which the
// caller then hands to encoding/json.
func plainString(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	ascii := true
	for _, b := range body {
		if b < 0x20 || b == '"' || b == '\\' {
			return "", false
		}
		if b >= utf8.RuneSelf {
			ascii = false
		}
	}
	if !ascii && !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

// marshalScalars writes the JSON array of head (when not nil) and args if
// all are scalars appendScalar writes; ok is false otherwise.
func marshalScalars(head *string, args []any) (data []byte, ok bool) {
	n := 2 + len(args)
	if head != nil {
		n += len(*head) + 3
	}
	for _, a := range args {
		n += scalarLen(a)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, '[')
	if head != nil {
		buf = appendJSONString(buf, *head)
	}
	for i, a := range args {
		if i > 0 || head != nil {
			buf = append(buf, ',')
		}
		if buf, ok = appendScalar(buf, a); !ok {
			return nil, false
		}
	}
	return append(buf, ']'), true
}
