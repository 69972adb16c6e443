package redis

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/adapter"
	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/internal/wire"
)

// vector is one entry of testdata/redis-adapter-vectors.json (captured from
// Node servers running @socket.io/redis-adapter 8.3.0 and the emitter 5.1).
type vector struct {
	Adapter string          `json:"adapter"`
	Step    string          `json:"step"`
	Command string          `json:"command"`
	Channel string          `json:"channel"`
	Hex     string          `json:"hex"`
	Format  string          `json:"format"`
	Decoded json.RawMessage `json:"decoded"`
}

func classicVectors(t testing.TB) []vector { return vectorsOf(t, "redis") }

func vectorsOf(t testing.TB, kind string) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/redis-adapter-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var all []vector
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	var out []vector
	for _, v := range all {
		if v.Adapter == kind && v.Hex != "" {
			out = append(out, v)
		}
	}
	if len(out) < 25 {
		t.Fatalf("only %d %s vectors", len(out), kind)
	}
	return out
}

// vectorJSON renders a tree as the vectors file does: binary as
// {"$bin":"hex"}.
func vectorJSON(v any) any {
	switch x := v.(type) {
	case []byte:
		return map[string]any{"$bin": hex.EncodeToString(x)}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = vectorJSON(e)
		}
		return out
	case *wire.Object:
		out := map[string]any{}
		for i, k := range x.Keys {
			out[k] = vectorJSON(x.Vals[i])
		}
		return out
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return v
}

func sameJSON(t *testing.T, what string, got any, want json.RawMessage) {
	t.Helper()
	var w any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(got)
	var g any
	_ = json.Unmarshal(gb, &g)
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, gb, want)
	}
}

