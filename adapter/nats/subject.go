package nats

import (
	"errors"
	"fmt"
	"strings"
)

// Token encodes a namespace name (or any string) into one NATS subject
// token, reversibly: ASCII letters, digits and '-' stay as they are, every
// other byte becomes '_' and two upper-case hex digits ("/" is "_2F",
// "/chat" is "_2Fchat", "" is "_"). The result is also a valid JetStream
// KV key.
func Token(s string) string {
	if s == "" {
		return "_"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	return b.String()
}

// ParseToken is the inverse of Token.
func ParseToken(tok string) (string, error) {
	if tok == "_" {
		return "", nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '_' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(tok) {
			return "", errors.New("nats adapter: truncated escape in token")
		}
		var v byte
		for _, h := range tok[i+1 : i+3] {
			v <<= 4
			switch {
			case h >= '0' && h <= '9':
				v |= byte(h - '0')
			case h >= 'A' && h <= 'F':
				v |= byte(h-'A') + 10
			default:
				return "", fmt.Errorf("nats adapter: bad escape %q in token", tok[i:i+3])
			}
		}
		b.WriteByte(v)
		i += 2
	}
	return b.String(), nil
}

// validPrefix reports whether p is a usable subject prefix: one or more
// dot-separated tokens without wildcards or white space.
func validPrefix(p string) error {
	if p == "" {
		return errors.New("nats adapter: empty subject prefix")
	}
	for _, tok := range strings.Split(p, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("nats adapter: invalid subject prefix %q", p)
		}
	}
	return nil
}

// validName reports whether n is a usable JetStream stream or bucket name.
func validName(what, n string) error {
	if n == "" || strings.ContainsAny(n, ".*> \t\r\n/\\") {
		return fmt.Errorf("nats adapter: invalid %s name %q", what, n)
	}
	return nil
}

// nameFromPrefix derives a stream name from a subject prefix
// ("socket.io" gives "socket_io").
func nameFromPrefix(p string) string {
	return strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_").Replace(p)
}
