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

func TestIdleAndBusy(t *testing.T) {
	var tr Tracker
	select {
	case <-tr.Idle():
	default:
		t.Fatal("an empty tracker is not idle")
	}
	s := Serial{T: &tr}
	release := make(chan struct{})
	s.Push(func() { <-release })
	if !s.Busy() {
		t.Fatal("not busy while a task runs")
	}
	idle := tr.Idle()
	select {
	case <-idle:
		t.Fatal("idle while a task runs")
	case <-time.After(10 * time.Millisecond):
	}
	close(release)
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Fatal("not idle after the task")
	}
	if s.Busy() {
		t.Fatal("busy after the task")
	}
}
