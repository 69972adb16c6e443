// Package parser converts Socket.IO protocol v5 packets to and from
// Engine.IO messages, as the official socket.io-parser 4.2.x does. It is pure:
// no I/O, no goroutines, no global mutable state.
//
// # Packets
//
// A Packet is a type, a namespace, an optional ack id, a JSON payload (Data)
// and binary attachments. Its text form is
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// for example 2["hello"], 2/admin,13["bar"] or
// 451-["foo",{"_placeholder":true,"num":0}] followed by one binary message.
// Each Socket.IO packet travels as one Engine.IO text message, and each
// attachment as one Engine.IO binary message right after it.
//
// Data holds the payload exactly as it is on the wire, so unknown payloads
// pass through byte for byte (key order and number formatting are kept). In
// BinaryEvent and BinaryAck packets Data contains placeholders
// {"_placeholder":true,"num":N} standing for Attachments[N]; in every other
// type such an object is ordinary data.
//
// # Encoding
//
// Encode (or AppendText) writes a Packet; the JSONParser type wraps it behind
// the Parser interface. To build payloads:
//
//   - from Go values: Marshal, MarshalArgs, NewEvent and NewAck encode like
//     encoding/json, but every []byte found anywhere in the values (in maps,
//     slices, arrays, pointers, interfaces and struct fields) is taken out as
//     an attachment and replaced, depth-first and in order, by a placeholder;
//     the packet then becomes a BinaryEvent or BinaryAck.
//   - from already-marshalled JSON: EventData and RawArray join
//     json.RawMessage values into an array; or pass json.RawMessage values to
//     NewEvent, they are copied as they are.
//
// Strings are not HTML-escaped, matching JavaScript's JSON.stringify.
//
// # Decoding
//
// A Decoder is a small state machine fed with one Engine.IO message at a
// time (Add). It returns a packet as soon as a text message without
// attachments arrives, or when the last attachment of a binary packet
// arrives. Input is validated as socket.io-parser 4.2.x does, and every
// error wraps ErrInvalidPacket, which a server answers by closing the
// connection with the "parse error" reason:
//
//   - the type is a digit 0-6;
//   - types 5 and 6 carry a decimal attachment count, at least 1 and at most
//     the decoder's limit (DefaultMaxAttachments, 10), followed by '-';
//   - a namespace starts with '/' and ends at ',' or at the end of the text;
//   - an ack id is decimal and at most MaxID (2^53-1); ACK and BINARY_ACK
//     must have one;
//   - the payload, when present, is valid JSON of the right kind: CONNECT an
//     object (or absent), DISCONNECT none, CONNECT_ERROR an object or a
//     string, EVENT and BINARY_EVENT a non-empty array whose first element is
//     a number or a string that is not reserved (IsReservedEvent), ACK and
//     BINARY_ACK an array;
//   - a binary message when no attachment is expected, a text message while
//     attachments are expected, and a placeholder whose num is not an integer
//     index of the attachments are errors.
//
// The decoder is stricter than the JavaScript parser where that one relies on
// loose conversions: an empty text message (which JavaScript decodes as a
// CONNECT), attachment counts and ids with non-digit characters (" ", "0x1"),
// EVENT, ACK and CONNECT_ERROR packets without a payload (which the
// specification forbids, and which the JavaScript client cannot handle) and
// non-integer placeholder numbers are rejected.
//
// # Binary arguments
//
// DecodeEvent splits an event into its name and raw arguments
// (json.RawMessage, placeholders kept); SplitArray does the same for an ACK.
// An argument is then decoded with the packet's Attachments, which are
// non-empty only for binary packets:
//
//   - Reconstruct returns an any tree, as json.Unmarshal into an any, with
//     []byte values where the placeholders were;
//   - Unmarshal decodes into a typed destination: each placeholder is handed
//     to encoding/json as the base64 string of its attachment, which
//     encoding/json decodes into a []byte field. A destination of another
//     kind (a string, an interface inside a struct or map) receives that
//     base64 string, so use []byte for binary fields, or decode into *any.
//
// # Memory ownership
//
// Decoder.Add takes ownership of the message bytes: the returned Packet's
// Data and Attachments share memory with them. Marshal does not copy byte
// slices either: the attachments are the caller's slices until the packet is
// sent.
//
// # Concurrency
//
// All functions and JSONParser are safe for concurrent use. A Decoder holds
// per-connection state and must be used by one goroutine at a time.
package parser
