package nemesis

import (
	"context"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/checker/history"
)

// countingNemesis counts injections and heals.
type countingNemesis struct {
	mu             sync.Mutex
	active, faults int
	overlap        bool
}

func (n *countingNemesis) Name() string { return "test" }

func (n *countingNemesis) Inject(context.Context, *Cluster, *rand.Rand) (*Fault, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.overlap = n.overlap || n.active > 0
	n.active++
	n.faults++
	return &Fault{Name: "test", Desc: "x", heal: func(context.Context) error {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.active--
		return nil
	}}, nil
}

// The schedule injects one fault at a time, records a start and an end per
// fault, leaves the tail quiet, and heals the fault in place when its
// context ends.
func TestSchedule(t *testing.T) {
	n := &countingNemesis{}
	rec := history.NewRecorder(func() int64 { return time.Now().UnixNano() })
	s := &Schedule{Nemeses: []Nemesis{n}, Seed: 1, Quiet: 40 * time.Millisecond, Hold: 40 * time.Millisecond,
		Tail: 100 * time.Millisecond, Event: rec.Event}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	faults, err := s.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > time.Second-50*time.Millisecond {
		t.Errorf("Run returned after %s: no quiet tail", time.Since(start))
	}
	if faults < 5 || faults != n.faults || n.active != 0 || n.overlap {
		t.Fatalf("faults %d (nemesis %d), active %d, overlap %v", faults, n.faults, n.active, n.overlap)
	}
	starts, ends := 0, 0
	for _, op := range rec.History() {
		switch op.F {
		case EventStart:
			starts++
		case EventEnd:
			ends++
		}
	}
	if starts != faults || ends != faults {
		t.Fatalf("%d starts, %d ends for %d faults", starts, ends, faults)
	}

	// A context that ends mid-hold: the fault is healed before Run returns.
	s = &Schedule{Nemeses: []Nemesis{n}, Seed: 2, Quiet: time.Millisecond, Hold: time.Hour}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer time.AfterFunc(100*time.Millisecond, cancel2).Stop()
	if faults, err := s.Run(ctx2); err != nil || faults != 1 || n.active != 0 {
		t.Fatalf("cut short: %d faults, %v, %d active", faults, err, n.active)
	}
}

// Recoveries: after each heal, the first ok operation invoked after it;
// ops invoked before the heal or not ok do not count.
func TestRecoveries(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	ops := []history.Op{
		{Process: history.NemesisProcess, F: EventStart, Value: "kill n1", InvokeNs: ms(10), Status: history.Ok},
		{Process: 0, InvokeNs: ms(5), CompleteNs: ms(25), Status: history.Ok}, // invoked before the heal
		{Process: history.NemesisProcess, F: EventEnd, Value: "kill n1", InvokeNs: ms(20), Status: history.Ok},
		{Process: 1, InvokeNs: ms(21), CompleteNs: ms(30), Status: history.Fail},
		{Process: 2, InvokeNs: ms(22), CompleteNs: ms(90), Status: history.Ok},
		{Process: 3, InvokeNs: ms(40), CompleteNs: ms(70), Status: history.Ok}, // the first ok
		{Process: history.NemesisProcess, F: EventStart, Value: "pause n2", InvokeNs: ms(100), Status: history.Ok},
		{Process: history.NemesisProcess, F: EventEnd, Value: "pause n2", InvokeNs: ms(200), Status: history.Ok},
	}
	got := Recoveries(ops)
	if len(got) != 2 || got[0].After != 50*time.Millisecond || got[0].Fault != "kill n1" || got[1].After != -1 {
		t.Fatalf("Recoveries = %+v", got)
	}
	sum := Summarize(ops)
	for _, want := range []string{"2 faults (kill 1, pause 1)", "max 0.1 s", "1 heals never followed by an ok operation"} {
		if !strings.Contains(sum, want) {
			t.Errorf("Summarize = %q, want %q in it", sum, want)
		}
	}
}

// The throughput recovery: the first 1 s window after the heal with half
// the ok rate of the 5 s before the fault.
func TestRecoveryThroughput(t *testing.T) {
	ms := func(n int64) int64 { return n * int64(time.Millisecond) }
	var ops []history.Op
	okAt := func(at int64) {
		ops = append(ops, history.Op{Process: 0, InvokeNs: ms(at) - 1, CompleteNs: ms(at), Status: history.Ok})
	}
	for at := int64(0); at < 5000; at += 100 {
		okAt(at) // 10 ok/s
	}
	ops = append(ops, history.Op{Process: history.NemesisProcess, F: EventStart, Value: "partition x", InvokeNs: ms(5000)})
	ops = append(ops, history.Op{Process: history.NemesisProcess, F: EventEnd, Value: "partition x", InvokeNs: ms(8000)})
	for at := int64(9000); at < 12000; at += 100 {
		okAt(at)
	}
	got := Recoveries(ops)
	if len(got) != 1 || got[0].After != time.Second || got[0].Throughput != 500*time.Millisecond {
		t.Fatalf("Recoveries = %+v", got)
	}
}
