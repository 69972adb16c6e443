package postgres

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/adapter/cluster"
	"github.com/gosio/socketio/internal/wire"
	"github.com/gosio/socketio/parser"
)

// vector is one entry of testdata/postgres-adapter-vectors.json, recorded
// from Node servers running @socket.io/postgres-adapter 0.5.0 and
// @socket.io/postgres-emitter 0.1.1 on PostgreSQL 15.
type vector struct {
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	Sender     string          `json:"sender"`
	Channel    *string         `json:"channel"`
	Payload    *string         `json:"payload"`
	Bytes      int             `json:"payload_bytes"`
	Decoded    json.RawMessage `json:"decoded"`
	Type       int             `json:"type"`
	Attachment *struct {
		Table   string          `json:"table"`
		ID      string          `json:"id"`
		Bytes   int             `json:"payload_bytes"`
		Hex     string          `json:"payload_hex"`
		Decoded json.RawMessage `json:"decoded"`
	} `json:"attachment"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/postgres-adapter-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var all []vector
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 109 || all[0].Kind != "meta" {
		t.Fatalf("%d vectors, first %q", len(all), all[0].Kind)
	}
	return all[1:]
}

// vectorJSON renders a decoded tree as the vectors file does: binary as
// {"$bin":"hex"}, msgpack timestamps as {"$timestamp":"iso"}.
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
		return map[string]any{"$timestamp": x.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
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

// notRebuilt are the vectors whose form no Go code path produces, with
// the reason; they are still decoded and re-encoded by the codec.
var notRebuilt = map[string]string{
	"handcrafted emitter-style message WITH nsp / BROADCAST from emitter": "hand-made key order (uid, nsp, type, data)",
	"cluster mode (setupPrimary) / INITIAL_HEARTBEAT from a worker":       "Node cluster mode's extra keys source and nodeId",
	"cluster mode (setupPrimary) / BROADCAST from a worker":               "Node cluster mode's extra keys source and nodeId",
	"emitter JSON exactly 8000 bytes / BROADCAST of its own error":        "Node's emitter broadcasting a pg error object",
	"broadcast binary + Date + undefined / BROADCAST from A":              "a JS Date (msgpack timestamp); Go packets carry it as a string",
	"broadcast to numeric room / BROADCAST from A":                        "a JS number as a room; Go rooms are strings",
}

// tableQuirk are the vectors Node sent through the table although they
// hold no binary value Go could see: a bare ArrayBuffer counts as binary
// for Node's hasBinary but is written as an empty map.
var tableQuirk = map[string]bool{"broadcast ArrayBuffer / BROADCAST from A": true}

// goRebuild encodes m through the Go code path that sends it: the
// adapter's broadcast (packet and options back to a Go broadcast), the
// emitter's forms for uid "emitter", the cluster message otherwise.
func goRebuild(t *testing.T, m *cluster.Message, tree *wire.Object, nsp string, viaTable bool) []byte {
	t.Helper()
	if m.UID == "emitter" {
		return nodeEmitterMessage(t, tree, nsp, viaTable)
	}
	if m.Type == cluster.Broadcast {
		p, opts, err := m.BroadcastPacket()
		if err != nil {
			t.Fatal(err)
		}
		m, err = cluster.NewBroadcast(m.UID, m.Nsp, p, opts, m.RequestID())
		if err != nil {
			t.Fatal(err)
		}
	}
	if viaTable {
		b, err := m.EncodeMsgpack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	payload, table, err := notification(m, DefaultPayloadThreshold)
	if err != nil || table {
		t.Fatalf("notification: table %v, %v", table, err)
	}
	return payload
}

// Every vector decodes to the recorded value, the codec re-encodes it to
// the same bytes, and the Go encoders rebuild the NOTIFY payload and the
// attachment row byte for byte (but for notRebuilt).
func TestGolden(t *testing.T) {
	counts := map[string]int{}
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			counts[v.Kind]++
			if v.Kind == "none" {
				if v.Payload != nil {
					t.Fatal("a none entry with a payload")
				}
				return
			}
			payload := []byte(*v.Payload)
			if len(payload) != v.Bytes {
				t.Fatalf("payload %d bytes, recorded %d", len(payload), v.Bytes)
			}
			if len(payload) >= maxNotifyPayload {
				t.Fatalf("a NOTIFY of %d bytes", len(payload))
			}
			o, err := wire.DecodePayload(payload)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "decoded", vectorJSON(o), v.Decoded)
			again, _, err := wire.EncodeJSON(o, wire.NodeBuffers)
			if err != nil || !bytes.Equal(again, payload) {
				t.Fatalf("re-encoded %s (%v)\nwant        %s", again, err, payload)
			}
			h, isHeader, err := parseHeader(payload)
			if err != nil {
				t.Fatal(err)
			}
			if isHeader != (v.Attachment != nil) {
				t.Fatalf("header %v, attachment %v", isHeader, v.Attachment != nil)
			}
			var m *cluster.Message
			var wantBytes []byte
			tree := o
			if isHeader {
				a := v.Attachment
				if a.Table != DefaultTableName || strconv.FormatInt(h.id, 10) != a.ID || h.typ != int64(v.Type) {
					t.Fatalf("header %+v for row %s of %s", h, a.ID, a.Table)
				}
				if b := attachmentHeader(h.uid, cluster.MessageType(h.typ), h.id); !bytes.Equal(b, payload) {
					t.Fatalf("Go header %s, want %s", b, payload)
				}
				row, err := hex.DecodeString(a.Hex)
				if err != nil || len(row) != a.Bytes {
					t.Fatalf("row: %d bytes, recorded %d (%v)", len(row), a.Bytes, err)
				}
				rt, err := wire.DecodeMsgpack(row)
				if err != nil {
					t.Fatal(err)
				}
				sameJSON(t, "row", vectorJSON(rt), a.Decoded)
				tree, _ = rt.(*wire.Object)
				if b, err := wire.EncodeMsgpack(rt); err != nil || !bytes.Equal(b, row) {
					t.Fatalf("row re-encoded %x (%v)\nwant            %x", b, err, row)
				}
				if m, err = cluster.Decode(row); err != nil {
					t.Fatal(err)
				}
				if m.UID != h.uid || int64(m.Type) != h.typ {
					t.Fatalf("row of %s type %d under a header of %s type %d", m.UID, m.Type, h.uid, h.typ)
				}
				wantBytes = row
			} else {
				if m, err = cluster.Decode(payload); err != nil {
					t.Fatal(err)
				}
				wantBytes = payload
			}
			nsp := m.Nsp
			if nsp == "" {
				// Node's emitter leaves it out; the channel says.
				nsp = strings.TrimPrefix(*v.Channel, DefaultChannelPrefix+"#")
				if m.UID != "emitter" {
					t.Fatalf("a message without nsp from %q", m.UID)
				}
			}
			if ch, err := channelOf(DefaultChannelPrefix, nsp); err != nil || ch != *v.Channel {
				t.Fatalf("channel %q (%v), want %q", ch, err, *v.Channel)
			}
			if why, ok := notRebuilt[v.Name]; ok {
				t.Log("not rebuilt by Go: " + why)
				return
			}
			if _, table, _ := notification(m, DefaultPayloadThreshold); m.UID != "emitter" && table != isHeader && !tableQuirk[v.Name] {
				t.Fatalf("Go would use the table: %v; Node did: %v", table, isHeader)
			}
			if got := goRebuild(t, m, tree, nsp, isHeader); !bytes.Equal(got, wantBytes) {
				t.Fatalf("Go %x\nwant %x", got, wantBytes)
			}
		})
	}
	if counts["notify"] != 88 || counts["background-heartbeat"] != 18 || counts["none"] != 2 {
		t.Fatalf("counts %v", counts)
	}
}

// The 8000-byte trap: Node sends a JSON of exactly 8000 bytes as a NOTIFY,
// which PostgreSQL refuses; Go stores it in the table. 7999 bytes go as a
// NOTIFY, 8001 through the table, as Node's.
func TestThreshold(t *testing.T) {
	for _, tc := range []struct {
		size      int
		threshold int
		table     bool
	}{
		{7999, 8000, false}, {8000, 8000, true}, {8001, 8000, true},
		{201, 200, true}, {200, 200, false}, {8000, 100000, true}, {7999, 100000, false},
	} {
		m := sizedBroadcast(t, tc.size)
		payload, table, err := notification(m, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if table != tc.table {
			t.Fatalf("%d bytes, threshold %d: table %v, want %v", tc.size, tc.threshold, table, tc.table)
		}
		if !table && len(payload) != tc.size {
			t.Fatalf("payload %d bytes, want %d", len(payload), tc.size)
		}
	}
}

// sizedBroadcast is a broadcast whose JSON is n bytes long.
func sizedBroadcast(t *testing.T, n int) *cluster.Message {
	t.Helper()
	mk := func(pad int) *cluster.Message {
		raw := `{"type":3,"data":{"packet":{"type":2,"data":["edge","` + strings.Repeat("z", pad) +
			`"]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"909f85d340ebdbd9","nsp":"/"}`
		m, err := cluster.Decode([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	b, _ := mk(0).EncodeJSON()
	m := mk(n - len(b))
	if b, _ := m.EncodeJSON(); len(b) != n {
		t.Fatalf("built %d bytes, want %d", len(b), n)
	}
	return m
}

// Attachment headers: ids as strings or numbers, falsy ids and lookalikes
// are not headers, malformed ones are errors.
func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		in     string
		header bool
		id     int64
		err    bool
	}{
		{`{"uid":"a","type":3,"attachmentId":"12"}`, true, 12, false},
		{`{"uid":"a","type":3,"attachmentId":12}`, true, 12, false},
		{`{"uid":"a","type":3,"attachmentId":0}`, false, 0, false},
		{`{"uid":"a","type":3,"attachmentId":""}`, false, 0, false},
		{`{"type":3,"data":{"packet":{"type":2,"data":["attachmentId"]}},"uid":"a","nsp":"/"}`, false, 0, false},
		{`{"type":3,"data":{"attachmentId":"5"},"uid":"a","nsp":"/"}`, false, 0, false},
		{`{"uid":"a","type":3,"attachmentId":"x"}`, false, 0, true},
		{`{"uid":"a","type":3,"attachmentId":"-1"}`, false, 0, true},
		{`{"uid":"a","type":3,"attachmentId":1.5}`, false, 0, true},
		{`{"uid":"a","type":"3","attachmentId":"1"}`, false, 0, true},
		{`{"attachmentId"`, false, 0, true},
	} {
		h, ok, err := parseHeader([]byte(tc.in))
		if ok != tc.header || (err != nil) != tc.err || (ok && h.id != tc.id) {
			t.Errorf("%s: header %v id %d err %v", tc.in, ok, h.id, err)
		}
	}
}

// Channel names: the prefix, "#", the namespace; longer than PostgreSQL's
// 63 bytes is an error (pg_notify refuses them, LISTEN truncates them).
func TestChannel(t *testing.T) {
	if ch, err := channelOf("socket.io", "/custom"); err != nil || ch != "socket.io#/custom" {
		t.Fatalf("%q %v", ch, err)
	}
	if _, err := channelOf("socket.io", "/"+strings.Repeat("n", 52)); err != nil {
		t.Fatal(err)
	}
	if _, err := channelOf("socket.io", "/"+strings.Repeat("n", 53)); err == nil {
		t.Fatal("a 64-byte channel accepted")
	}
	if got := tableIdent("public.socket_io_attachments"); got != `"public"."socket_io_attachments"` {
		t.Fatal(got)
	}
}

// FuzzNotification feeds the notification decoder arbitrary payloads:
// errors, never panics; what decodes re-encodes.
func FuzzNotification(f *testing.F) {
	for _, v := range loadVectors(f) {
		if v.Payload != nil {
			f.Add([]byte(*v.Payload))
		}
		if v.Attachment != nil {
			row, _ := hex.DecodeString(v.Attachment.Hex)
			f.Add(row)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = parseHeader(b)
		m, err := cluster.Decode(b)
		if err != nil {
			return
		}
		if _, _, err := notification(m, DefaultPayloadThreshold); err != nil {
			t.Fatalf("decoded message does not re-encode: %v", err)
		}
		if _, err := m.EncodeMsgpack(); err != nil {
			t.Fatalf("decoded message does not re-encode in msgpack: %v", err)
		}
		_, _, _ = m.BroadcastPacket()
	})
}

// nodeEmitterMessage rebuilds a message of Node's emitter through the Go
// emitter's encoders (in Node's form: without nsp): the selection, flags
// and arguments read back from the recorded message, then the data the
// emitter's methods build.
func nodeEmitterMessage(t *testing.T, msg *wire.Object, nsp string, viaTable bool) []byte {
	t.Helper()
	e := NewEmitter(nil, EmitterOptions{}).Of(nsp)
	e.noNsp = true
	dv, _ := msg.Get("data")
	data, _ := dv.(*wire.Object)
	ov, _ := data.Get("opts")
	if o, ok := ov.(*wire.Object); ok {
		r, _ := o.Get("rooms")
		x, _ := o.Get("except")
		e = e.To(wire.AsStrings(r)...).Except(wire.AsStrings(x)...)
		fv, _ := o.Get("flags")
		if f, ok := fv.(*wire.Object); ok {
			for i, k := range f.Keys {
				switch k {
				case "volatile":
					e = e.Volatile()
				case "compress":
					e = e.Compress(f.Vals[i] == true)
				default:
					t.Fatalf("emitter flag %q", k)
				}
			}
		}
	}
	tv, _ := msg.Get("type")
	typ, _ := wire.AsInt(tv)
	var out *wire.Object
	var err error
	switch cluster.MessageType(typ) {
	case cluster.Broadcast:
		pv, _ := data.Get("packet")
		p, perr := wire.TreePacket(pv, nsp)
		if perr != nil {
			t.Fatal(perr)
		}
		out, err = e.broadcastData(p)
	case cluster.SocketsJoin, cluster.SocketsLeave:
		r, _ := data.Get("rooms")
		out = e.roomsData(wire.AsStrings(r))
	case cluster.DisconnectSockets:
		c, _ := data.Get("close")
		out = e.disconnectData(c == true)
	case cluster.ServerSideEmit:
		pv, _ := data.Get("packet")
		arr, _ := pv.([]any)
		var args []any
		for _, a := range arr[1:] {
			j, _, jerr := wire.EncodeJSON(a, wire.NodeBuffers)
			if jerr != nil {
				t.Fatal(jerr)
			}
			args = append(args, json.RawMessage(j))
		}
		out, err = serverSideEmitData(arr[0].(string), args)
	default:
		t.Fatalf("emitter message type %d", typ)
	}
	if err != nil {
		t.Fatal(err)
	}
	payload, row, err := e.encode(cluster.MessageType(typ), out)
	if err != nil || (row != nil) != viaTable {
		t.Fatalf("emitter encode: row %v, want %v (%v)", row != nil, viaTable, err)
	}
	if viaTable {
		return row
	}
	return payload
}

// The Go emitter's messages: Node's emitter form plus the namespace; binary
// (broadcasts and server-side emits) and long ones as attachment rows.
func TestEmitterEncode(t *testing.T) {
	e := NewEmitter(nil, EmitterOptions{}).Of("admin").To("r1", "r1").Except("x").Volatile()
	p, err := parser.NewEvent("/admin", "ev", 1)
	if err != nil {
		t.Fatal(err)
	}
	data, err := e.broadcastData(p)
	if err != nil {
		t.Fatal(err)
	}
	payload, row, err := e.encode(cluster.Broadcast, data)
	want := `{"type":3,"data":{"packet":{"type":2,"data":["ev",1],"nsp":"/admin"},"opts":{"rooms":["r1"],"flags":{"volatile":true},"except":["x"]}},"uid":"emitter","nsp":"/admin"}`
	if err != nil || row != nil || string(payload) != want {
		t.Fatalf("%s %x %v\nwant %s", payload, row, err, want)
	}
	data, err = serverSideEmitData("sse", []any{[]byte{1}, "s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, row, err = e.encode(cluster.ServerSideEmit, data); err != nil || row == nil {
		t.Fatalf("binary server-side emit: row %x %v", row, err)
	}
	m, err := cluster.Decode(row)
	if err != nil || m.UID != "emitter" || m.Nsp != "/admin" || m.Type != cluster.ServerSideEmit || !m.HasBinary() {
		t.Fatalf("row %+v %v", m, err)
	}
	data = e.disconnectData(true)
	if payload, _, _ = e.encode(cluster.DisconnectSockets, data); string(payload) !=
		`{"type":6,"data":{"opts":{"rooms":["r1"],"except":["x"]},"close":true},"uid":"emitter","nsp":"/admin"}` {
		t.Fatal(string(payload))
	}
	data = e.roomsData([]string{strings.Repeat("r", 8000)})
	if _, row, _ = e.encode(cluster.SocketsJoin, data); row == nil {
		t.Fatal("a 8000-byte join as a NOTIFY")
	}
}