// Every classic vector decodes to the recorded value, re-encodes to the
// same bytes, and the Go encoders rebuild the server's messages byte for
// byte.
func TestGoldenClassic(t *testing.T) {
	for _, v := range classicVectors(t) {
		t.Run(v.Step, func(t *testing.T) {
			raw, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatal(err)
			}
			isJSON := raw[0] == '{'
			if isJSON != (v.Format == "json") {
				t.Fatalf("format %q but first byte %q", v.Format, raw[0])
			}
			var tree any
			if strings.HasPrefix(v.Channel, "socket.io#") {
				tree, err = wire.DecodeMsgpack(raw)
			} else {
				tree, err = wire.DecodePayload(raw)
			}
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "decoded", vectorJSON(tree), v.Decoded)

			// The codec round trip keeps the bytes.
			var again []byte
			if isJSON {
				again, _, err = wire.EncodeJSON(tree, wire.NodeBuffers)
			} else {
				again, err = wire.EncodeMsgpack(tree)
			}
			if err != nil || !bytes.Equal(again, raw) {
				t.Fatalf("re-encoded %x (%v)\nwant        %x", again, err, raw)
			}

			// The Go code paths rebuild the message.
			switch {
			case strings.HasPrefix(v.Channel, "socket.io#"):
				tup := tree.([]any)
				uid := tup[0].(string)
				nsp := tup[1].(*wire.Object).Vals[2].(string)
				p, err := wire.TreePacket(tup[1], nsp)
				if err != nil {
					t.Fatal(err)
				}
				opts := wire.TreeOpts(tup[2])
				var b []byte
				var channel string
				if uid == "emitter" {
					e := Emitter{key: "socket.io", nsp: nsp, rooms: opts.Rooms, except: opts.Except}
					if opts.Flags.Volatile {
						e = e.Volatile()
					}
					b, channel, err = e.encode(p)
				} else {
					b, err = encodeBroadcastTuple(uid, p, opts)
					channel = broadcastChannelFor("socket.io#"+nsp+"#", opts)
				}
				if err != nil || !bytes.Equal(b, raw) {
					t.Fatalf("Go tuple %x (%v)\nwant     %x", b, err, raw)
				}
				if channel != v.Channel {
					t.Fatalf("channel %q, want %q", channel, v.Channel)
				}
			default:
				o := tree.(*wire.Object)
				typ, _ := o.Get("type")
				rid, _ := o.Get("requestId")
				ridS, _ := rid.(string)
				switch typ {
				case int64(reqBroadcast):
					uid, _ := o.Get("uid")
					pv, _ := o.Get("packet")
					p, err := wire.TreePacket(pv, "/")
					if err != nil {
						t.Fatal(err)
					}
					ov, _ := o.Get("opts")
					b, err := broadcastRequest(uid.(string), ridS, p, wire.TreeOpts(ov))
					if err != nil || !bytes.Equal(b, raw) {
						t.Fatalf("Go request %x (%v)\nwant       %x", b, err, raw)
					}
				case int64(reqBroadcastClientCount):
					n, _ := o.Get("clientCount")
					b, _, _ := wire.EncodeJSON(clientCountMsg(ridS, int(n.(int64))), wire.NodeBuffers)
					if !bytes.Equal(b, raw) {
						t.Fatalf("Go count %s, want %s", b, raw)
					}
				case int64(reqBroadcastAck):
					pv, _ := o.Get("packet")
					// Through the Go ack path: JSON args, then the tree.
					j, atts, err := wire.EncodeJSON(pv, wire.Placeholders)
					if err != nil {
						t.Fatal(err)
					}
					arg, err := wire.FirstArg(adapter.AckResponse{Args: []json.RawMessage{j}, Attachments: atts})
					if err != nil {
						t.Fatal(err)
					}
					b, err := ackMsg(ridS, arg)
					if err != nil || !bytes.Equal(b, raw) {
						t.Fatalf("Go ack %x (%v)\nwant   %x", b, err, raw)
					}
				}
				if sv, ok := o.Get("sockets"); ok {
					// Fetched sockets survive the Go representation.
					for _, s := range sv.([]any) {
						info, ok := wire.TreeSocket(s)
						if !ok {
							t.Fatalf("socket %v", vectorJSON(s))
						}
						back := wire.SocketTree(info)
						want, _ := json.Marshal(vectorJSON(s))
						sameJSON(t, "socket", vectorJSON(back), want)
					}
				}
			}
		})
	}
}

