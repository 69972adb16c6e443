package ws

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// Close status codes used by this package (RFC 6455, section 7.4.1).
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseNoStatus      = 1005
	CloseInvalidData   = 1007
	CloseTooBig        = 1009
)

// CloseError is the error that ended a connection read by this package's own
// reader: the peer's close frame, or the protocol violation for which the
// server closed the connection.
type CloseError struct {
	Code   uint16
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("ws: close %d %s", e.Code, e.Reason)
}

// maxFrameLen bounds a frame whatever the configured limit, so that sizes
// always fit an int.
const maxFrameLen = 1 << 31

// errIncomplete means the buffer ends inside a frame.
var errIncomplete = errors.New("ws: incomplete frame")

func protocolError(format string, args ...any) error {
	return &CloseError{Code: CloseProtocolError, Reason: fmt.Sprintf(format, args...)}
}

// frame is one client frame parsed in place: payload points into the
// buffer it was parsed from and is already unmasked.
type frame struct {
	fin     bool
	opcode  byte
	payload []byte
}

// parseFrame parses the client frame at the start of b. It returns the
// frame and the number of bytes it took, errIncomplete with need (the size
// of the whole frame once its header is known, else 0) when b ends inside
// it, or a *CloseError for a frame that breaks the protocol or is larger than
// maxPayload (0: no limit). The payload is unmasked in place.
func parseFrame(b []byte, maxPayload int) (f frame, n, need int, err error) {
	if len(b) < 2 {
		return f, 0, 0, errIncomplete
	}
	b0, b1 := b[0], b[1]
	if b0&0x70 != 0 {
		return f, 0, 0, protocolError("reserved bits set without an extension")
	}
	f.fin, f.opcode = b0&0x80 != 0, b0&0x0f
	switch f.opcode {
	case opContinuation, opText, opBinary:
	case opClose, opPing, opPong:
		if !f.fin {
			return f, 0, 0, protocolError("fragmented control frame")
		}
	default:
		return f, 0, 0, protocolError("unknown opcode %d", f.opcode)
	}
	if b1&0x80 == 0 {
		return f, 0, 0, protocolError("unmasked client frame")
	}
	hdr := 2
	length := uint64(b1 & 0x7f)
	switch length {
	case 126:
		hdr += 2
		if len(b) < hdr {
			return f, 0, 0, errIncomplete
		}
		length = uint64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		hdr += 8
		if len(b) < hdr {
			return f, 0, 0, errIncomplete
		}
		length = binary.BigEndian.Uint64(b[2:10])
		if length>>63 != 0 {
			return f, 0, 0, protocolError("frame length with the top bit set")
		}
	}
	if f.opcode >= opClose && length > 125 {
		return f, 0, 0, protocolError("control frame over 125 bytes")
	}
	if (maxPayload > 0 && length > uint64(maxPayload)) || length > maxFrameLen {
		return f, 0, 0, &CloseError{Code: CloseTooBig, Reason: "message too big"}
	}
	hdr += 4 // masking key
	total := uint64(hdr) + length
	if uint64(len(b)) < total {
		return f, 0, int(total), errIncomplete
	}
	key := b[hdr-4 : hdr]
	f.payload = b[hdr:total]
	mask(f.payload, key)
	return f, int(total), 0, nil
}

// mask XORs p with the masking key, in place.
func mask(p, key []byte) {
	k := binary.LittleEndian.Uint32(key)
	k64 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		v := binary.LittleEndian.Uint64(p[i:])
		binary.LittleEndian.PutUint64(p[i:], v^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// closePayload validates a close frame's payload and returns its code
// (CloseNoStatus for an empty one).
func closePayload(p []byte) (uint16, string, error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", nil
	case len(p) == 1:
		return 0, "", protocolError("close frame with a 1-byte payload")
	}
	code := binary.BigEndian.Uint16(p)
	if !validCloseCode(code) {
		return 0, "", protocolError("invalid close code %d", code)
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", &CloseError{Code: CloseInvalidData, Reason: "close reason is not UTF-8"}
	}
	return code, string(p[2:]), nil
}

// validCloseCode reports whether a peer may send code (RFC 6455 7.4 and the
// IANA registry).
func validCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// appendControl appends an unmasked server control frame.
func appendControl(dst []byte, opcode byte, payload []byte) []byte {
	dst = append(dst, 0x80|opcode, byte(len(payload)))
	return append(dst, payload...)
}

// appendClose appends a close frame with code (none for CloseNoStatus).
func appendClose(dst []byte, code uint16) []byte {
	if code == CloseNoStatus || code == 0 {
		return appendControl(dst, opClose, nil)
	}
	var p [2]byte
	binary.BigEndian.PutUint16(p[:], code)
	return appendControl(dst, opClose, p[:])
}
