package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// The msgpack half of the codec, written for the value tree (see tree.go)
// with the choices notepack.io makes, so that what a Go server publishes is
// byte for byte what a Node server would:
//
//   - integers in their smallest form (positive ones as unsigned), floats
//     that hold an integer as that integer, other floats as float64;
//   - strings as str, Buffers ([]byte) as bin;
//   - dates as the timestamp extension (type -1), in its 4, 8 or 12 byte
//     form.
//
// Decoding accepts every msgpack form of these values (float32 included)
// notepack's undefined (fixext 1, type 0), read as nil, and notepack 2's
// dates (fixext 8, type 0). It never
// panics, bounds nesting and refuses a length longer than the input
// before allocating for it.

// EncodeMsgpack writes v as notepack.io would.
func EncodeMsgpack(v any) ([]byte, error) {
	return AppendMsgpack(nil, v)
}

// AppendMsgpack appends the msgpack form of v to b.
func AppendMsgpack(b []byte, v any) ([]byte, error) {
	return appendValue(b, v, 0)
}

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	var err error
	switch x := v.(type) {
	case nil:
		return append(b, 0xc0), nil
	case bool:
		if x {
			return append(b, 0xc3), nil
		}
		return append(b, 0xc2), nil
	case int64:
		return AppendInt(b, x), nil
	case int:
		return AppendInt(b, int64(x)), nil
	case uint64:
		return AppendUint(b, x), nil
	case float64:
		return AppendFloat(b, x), nil
	case string:
		return AppendString(b, x), nil
	case []byte:
		b = AppendBinHeader(b, len(x))
		return append(b, x...), nil
	case time.Time:
		return AppendTime(b, x), nil
	case []any:
		b = AppendArrayHeader(b, len(x))
		for _, e := range x {
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	case []string:
		b = AppendArrayHeader(b, len(x))
		for _, e := range x {
			b = AppendString(b, e)
		}
		return b, nil
	case *Object:
		if x == nil {
			return append(b, 0xc0), nil
		}
		b = AppendMapHeader(b, len(x.Keys))
		for i, k := range x.Keys {
			b = AppendString(b, k)
			if b, err = appendValue(b, x.Vals[i], depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	return nil, fmt.Errorf("wire: cannot encode %T as msgpack", v)
}

// AppendUint appends n in its smallest msgpack form.
func AppendUint(b []byte, n uint64) []byte {
	switch {
	case n <= 0x7f:
		return append(b, byte(n))
	case n <= math.MaxUint8:
		return append(b, 0xcc, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), n)
}

// AppendInt appends n in its smallest msgpack form (unsigned when n >= 0).
func AppendInt(b []byte, n int64) []byte {
	switch {
	case n >= 0:
		return AppendUint(b, uint64(n))
	case n >= -32:
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// AppendFloat appends f: as an integer when it holds one (as JavaScript
// numbers are written), else as a float64.
func AppendFloat(b []byte, f float64) []byte {
	// NaN and the infinities convert to MinInt64, which does not convert
	// back to them: they stay floats.
	if float64(int64(f)) == f {
		return AppendInt(b, int64(f))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
}

// AppendString appends s as a msgpack str.
func AppendString(b []byte, s string) []byte {
	return append(AppendStringHeader(b, len(s)), s...)
}

// AppendStringHeader appends the header of a str of n bytes.
func AppendStringHeader(b []byte, n int) []byte {
	switch {
	case n < 32:
		return append(b, 0xa0|byte(n))
	case n <= math.MaxUint8:
		return append(b, 0xd9, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
}

// AppendBinHeader appends the header of a bin of n bytes.
func AppendBinHeader(b []byte, n int) []byte {
	switch {
	case n <= math.MaxUint8:
		return append(b, 0xc4, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xc5), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xc6), uint32(n))
}

// AppendArrayHeader appends the header of an array of n elements.
func AppendArrayHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x90|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xdc), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdd), uint32(n))
}

// AppendMapHeader appends the header of a map of n pairs.
func AppendMapHeader(b []byte, n int) []byte {
	switch {
	case n < 16:
		return append(b, 0x80|byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, 0xde), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, 0xdf), uint32(n))
}

// AppendTime appends t as the msgpack timestamp extension (type -1).
func AppendTime(b []byte, t time.Time) []byte {
	secs, nsec := uint64(t.Unix()), uint64(t.Nanosecond())
	if secs>>34 == 0 {
		d := nsec<<34 | secs
		if d&0xffffffff00000000 == 0 {
			return binary.BigEndian.AppendUint32(append(b, 0xd6, 0xff), uint32(d))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xd7, 0xff), d)
	}
	b = binary.BigEndian.AppendUint32(append(b, 0xc7, 12, 0xff), uint32(nsec))
	return binary.BigEndian.AppendUint64(b, secs)
}

// DecodeMsgpack reads one msgpack value into the value tree; bytes after it
// are an error.
func DecodeMsgpack(b []byte) (any, error) {
	r := Reader{data: b}
	v, err := r.value(0)
	if err != nil {
		return nil, err
	}
	if r.pos != len(b) {
		return nil, errors.New("wire: trailing bytes after msgpack value")
	}
	return v, nil
}

// Reader reads msgpack values from a byte slice.
type Reader struct {
	data []byte
	pos  int
}

// Remaining is the number of bytes not read yet.
func (r *Reader) Remaining() int { return len(r.data) - r.pos }

// Peek returns the next byte without reading it.
func (r *Reader) Peek() (byte, error) {
	if r.pos >= len(r.data) {
		return 0, io.ErrUnexpectedEOF
	}
	return r.data[r.pos], nil
}

// Take reads n bytes (a view of the input).
func (r *Reader) Take(n int) ([]byte, error) {
	if n < 0 || n > r.Remaining() {
		return nil, io.ErrUnexpectedEOF
	}
	b := r.data[r.pos : r.pos+n]
	r.pos += n
	return b, nil
}

func (r *Reader) uintN(n int) (uint64, error) {
	b, err := r.Take(n)
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// length reads a length field of n bytes and checks that at least
// per*length bytes remain.
func (r *Reader) length(n, per int) (int, error) {
	l, err := r.uintN(n)
	if err != nil {
		return 0, err
	}
	if l > uint64(r.Remaining()/per) {
		return 0, io.ErrUnexpectedEOF
	}
	return int(l), nil
}

func (r *Reader) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	c, err := r.Peek()
	if err != nil {
		return nil, err
	}
	r.pos++
	switch {
	case c <= 0x7f:
		return int64(c), nil
	case c >= 0xe0:
		return int64(int8(c)), nil
	case c&0xf0 == 0x80:
		return r.object(int(c&0x0f), depth)
	case c&0xf0 == 0x90:
		return r.array(int(c&0x0f), depth)
	case c&0xe0 == 0xa0:
		b, err := r.Take(int(c & 0x1f))
		return string(b), err
	}
	switch c {
	case 0xc0:
		return nil, nil
	case 0xc2:
		return false, nil
	case 0xc3:
		return true, nil
	case 0xc4, 0xc5, 0xc6:
		n, err := r.length(1<<(c-0xc4), 1)
		if err != nil {
			return nil, err
		}
		b, _ := r.Take(n)
		return append([]byte{}, b...), nil
	case 0xc7, 0xc8, 0xc9:
		n, err := r.length(1<<(c-0xc7), 1)
		if err != nil {
			return nil, err
		}
		return r.ext(n)
	case 0xca:
		u, err := r.uintN(4)
		return float64(math.Float32frombits(uint32(u))), err
	case 0xcb:
		u, err := r.uintN(8)
		return math.Float64frombits(u), err
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, err := r.uintN(1 << (c - 0xcc))
		if err != nil {
			return nil, err
		}
		if u > math.MaxInt64 {
			return u, nil
		}
		return int64(u), nil
	case 0xd0:
		u, err := r.uintN(1)
		return int64(int8(u)), err
	case 0xd1:
		u, err := r.uintN(2)
		return int64(int16(u)), err
	case 0xd2:
		u, err := r.uintN(4)
		return int64(int32(u)), err
	case 0xd3:
		u, err := r.uintN(8)
		return int64(u), err
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8:
		return r.ext(1 << (c - 0xd4))
	case 0xd9, 0xda, 0xdb:
		n, err := r.length(1<<(c-0xd9), 1)
		if err != nil {
			return nil, err
		}
		b, _ := r.Take(n)
		return string(b), nil
	case 0xdc, 0xdd:
		n, err := r.length(2<<(c-0xdc), 1)
		if err != nil {
			return nil, err
		}
		return r.array(n, depth)
	case 0xde, 0xdf:
		n, err := r.length(2<<(c-0xde), 2)
		if err != nil {
			return nil, err
		}
		return r.object(n, depth)
	}
	return nil, fmt.Errorf("wire: malformed msgpack: byte 0x%02x is not a value", c)
}

func (r *Reader) array(n int, depth int) (any, error) {
	if n > r.Remaining() {
		return nil, io.ErrUnexpectedEOF
	}
	a := make([]any, 0, n)
	for range n {
		e, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		a = append(a, e)
	}
	return a, nil
}

func (r *Reader) object(n int, depth int) (any, error) {
	if 2*n > r.Remaining() {
		return nil, io.ErrUnexpectedEOF
	}
	o := &Object{Keys: make([]string, 0, n), Vals: make([]any, 0, n)}
	for range n {
		k, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		o.Set(JSString(k), v)
	}
	return o, nil
}

// ext reads the type byte and n bytes of an extension: the timestamp (-1)
// becomes a time.Time, notepack's undefined (type 0, one byte) nil.
func (r *Reader) ext(n int) (any, error) {
	tb, err := r.Take(1)
	if err != nil {
		return nil, err
	}
	b, err := r.Take(n)
	if err != nil {
		return nil, err
	}
	switch int8(tb[0]) {
	case -1:
		switch n {
		case 4:
			return time.Unix(int64(binary.BigEndian.Uint32(b)), 0), nil
		case 8:
			d := binary.BigEndian.Uint64(b)
			return time.Unix(int64(d&(1<<34-1)), int64(d>>34)), nil
		case 12:
			return time.Unix(int64(binary.BigEndian.Uint64(b[4:])), int64(binary.BigEndian.Uint32(b[:4]))), nil
		}
	case 0:
		switch n {
		case 1:
			return nil, nil
		case 8:
			// notepack.io 2's Date (milliseconds, high word signed), which
			// notepack.io 3 still reads.
			ms := int64(int32(binary.BigEndian.Uint32(b)))<<32 | int64(binary.BigEndian.Uint32(b[4:]))
			return time.UnixMilli(ms), nil
		}
	}
	return nil, fmt.Errorf("wire: unsupported msgpack extension %d (%d bytes)", int8(tb[0]), n)
}
