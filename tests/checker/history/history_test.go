package history

import (
	"bytes"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
)

// tickClock returns a clock that advances by 10ns per reading.
func tickClock() func() int64 {
	var t atomic.Int64
	return func() int64 { return t.Add(10) }
}

func TestStatusText(t *testing.T) {
	for _, tc := range []struct {
		s    Status
		text string
	}{{Ok, "ok"}, {Fail, "fail"}, {Info, "info"}} {
		b, err := tc.s.MarshalText()
		if err != nil || string(b) != tc.text {
			t.Fatalf("MarshalText(%d) = %q, %v; want %q", tc.s, b, err, tc.text)
		}
		var got Status
		if err := got.UnmarshalText(b); err != nil || got != tc.s {
			t.Fatalf("UnmarshalText(%q) = %v, %v", b, got, err)
		}
	}
	if _, err := Status(0).MarshalText(); err == nil {
		t.Fatal("zero status marshalled")
	}
	var s Status
	if err := s.UnmarshalText([]byte("maybe")); err == nil {
		t.Fatal("bad status unmarshalled")
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	ops := []Op{
		{ID: 0, Process: 1, InvokeNs: 5, CompleteNs: 9, Status: Ok, F: FWrite, Key: "k", Value: "v"},
		{ID: 1, Process: 2, InvokeNs: 6, CompleteNs: Never, Status: Info, F: FCAS, Key: "k", Value: "w", Expected: "v"},
		{ID: 2, Process: 3, InvokeNs: 7, CompleteNs: 10, Status: Ok, F: FTxn,
			Mops: []Mop{Append("x", 1), Read("y", 1, 2)}},
		{ID: 3, Process: 4, InvokeNs: 8, CompleteNs: 11, Status: Fail, F: FTransfer,
			Transfer: &Transfer{From: "a", To: "b", Amount: 3}, Error: "conflict"},
		{ID: 4, Process: 5, InvokeNs: 9, CompleteNs: 12, Status: Ok, F: FRead,
			Balances: map[string]int64{"a": 1, "b": 0}},
		{ID: 5, Process: 6, InvokeNs: 10, CompleteNs: 13, Status: Ok, F: FAdd, Element: 7, Count: 3},
		{ID: 6, Process: 6, InvokeNs: 14, CompleteNs: 15, Status: Ok, F: FRead, Elements: []int64{7, 8},
			Rows: []Row{{Key: "ann", Element: 9}}},
		{ID: 7, Process: 7, InvokeNs: 14, CompleteNs: 15, Status: Ok, F: FInsert, Key: "ann", Element: 9, Swapped: true},
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, ops); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSONL(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ops) {
		t.Fatalf("round trip:\n got %v\nwant %v", got, ops)
	}
}

func TestReadFileErrors(t *testing.T) {
	path := t.TempDir() + "/h.jsonl"
	if err := WriteFile(path, []Op{{ID: 7, Status: Ok, F: FRead}}); err != nil {
		t.Fatal(err)
	}
	ops, err := ReadFile(path)
	if err != nil || len(ops) != 1 || ops[0].ID != 7 {
		t.Fatalf("ReadFile = %v, %v", ops, err)
	}
	if _, err := ReadJSONL(bytes.NewBufferString("{\"id\":1,\"status\":\"nope\"}\n")); err == nil {
		t.Fatal("bad line accepted")
	}
}

func TestRecorderNewProcessAfterInfo(t *testing.T) {
	r := NewRecorder(tickClock())
	p := r.NewProcess()
	seen := map[int]bool{p: true}
	for i, st := range []Status{Ok, Fail, Info, Ok, Info, Info, Fail} {
		op := r.Invoke(p, Op{F: FRead, Key: "k"})
		if op.ID != i || op.Process != p {
			t.Fatalf("op %d: got id %d process %d", i, op.ID, op.Process)
		}
		next := r.Complete(op, st)
		switch {
		case st != Info && next != p:
			t.Fatalf("op %d (%v): process changed %d -> %d", i, st, p, next)
		case st == Info && seen[next]:
			t.Fatalf("op %d (info): process %d reused", i, next)
		}
		seen[next] = true
		p = next
	}
	h := r.History()
	for i, op := range h {
		if op.CompleteNs <= op.InvokeNs || (i > 0 && op.InvokeNs <= h[i-1].CompleteNs) {
			t.Fatalf("bad timing %v", op)
		}
	}
}

func TestRecorderPendingIsInfo(t *testing.T) {
	r := NewRecorder(tickClock())
	p, q := r.NewProcess(), r.NewProcess()
	a := r.Invoke(p, Op{F: FWrite, Key: "k", Value: "1"})
	b := r.Invoke(q, Op{F: FWrite, Key: "k", Value: "2"})
	r.Complete(b, Ok)
	ev := r.Event(Op{F: "partition-start"})
	h := r.History()
	if len(h) != 3 || h[0].ID != a.ID || h[0].Status != Info || h[0].CompleteNs != Never {
		t.Fatalf("pending op not info: %v", h)
	}
	if h[2].Process != NemesisProcess || h[2].ID != ev.ID || h[2].Status != Ok {
		t.Fatalf("event: %v", h[2])
	}
}

func TestRecorderMisusePanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(r *Recorder)
	}{
		{"unallocated", func(r *Recorder) { r.Invoke(5, Op{}) }},
		{"two pending", func(r *Recorder) {
			p := r.NewProcess()
			r.Invoke(p, Op{})
			r.Invoke(p, Op{})
		}},
		{"retired", func(r *Recorder) {
			p := r.NewProcess()
			r.Complete(r.Invoke(p, Op{}), Info)
			r.Invoke(p, Op{})
		}},
		{"double complete", func(r *Recorder) {
			op := r.Invoke(r.NewProcess(), Op{})
			r.Complete(op, Ok)
			r.Complete(op, Ok)
		}},
		{"bad status", func(r *Recorder) { r.Complete(r.Invoke(r.NewProcess(), Op{}), 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.f(NewRecorder(tickClock()))
		})
	}
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder(tickClock())
	const workers, perWorker = 8, 200
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		p := r.NewProcess()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				st := []Status{Ok, Fail, Info}[i%3]
				p = r.Complete(r.Invoke(p, Op{F: FRead}), st)
			}
		}()
	}
	wg.Wait()
	h := r.History()
	if len(h) != workers*perWorker {
		t.Fatalf("got %d ops", len(h))
	}
	last := map[int]Op{}
	for i, op := range h {
		if op.ID != i {
			t.Fatalf("ids not dense: %d at %d", op.ID, i)
		}
		if prev, ok := last[op.Process]; ok && (prev.Status == Info || prev.CompleteNs > op.InvokeNs) {
			t.Fatalf("process %d not sequential or reused after info: %v then %v", op.Process, prev, op)
		}
		last[op.Process] = op
	}
}
