package prometheus_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	socketio "github.com/gosio/socketio"
	sioprom "github.com/gosio/socketio/metrics/prometheus"
)

// testServer is a Socket.IO server with a collector, served with its
// /metrics on a loopback port for the test's duration.
type testServer struct {
	io  *socketio.Server
	url string
	c   *sioprom.Collector
}

func newTestServer(t *testing.T, cfg socketio.Config, opts sioprom.Options) *testServer {
	t.Helper()
	io, err := socketio.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := prom.NewPedanticRegistry()
	opts.Registerer = reg
	c, err := sioprom.New(io, opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		_ = io.Close()
		hs.Close()
	})
	return &testServer{io: io, url: hs.URL, c: c}
}

// metrics are the families of one scrape.
type metrics map[string]*dto.MetricFamily

// scrape reads url's /metrics over HTTP, in the text format.
func scrape(t *testing.T, url string) metrics {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("scrape: %s\n%s", res.Status, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return fams
}

// get returns the value of the series of name with exactly these labels
// (name=value pairs): a counter's or gauge's value, a histogram's count.
// ok is false when there is no such series.
func (m metrics) get(name string, labels ...string) (v float64, ok bool) {
	f := m[name]
	if f == nil {
		return 0, false
	}
	want := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, s := range f.Metric {
		if len(s.Label) != len(want) {
			continue
		}
		match := true
		for _, l := range s.Label {
			if want[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case s.Counter != nil:
			return s.Counter.GetValue(), true
		case s.Gauge != nil:
			return s.Gauge.GetValue(), true
		case s.Histogram != nil:
			return float64(s.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// sum adds the values of every series of name.
func (m metrics) sum(name string) float64 {
	total := 0.0
	if f := m[name]; f != nil {
		for _, s := range f.Metric {
			switch {
			case s.Counter != nil:
				total += s.Counter.GetValue()
			case s.Gauge != nil:
				total += s.Gauge.GetValue()
			case s.Histogram != nil:
				total += float64(s.Histogram.GetSampleCount())
			}
		}
	}
	return total
}

// labelSets lists the label sets of name's series, as "k=v,k=v".
func (m metrics) labelSets(name string) []string {
	var out []string
	if f := m[name]; f != nil {
		for _, s := range f.Metric {
			var kv []string
			for _, l := range s.Label {
				kv = append(kv, l.GetName()+"="+l.GetValue())
			}
			out = append(out, strings.Join(kv, ","))
		}
	}
	slices.Sort(out)
	return out
}

// want is one expected series value.
type want struct {
	name   string
	labels []string
	value  float64
}

func (w want) String() string {
	return fmt.Sprintf("%s{%s} = %v", w.name, strings.Join(w.labels, ","), w.value)
}

// waitMetrics scrapes until every expected value is there (10 s at most)
// and returns the last scrape.
func waitMetrics(t *testing.T, url string, wants ...want) metrics {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := scrape(t, url)
		var bad []string
		for _, w := range wants {
			if v, ok := m.get(w.name, w.labels...); !ok || v != w.value {
				bad = append(bad, fmt.Sprintf("%v (got %v, present %v)", w, v, ok))
			}
		}
		if len(bad) == 0 {
			return m
		}
		if time.Now().After(deadline) {
			seen := map[string]bool{}
			for _, w := range wants {
				if !seen[w.name] {
					seen[w.name] = true
					bad = append(bad, fmt.Sprintf("%s series: %q", w.name, m.labelSets(w.name)))
				}
			}
			t.Fatalf("metrics not as expected:\n  %s", strings.Join(bad, "\n  "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sizes counts what an independent observer sees, to compare with the
// collector's figures.
type sizes struct {
	mu    sync.Mutex
	count map[string]int
}

func (s *sizes) add(k string, n int) {
	s.mu.Lock()
	s.count[k] += n
	s.mu.Unlock()
}

func (s *sizes) get(k string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[k]
}

// stalledClient opens a Socket.IO session over a raw WebSocket, joins the
// main namespace, and then never reads again, as a client that cannot
// keep up.
func stalledClient(t *testing.T, base string) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(c, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	status, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 101") {
		t.Fatalf("upgrade: %q %v", status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	readFrame := func() string {
		h := make([]byte, 2)
		if _, err := io.ReadFull(r, h); err != nil {
			t.Fatal(err)
		}
		n := int(h[1] & 0x7f)
		if n >= 126 {
			t.Fatalf("unexpected long frame during the handshake")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(r, p); err != nil {
			t.Fatal(err)
		}
		return string(p)
	}
	if p := readFrame(); !strings.HasPrefix(p, "0{") {
		t.Fatalf("open packet %q", p)
	}
	// "40", masked with a zero key.
	if _, err := c.Write([]byte{0x81, 0x82, 0, 0, 0, 0, '4', '0'}); err != nil {
		t.Fatal(err)
	}
	if p := readFrame(); !strings.HasPrefix(p, "40") {
		t.Fatalf("connect reply %q", p)
	}
	_ = c.SetDeadline(time.Time{})
	return c
}
