// Package msgpack is a Socket.IO parser wire-compatible with npm's
// socket.io-msgpack-parser 3.x (which encodes with notepack.io). It lives in
// its own Go module so that its msgpack dependency
// (github.com/vmihailenco/msgpack/v5) stays out of the core module.
//
// # Use
//
// Both sides must use the same parser. On the Go server:
//
//	io, err := socketio.NewServer(socketio.Config{Parser: msgpack.Parser{}})
//
// and in the JavaScript client (socket.io-client 4.x):
//
//	import { io } from "socket.io-client";
//	import customParser from "socket.io-msgpack-parser";
//
//	const socket = io("https://example.com", { parser: customParser });
//
// Handlers, acknowledgements, namespaces and binary arguments work as with
// the default parser: packets reach the server in the parser package's
// representation (JSON Data, binary values as placeholders plus
// Attachments), so nothing above the parser changes.
//
// # Wire format
//
// Each Socket.IO packet is one Engine.IO binary message holding a msgpack map
// with the keys "type" (0 CONNECT to 4 CONNECT_ERROR: there are no binary
// packet types), "nsp", "data" (absent when the packet has no payload) and
// "id" (absent without an acknowledgement id). Encode writes them in the
// order type, data, id, nsp, as the Node.js server does. Binary values travel
// in place as msgpack bin values: there are no attachments and no
// placeholders on the wire. Over WebSocket a message is one binary frame;
// over HTTP long-polling Engine.IO carries binary messages base64-encoded
// ("b" prefix) automatically, so the same parser works on every transport.
// Text messages are invalid for this parser.
//
// # Encoding
//
// Encode converts the packet's JSON Data to msgpack as notepack.io writes the
// same JavaScript value: integral numbers as the smallest msgpack integer
// (integer literals of any size up to 2^64-1 keep their exact value), other
// numbers as float 64, strings as str, true, false and null as such, arrays
// as arrays and objects as maps with their key order (repeated keys are
// written as they are: JavaScript keeps the last value, as JSON.parse does),
// invalid UTF-8 in strings as U+FFFD. In BinaryEvent
// and BinaryAck packets each placeholder {"_placeholder":true,"num":N}
// becomes the msgpack bin value of Attachments[N], and the packet is written
// as an EVENT or ACK.
//
// # Decoding
//
// The decoder converts the msgpack payload to JSON as notepack.io decodes it
// and JSON.stringify would write it: numbers in JavaScript's format (integers
// exactly, even beyond 2^53), NaN and infinities as null, undefined
// (fixext 1 of type 0) as null in arrays and left out of maps and of the
// packet, Dates (fixext 8 of type 0) as their ISO string, invalid UTF-8 as
// U+FFFD, map keys that are numbers, booleans or null as JavaScript property
// names. Binary values, msgpack bin and the ArrayBuffer that Node.js's
// notepack.io writes as ext 8/16/32 of type 0, become placeholders and
// Attachments, and the packet a BinaryEvent or BinaryAck; other ext values
// become [type, <binary>], as notepack.io decodes them. In CONNECT and
// CONNECT_ERROR payloads, where the parser representation has no
// attachments, a binary value becomes what JSON.stringify writes for a
// Node.js Buffer, {"type":"Buffer","data":[bytes...]}.
//
// Every error wraps parser.ErrInvalidPacket, which the server answers by
// closing the connection ("parse error"). The checks are those of
// socket.io-msgpack-parser, plus the default parser's rules for events and
// acks:
//
//   - the message is a single msgpack map, with no trailing bytes; keys
//     other than type, nsp, data and id (such as the client's "options")
//     are checked and ignored, and a repeated key keeps its last value;
//   - type is an integer from 0 to 4;
//   - nsp is a string starting with "/" (socket.io-msgpack-parser accepts
//     any string);
//   - id, when present, is an integer from 0 to parser.MaxID;
//   - data: CONNECT a map or none, DISCONNECT none, CONNECT_ERROR a map or a
//     string, EVENT a non-empty array whose first element is a number or a
//     string that is not reserved (parser.IsReservedEvent), ACK an array,
//     and an ACK must have an id;
//   - map keys are strings, numbers, booleans, null or undefined;
//   - a payload holding both binary values and a map whose "_placeholder"
//     member is true is rejected, since the placeholder representation
//     could not tell them apart.
//
// Hostile input is bounded: lengths are checked against the message before
// anything is allocated, nesting is limited by Parser.MaxDepth
// (DefaultMaxDepth), binary values per packet by Parser.MaxAttachments
// (parser.DefaultMaxAttachments by default, while the npm parser has no
// limit: raise it if clients send more binary values in one event), and
// message size by Parser.MaxSize on top of Engine.IO's MaxPayload.
//
// # Memory ownership and concurrency
//
// The decoder takes ownership of each message: a decoded packet's
// Attachments share memory with it. Parser is safe for concurrent use; a
// decoder is not (the server uses one per connection).
package msgpack
