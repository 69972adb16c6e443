package client

import (
	"testing"
	"time"
)

// TestBackoff checks the delays against the JavaScript formula
// (protocol.md §5.3), with an injected random source.
func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		jitter float64
		r      float64
		want   []time.Duration
	}{
		{"no jitter (r=0: floor(r*10)=0 is even, dev=0)", 0.5, 0, []time.Duration{1000 * ms, 2000 * ms, 4000 * ms, 5000 * ms, 5000 * ms}},
		{"r=0.25: even, minus", 0.5, 0.25, []time.Duration{875 * ms, 1750 * ms, 3500 * ms, 5000 * ms, 5000 * ms}},
		{"r=0.15: odd, plus; capped after the jitter", 0.5, 0.15, []time.Duration{1075 * ms, 2150 * ms, 4300 * ms, 5000 * ms, 5000 * ms}},
		{"r=0.99: odd, plus, largest", 0.5, 0.99, []time.Duration{1495 * ms, 2990 * ms, 5000 * ms, 5000 * ms}},
		{"r=0.8: even, minus; 4th below the cap", 0.5, 0.8, []time.Duration{600 * ms, 1200 * ms, 2400 * ms, 4800 * ms, 5000 * ms}},
		{"jitter disabled (negative factor)", -1, 0.99, []time.Duration{1000 * ms, 2000 * ms, 4000 * ms, 5000 * ms}},
		{"factor above 1 disables the jitter", 1.5, 0.99, []time.Duration{1000 * ms, 2000 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := backoff{min: time.Second, max: 5 * time.Second, jitter: tt.jitter, rand: func() float64 { return tt.r }}
			for i, want := range tt.want {
				if got := b.duration(); got != want {
					t.Fatalf("delay %d = %v, want %v", i+1, got, want)
				}
			}
			if b.attempts != len(tt.want) {
				t.Fatalf("attempts = %d", b.attempts)
			}
			b.reset()
			if got := b.duration(); got != tt.want[0] {
				t.Fatalf("after reset: %v", got)
			}
		})
	}
}

// TestBackoffBounds checks the documented ranges with the default options
// over many random draws: 1st retry 500-1500 ms, 2nd 1000-3000, 3rd
// 2000-5000, then at most 5000.
func TestBackoffBounds(t *testing.T) {
	o, _, _, _, err := resolve("http://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	bounds := [][2]time.Duration{{500, 1500}, {1000, 3000}, {2000, 5000}, {4000, 5000}, {5000, 5000}}
	for range 1000 {
		b := backoff{min: o.ReconnectionDelay, max: o.ReconnectionDelayMax, jitter: o.RandomizationFactor, rand: o.Rand}
		for i, bd := range bounds {
			d := b.duration()
			if d < bd[0]*time.Millisecond || d > bd[1]*time.Millisecond {
				t.Fatalf("retry %d: %v outside %v", i+1, d, bd)
			}
		}
	}
}