// The edge values of notepack (docs/adapters.md §9.1) decode and encode
// to the same bytes.
func TestNotepackEdgeValues(t *testing.T) {
	for _, h := range []string{
		"00", "7f", "cc80", "ccff", "cd0100", "cdffff", "ce00010000", "ceffffffff", "cf0000000100000000",
		"cf000001a216ece1f6", "cf0020000000000000", "ff", "e0", "d0df", "d080", "d1ff7f", "d18000", "d280000000",
		"d3ffffffff7fffffff", "cb4004000000000000", "cb3fb999999999999a", "cb7ff8000000000000", "cb7ff0000000000000",
		"a0", "ab68c3a96c6c6f20f09f8c8d", "c3", "c2", "c0", "90", "9f000102030405060708090a0b0c0d0e",
		"dc0010000102030405060708090a0b0c0d0e0f", "9301c003", "80", "81a16101", "84a131a36f6e65a132a374776fa16201a16103",
		"c404000102ff", "d7ffa1a5d60065937d25", "d6ff65920080",
		"83a47479706502a46461746192a2657682a3627566c40378797aa46c6973749501cb4004000000000000a173c0c3a36e7370a12f",
	} {
		raw, _ := hex.DecodeString(h)
		v, err := wire.DecodeMsgpack(raw)
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		b, err := wire.EncodeMsgpack(v)
		if err != nil || !bytes.Equal(b, raw) {
			t.Fatalf("%s: re-encoded %x %v", h, b, err)
		}
	}
	// Numbers from Go JSON take notepack's shortest form.
	for in, want := range map[string]string{"1": "01", "1.0": "01", "-0": "00", "2.5": "cb4004000000000000",
		"4294967296": "cf0000000100000000", "18446744073709551615": "cfffffffffffffffff", "1e400": "cb7ff0000000000000"} {
		v, err := wire.DecodeJSON([]byte(in), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := wire.EncodeMsgpack(v)
		if hex.EncodeToString(b) != want {
			t.Fatalf("%s: %x, want %s", in, b, want)
		}
	}
	// JSON.stringify forms of what Go clients receive.
	d, _ := hex.DecodeString("d7ffa1a5d60065937d25")
	v, _ := wire.DecodeMsgpack(d)
	j, _, _ := wire.EncodeJSON([]any{v, math.NaN(), math.Inf(1), "<&>"}, wire.Placeholders)
	if string(j) != `["2024-01-02T03:04:05.678Z",null,null,"<&>"]` {
		t.Fatalf("JSON %s", j)
	}
}

// Malformed messages are errors, never panics.
func TestMalformed(t *testing.T) {
	for _, h := range []string{"", "93", "dc", "ddffffffff", "dfffffffff", "c6ffffffff", "dbffffffff01", "c1", "d4ff00",
		"c7ff05", "93a1", "9301c4", "81c0c0", "8101"} {
		raw, _ := hex.DecodeString(h)
		_, _ = wire.DecodeMsgpack(raw)
		_, _, _, _ = decodeBroadcast(raw)
		_, _ = wire.DecodePayload(raw)
	}
	for _, s := range []string{"{", "{\"type\":", "{\"a\":1}x", "{\"type\":7,\"packet\":5}", strings.Repeat("[", 10000)} {
		_, _ = wire.DecodePayload([]byte(s))
	}
}

// FuzzDecode feeds the decoders of every channel with arbitrary bytes.
func FuzzDecode(f *testing.F) {
	for _, v := range append(classicVectors(f), vectorsOf(f, "sharded")...) {
		raw, _ := hex.DecodeString(v.Hex)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if uid, pt, opts, err := decodeBroadcast(b); err == nil {
			_ = uid
			if p, err := wire.TreePacket(pt, "/"); err == nil {
				if _, err := encodeBroadcastTuple("x", p, opts); err != nil {
					t.Fatalf("decoded packet does not re-encode: %v", err)
				}
			}
		}
		if o, err := wire.DecodePayload(b); err == nil {
			_, _, _ = wire.EncodeJSON(o, wire.NodeBuffers)
			if s, ok := o.Get("sockets"); ok {
				if a, ok := s.([]any); ok {
					for _, x := range a {
						if info, ok := wire.TreeSocket(x); ok {
							_ = wire.SocketTree(info)
						}
					}
				}
			}
			ov, _ := o.Get("opts")
			_ = wire.TreeOpts(ov)
		}
		if m, err := streamEntry(map[string]any{"uid": "u", "nsp": "/", "type": "3", "data": string(b)}); err == nil {
			if _, err := streamFields(m); err != nil {
				t.Fatalf("decoded entry does not re-encode: %v", err)
			}
			_, _, _ = m.BroadcastPacket()
		}
		if m, err := cluster.Decode(b); err == nil {
			if _, err := m.Encode(); err != nil {
				t.Fatalf("decoded message does not re-encode: %v", err)
			}
			_, _, _ = m.BroadcastPacket()
		}
	})
}

