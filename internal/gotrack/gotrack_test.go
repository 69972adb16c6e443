package gotrack

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestSerialOrderAndTracker(t *testing.T) {
	var tr Tracker
	s := Serial{T: &tr}
	var got []int
	release, started := make(chan struct{}), make(chan struct{})
	s.Push(func() { close(started); <-release })
	<-started // the first task runs; the next ones queue
	for i := range 100 {
		s.Push(func() { got = append(got, i) })
	}
	if s.Len() != 100 {
		t.Fatalf("Len %d", s.Len())
	}
	close(release)
	tr.Wait()
	for i, v := range got {
		if v != i {
			t.Fatalf("task %d ran as %d", i, v)
		}
	}
	if len(got) != 100 {
		t.Fatalf("%d tasks ran", len(got))
	}

	var ran atomic.Int32
	block := make(chan struct{})
	s.Push(func() { <-block })
	s.Push(func() { ran.Add(1) })
	s.Drop()
	close(block)
	tr.Wait()
	if ran.Load() != 0 {
		t.Fatal("a dropped task ran")
	}

	tr.Close()
	if tr.Go(func() {}) {
		t.Fatal("Go after Close")
	}
	done := make(chan struct{})
	go func() { tr.Run(func() { t.Error("Run after Close") }); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("Run blocked")
	}
}
