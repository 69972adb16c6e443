package adapter

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// handshakeJSON is Node's socket.handshake as JSON.
type handshakeJSON struct {
	Headers map[string]any `json:"headers"`
	Time    string         `json:"time"`
	Address string         `json:"address"`
	XDomain bool           `json:"xdomain"`
	Secure  bool           `json:"secure"`
	Issued  int64          `json:"issued"`
	URL     string         `json:"url"`
	Query   map[string]any `json:"query"`
	Auth    map[string]any `json:"auth"`
}

// MarshalJSON encodes the handshake as Node serializes socket.handshake:
// header names in lower case with one string value each (repeated headers
// joined with ", ", cookies with "; ", set-cookie kept as an array, as in
// Node's IncomingMessage.headers), query parameters as strings (an array
// for a repeated parameter, as Node's querystring gives them), and auth
// as an object.
func (h Handshake) MarshalJSON() ([]byte, error) {
	j := handshakeJSON{
		Headers: NodeHeaders(h.Headers),
		Time:    h.Time,
		Address: h.Address,
		XDomain: h.XDomain,
		Secure:  h.Secure,
		Issued:  h.Issued,
		URL:     h.URL,
		Query:   NodeQuery(h.Query),
		Auth:    h.Auth,
	}
	if j.Auth == nil {
		j.Auth = map[string]any{}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes Node's form of a handshake (see MarshalJSON);
// header names become canonical again.
func (h *Handshake) UnmarshalJSON(b []byte) error {
	var j struct {
		handshakeJSON
		Headers map[string]json.RawMessage `json:"headers"`
		Query   map[string]json.RawMessage `json:"query"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = Handshake{
		Time:    j.Time,
		Address: j.Address,
		XDomain: j.XDomain,
		Secure:  j.Secure,
		Issued:  j.Issued,
		URL:     j.URL,
		Auth:    j.Auth,
	}
	if h.Auth == nil {
		h.Auth = map[string]any{}
	}
	hd := make(map[string][]string, len(j.Headers))
	for k, raw := range j.Headers {
		vals, err := stringOrStrings(raw)
		if err != nil {
			return fmt.Errorf("adapter: handshake header %q: %w", k, err)
		}
		hd[k] = vals
	}
	h.Headers = CanonicalHeaders(hd)
	h.Query = make(url.Values, len(j.Query))
	for k, raw := range j.Query {
		vals, err := stringOrStrings(raw)
		if err != nil {
			return fmt.Errorf("adapter: handshake query %q: %w", k, err)
		}
		h.Query[k] = vals
	}
	return nil
}

// stringOrStrings decodes a JSON string or array of strings.
func stringOrStrings(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, err
	}
	return many, nil
}

// NodeHeaders returns headers as Node's IncomingMessage.headers holds them:
// lower-case names, repeated values joined with ", " (cookie with "; "),
// set-cookie as an array. Map keys are visited in sorted order by
// encoding/json, so the output is stable.
func NodeHeaders(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		vals := h[k]
		lk := strings.ToLower(k)
		switch lk {
		case "set-cookie":
			out[lk] = slices.Clone(vals)
		case "cookie":
			out[lk] = joinAppend(out[lk], vals, "; ")
		default:
			out[lk] = joinAppend(out[lk], vals, ", ")
		}
	}
	return out
}

// joinAppend joins vals onto a previous value (two spellings of one name).
func joinAppend(prev any, vals []string, sep string) string {
	s := strings.Join(vals, sep)
	if p, ok := prev.(string); ok && p != "" {
		return p + sep + s
	}
	return s
}

// NodeQuery returns query parameters as Node's querystring.parse gives
// them: a string for a parameter given once, an array of strings for one
// given several times.
func NodeQuery(q url.Values) map[string]any {
	out := make(map[string]any, len(q))
	for k, vals := range q {
		switch len(vals) {
		case 0:
			out[k] = ""
		case 1:
			out[k] = vals[0]
		default:
			out[k] = slices.Clone(vals)
		}
	}
	return out
}

// CanonicalHeaders returns headers read from another server (lower-case
// names) with canonical names, so that http.Header's Get works on them.
func CanonicalHeaders(m map[string][]string) http.Header {
	h := make(http.Header, len(m))
	for k, vals := range m {
		ck := http.CanonicalHeaderKey(k)
		h[ck] = append(h[ck], vals...)
	}
	return h
}

// FormatTime prints t as JavaScript's Date.prototype.toString does, e.g.
// "Tue Dec 01 2026 22:00:00 GMT+0000 (Coordinated Universal Time)". The
// name in parentheses is the zone's long name for UTC; for other zones Go
// knows only the abbreviation (e.g. "CET"), which is printed instead.
func FormatTime(t time.Time) string {
	name, _ := t.Zone()
	switch name {
	case "UTC", "":
		name = "Coordinated Universal Time"
	}
	return t.Format("Mon Jan 02 2006 15:04:05 GMT-0700") + " (" + name + ")"
}
