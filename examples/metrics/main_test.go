package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/gosio/socketio/internal/testutil"
)

// TestMetricsEndpoint runs the official socket.io-client against the
// example over WebSocket, polling, and polling upgraded to WebSocket, and
// reads /metrics over HTTP as Prometheus would: the socket, its events by
// name (the seed's exchange and an acknowledged "sum"), an unknown event
// counted as "other", the ack's latency, bytes, the Engine.IO session and
// its upgrade, then the disconnect; the Go runtime's metrics beside them.
func TestMetricsEndpoint(t *testing.T) {
	for _, m := range testutil.Modes {
		t.Run(m.Name, func(t *testing.T) {
			io, h, err := newServer()
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(h)
			t.Cleanup(func() { hs.Close(); _ = io.Close() })

			p := testutil.SeedExchange(t, hs.URL, m.Transports, nil)
			if got := p.Call("a", "sum", []int{1, 2}); len(got) != 1 || got[0] != 3.0 {
				t.Fatalf("sum = %v, want [3]", got)
			}
			p.Send(map[string]any{"cmd": "emit", "c": "a", "event": "unknown-event", "args": []any{1}})

			final := m.Transports[len(m.Transports)-1]
			upgrades := 0.0
			if len(m.Transports) == 2 {
				upgrades = 1
			}
			nsp := `namespace="/"`
			fams := waitScrape(t, hs.URL, map[string]float64{
				`socketio_connected{` + nsp + `}`:                                             1,
				`socketio_connect_total{` + nsp + `}`:                                         1,
				`socketio_events_received_total{event="mensaje",` + nsp + `}`:                 1,
				`socketio_events_received_total{event="sum",` + nsp + `}`:                     1,
				`socketio_events_received_total{event="other",` + nsp + `}`:                   1,
				`socketio_events_sent_total{event="respuesta",` + nsp + `}`:                   1,
				`socketio_ack_sent_latency_seconds{` + nsp + `}`:                              1,
				`socketio_event_duration_seconds{event="sum",` + nsp + `}`:                    1,
				`socketio_engine_opened_total{transport="` + m.Transports[0] + `"}`:           1,
				`socketio_engine_sessions{transport="` + final + `"}`:                         1,
				`socketio_engine_upgrades_total`:                                              upgrades,
				`socketio_disconnect_total{` + nsp + `,reason="client namespace disconnect"}`: -1, // absent
			})
			if v := value(fams, `socketio_received_bytes_total{`+nsp+`}`); v < float64(len(`2["mensaje","¡Hola desde el frontend!"]`)) {
				t.Errorf("received bytes %v", v)
			}
			if v := value(fams, `socketio_engine_transmitted_bytes_total`); v < value(fams, `socketio_transmitted_bytes_total{`+nsp+`}`) || v == 0 {
				t.Errorf("engine bytes sent %v", v)
			}
			if value(fams, "go_goroutines") <= 0 {
				t.Error("no go_goroutines: the runtime collector is missing")
			}

			p.Send(map[string]any{"cmd": "disconnect", "c": "a"})
			waitScrape(t, hs.URL, map[string]float64{
				`socketio_connected{` + nsp + `}`:                                             0,
				`socketio_disconnect_total{` + nsp + `,reason="client namespace disconnect"}`: 1,
			})
		})
	}
}

// scrape reads /metrics and returns each series' value (a histogram's
// count) by its name and labels, as name{k="v",...} with the labels in
// the exposition's order.
func scrape(t *testing.T, base string) map[string]float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %s, %s", res.Status, res.Header.Get("Content-Type"))
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, s := range f.Metric {
			key := name
			if len(s.Label) > 0 {
				var kv []string
				for _, l := range s.Label {
					kv = append(kv, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
				key += "{" + strings.Join(kv, ",") + "}"
			}
			out[key] = sampleValue(s)
		}
	}
	return out
}

func sampleValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Histogram != nil:
		return float64(s.Histogram.GetSampleCount())
	case s.Untyped != nil:
		return s.Untyped.GetValue()
	}
	return 0
}

func value(m map[string]float64, key string) float64 { return m[key] }

// waitScrape scrapes until every series has its value (-1: absent), for
// 10 s at most, and returns the last scrape.
func waitScrape(t *testing.T, base string, want map[string]float64) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := scrape(t, base)
		var bad []string
		for k, v := range want {
			g, ok := got[k]
			if (v < 0 && ok) || (v >= 0 && (!ok || g != v)) {
				bad = append(bad, fmt.Sprintf("%s = %v (present %v), want %v", k, g, ok, v))
			}
		}
		if len(bad) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics:\n  %s", strings.Join(bad, "\n  "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
