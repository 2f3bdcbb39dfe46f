package server

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		silent time.Duration
		want   string
	}{
		{0, Live},
		{3 * time.Second, Live},
		{4 * time.Second, Suspect},
		{time.Minute, Suspect},
		{5 * time.Minute, Dead},
	}
	for _, tc := range tests {
		if got := classify(tc.silent, 4*time.Second, 5*time.Minute); got != tc.want {
			t.Errorf("silent %v: %s, want %s", tc.silent, got, tc.want)
		}
	}
}

func TestTrackerCounterMustMove(t *testing.T) {
	tr := newLivenessTracker(Config{SuspectAfter: 4 * time.Second, TimeUntilDead: time.Minute})
	t0 := tr.start
	tr.observe(2, 5, t0)
	tr.observe(2, 5, t0.Add(3*time.Second)) // same counter: no news
	if st, _ := tr.status(2, t0.Add(5*time.Second)); st != Suspect {
		t.Fatalf("stalled counter: %s", st)
	}
	tr.observe(2, 6, t0.Add(5*time.Second))
	if st, c := tr.status(2, t0.Add(6*time.Second)); st != Live || c != 6 {
		t.Fatalf("moving counter: %s %d", st, c)
	}
	if st, _ := tr.status(9, t0.Add(2*time.Minute)); st != Dead {
		t.Fatalf("never seen node: %s", st)
	}
}