// Every sharded vector decodes to the recorded value and the Go encoders
// rebuild it byte for byte.
func TestGoldenSharded(t *testing.T) {
	for _, v := range vectorsOf(t, "sharded") {
		t.Run(v.Step, func(t *testing.T) {
			raw, err := hex.DecodeString(v.Hex)
			if err != nil {
				t.Fatal(err)
			}
			if (raw[0] == '{') != (v.Format == "json") {
				t.Fatalf("format %q but first byte %q", v.Format, raw[0])
			}
			o, err := wire.DecodePayload(raw)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "decoded", vectorJSON(o), v.Decoded)
			m, err := cluster.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == cluster.Broadcast {
				// Through the Go path: packet and options, then the
				// message the adapter publishes, and its channel.
				p, opts, err := m.BroadcastPacket()
				if err != nil {
					t.Fatal(err)
				}
				m, err = cluster.NewBroadcast(m.UID, m.Nsp, p, opts, m.RequestID())
				if err != nil {
					t.Fatal(err)
				}
				tr := &shardedTransport{prefix: "socket.io"}
				if ch := tr.broadcastChannel(m); ch != v.Channel {
					t.Fatalf("channel %q, want %q", ch, v.Channel)
				}
			}
			b, err := m.Encode()
			if err != nil || !bytes.Equal(b, raw) {
				t.Fatalf("Go message %x (%v)\nwant       %x", b, err, raw)
			}
		})
	}
}

// monitorArgs splits a redis-cli MONITOR line into its arguments.
func monitorArgs(t *testing.T, line string) []string {
	t.Helper()
	var args []string
	for i := 0; i < len(line); {
		if line[i] != '"' {
			i++
			continue
		}
		i++
		var b []byte
		for i < len(line) && line[i] != '"' {
			c := line[i]
			if c == '\\' && i+1 < len(line) {
				i++
				switch line[i] {
				case 'n':
					c = '\n'
				case 'r':
					c = '\r'
				case 't':
					c = '\t'
				case 'x':
					v, err := hex.DecodeString(line[i+1 : i+3])
					if err != nil {
						t.Fatal(err)
					}
					c = v[0]
					i += 2
				default:
					c = line[i]
				}
			}
			b = append(b, c)
			i++
		}
		i++
		args = append(args, string(b))
	}
	return args
}

// The Streams vectors: stream entries (from MONITOR) and pub/sub messages
// decode, and the Go encoders rebuild them byte for byte.
func TestGoldenStreams(t *testing.T) {
	b, err := os.ReadFile("testdata/redis-adapter-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var all []struct {
		vector
		Monitor string `json:"monitor"`
	}
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	entries, messages := 0, 0
	for _, v := range all {
		if v.Adapter != "streams" {
			continue
		}
		switch {
		case v.Command == "XADD":
			entries++
			args := monitorArgs(t, v.Monitor)
			if len(args) < 14 || strings.Join(args[2:6], " ") != "MAXLEN ~ 10000 *" {
				t.Fatalf("%s: %q", v.Step, args)
			}
			vals := map[string]any{}
			for i := 6; i+1 < len(args); i += 2 {
				vals[args[i]] = args[i+1]
			}
			m, err := streamEntry(vals)
			if err != nil {
				t.Fatalf("%s: %v", v.Step, err)
			}
			fields, err := streamFields(m)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fields {
				got = append(got, f.(string))
			}
			if strings.Join(got, "\x00") != strings.Join(args[6:], "\x00") {
				t.Fatalf("%s:\n got %q\nwant %q", v.Step, got, args[6:])
			}
			if ephemeral(m) {
				t.Fatalf("%s: a stream entry classified as ephemeral", v.Step)
			}
		case v.Hex != "":
			messages++
			raw, _ := hex.DecodeString(v.Hex)
			o, err := wire.DecodeMsgpack(raw)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, v.Step, vectorJSON(o), v.Decoded)
			m, err := cluster.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			if v.Channel == "socket.io#/#" && !ephemeral(m) {
				t.Fatalf("%s: a pub/sub message classified as durable", v.Step)
			}
			got, err := m.EncodeMsgpack()
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("%s: %x (%v)\nwant %x", v.Step, got, err, raw)
			}
		}
	}
	if entries < 10 || messages < 10 {
		t.Fatalf("%d entries, %d messages", entries, messages)
	}
}
