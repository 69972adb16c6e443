package postgres

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gosio/socketio/adapter/cluster"
)

// binaryTypes are the message types Node's adapter sends through the
// attachments table when they carry binary values (other types write
// Buffers as JSON objects).
func binaryType(t cluster.MessageType) bool {
	switch t {
	case cluster.Broadcast, cluster.BroadcastAck, cluster.ServerSideEmit, cluster.ServerSideEmitResponse:
		return true
	}
	return false
}

// notification returns the NOTIFY payload of m, or viaTable when m must
// be stored in the attachments table: it carries binary values, or its
// JSON is longer than threshold bytes or too long for a NOTIFY. Node's
// adapter uses the table only above the threshold, and a JSON of exactly
// 8000 bytes is refused by PostgreSQL there; here it goes through the table.
func notification(m *cluster.Message, threshold int) (payload []byte, viaTable bool, err error) {
	if binaryType(m.Type) && m.HasBinary() {
		return nil, true, nil
	}
	b, err := m.EncodeJSON()
	if err != nil {
		return nil, false, err
	}
	if len(b) > threshold || len(b) >= maxNotifyPayload {
		return nil, true, nil
	}
	return b, false, nil
}

// attachmentHeader is the NOTIFY payload of a message stored in row id,
// in Node's key order (uid, type, attachmentId as a string; no nsp).
func attachmentHeader(uid string, typ cluster.MessageType, id int64) []byte {
	u, _ := json.Marshal(uid)
	b := make([]byte, 0, 64+len(u))
	b = append(b, `{"uid":`...)
	b = append(b, u...)
	b = append(b, `,"type":`...)
	b = strconv.AppendInt(b, int64(typ), 10)
	b = append(b, `,"attachmentId":"`...)
	b = strconv.AppendInt(b, id, 10)
	return append(b, `"}`...)
}

// header is the NOTIFY payload of a message stored in the attachments
// table.
type header struct {
	uid string
	typ int64
	id  int64
}

// parseHeader reports whether payload is the header of an attachment
// (an object with a truthy attachmentId, a string or a number as Node
// accepts both) and reads it.
func parseHeader(payload []byte) (header, bool, error) {
	if !bytes.Contains(payload, []byte(`"attachmentId"`)) {
		return header{}, false, nil
	}
	var h struct {
		UID  string          `json:"uid"`
		Type int64           `json:"type"`
		ID   json.RawMessage `json:"attachmentId"`
	}
	if err := json.Unmarshal(payload, &h); err != nil {
		return header{}, false, fmt.Errorf("malformed notification: %w", err)
	}
	raw := h.ID
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "0" || string(raw) == `""` || string(raw) == "false" {
		// No attachment (a key of the message's data, or a falsy id, which
		// Node ignores too).
		return header{}, false, nil
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return header{}, false, err
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 {
		return header{}, false, errors.New("malformed attachment id " + string(raw))
	}
	return header{uid: h.UID, typ: h.Type, id: id}, true, nil
}
