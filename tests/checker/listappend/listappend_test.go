package listappend

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

const (
	ok   = history.Ok
	fail = history.Fail
	info = history.Info
)

var (
	app = history.Append
	rd  = history.Read
)

// tx is a txn by process p over [inv, done].
func tx(p int, inv, done int64, st history.Status, mops ...history.Mop) history.Op {
	return history.Op{Process: p, InvokeNs: inv, CompleteNs: done, Status: st, F: history.FTxn, Mops: mops}
}

func number(ops []history.Op) []history.Op {
	for i := range ops {
		ops[i].ID = i
	}
	return ops
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		process bool // Config.ProcessOrder
		ops     []history.Op
		want    map[Class]int
	}{
		{name: "empty"},
		{name: "serial", ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1)),
			tx(0, 20, 30, ok, rd("x", 1), app("x", 2), rd("x", 1, 2)),
			tx(1, 40, 50, ok, rd("x", 1, 2), rd("y")),
		}},
		{name: "concurrent stale read is serializable", ops: []history.Op{
			tx(0, 0, 30, ok, app("x", 1)),
			tx(1, 10, 40, ok, rd("x")),
			tx(2, 50, 60, ok, rd("x", 1)),
		}},
		{name: "info txn observed and not", ops: []history.Op{
			tx(0, 0, 10, info, app("x", 1)),
			tx(1, 0, 10, info, app("y", 1)),
			tx(2, 20, 30, ok, rd("x", 1), rd("y")),
		}},
		{name: "failed txn unobserved", ops: []history.Op{
			tx(0, 0, 10, fail, app("x", 1)),
			tx(1, 20, 30, ok, rd("x")),
		}},
		{name: "nemesis events skipped", ops: []history.Op{
			{Process: history.NemesisProcess, F: "kill", Status: ok},
			tx(0, 0, 10, ok, app("x", 1)),
		}},

		{name: "G0 write cycle", want: map[Class]int{G0: 1}, ops: []history.Op{
			tx(0, 0, 100, ok, app("x", 1), app("y", 1)),
			tx(1, 0, 100, ok, app("x", 2), app("y", 2)),
			tx(2, 0, 100, ok, rd("x", 1, 2), rd("y", 2, 1)),
		}},
		{name: "G1a aborted read", want: map[Class]int{G1a: 1}, ops: []history.Op{
			tx(0, 0, 10, fail, app("x", 1)),
			tx(1, 20, 30, ok, rd("x", 1)),
		}},
		{name: "G1b intermediate read", want: map[Class]int{G1b: 1}, ops: []history.Op{
			tx(0, 0, 100, ok, app("x", 1), app("x", 2)),
			tx(1, 0, 100, ok, rd("x", 1)),
		}},
		// The example in Elle's README: T2 -wr(y)-> T1 -ww(x)-> T2.
		{name: "G1c Elle README", want: map[Class]int{G1c: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1), rd("y", 1)),
			tx(1, 0, 10, ok, app("x", 2), app("y", 1)),
			tx(2, 0, 10, ok, rd("x", 1, 2)),
		}},
		{name: "G1c mutual observation", want: map[Class]int{G1c: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1), rd("y", 1)),
			tx(1, 0, 10, ok, app("y", 1), rd("x", 1)),
		}},
		{name: "G-single read skew", want: map[Class]int{GSingle: 1}, ops: []history.Op{
			tx(0, 0, 100, ok, rd("x"), rd("y", 1)),
			tx(1, 0, 100, ok, app("x", 1), app("y", 1)),
			tx(2, 0, 100, ok, rd("x", 1)),
		}},
		{name: "G-single with observed info txn", want: map[Class]int{GSingle: 1}, ops: []history.Op{
			tx(0, 0, 100, info, app("x", 1), app("y", 1)),
			tx(1, 0, 100, ok, rd("x", 1), rd("y")),
			tx(2, 0, 100, ok, rd("y", 1)),
		}},
		{name: "G2-item write skew", want: map[Class]int{G2Item: 1}, ops: []history.Op{
			tx(0, 0, 100, ok, rd("x"), app("y", 1)),
			tx(1, 0, 100, ok, rd("y"), app("x", 1)),
			tx(2, 0, 100, ok, rd("x", 1), rd("y", 1)),
		}},
		{name: "internal own append missing", want: map[Class]int{Internal: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1), rd("x")),
		}},
		// Elle also sees the two reads as a G-single cycle.
		{name: "internal non-repeatable read", want: map[Class]int{Internal: 1, GSingle: 1}, ops: []history.Op{
			tx(0, 0, 100, ok, app("x", 1)),
			tx(1, 0, 100, ok, app("x", 2)),
			tx(2, 0, 100, ok, rd("x", 1), rd("x", 1, 2)),
		}},
		{name: "garbage read", want: map[Class]int{GarbageRead: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, rd("x", 9)),
		}},
		{name: "duplicate append", want: map[Class]int{DuplicateAppend: 1}, ops: []history.Op{
			tx(0, 0, 100, ok, app("x", 1)),
			tx(1, 0, 100, ok, rd("x", 1, 1)),
		}},
		{name: "incompatible order", want: map[Class]int{IncompatibleOrder: 1}, ops: []history.Op{
			tx(0, 0, 100, ok, app("x", 1)),
			tx(1, 0, 100, ok, app("x", 2)),
			tx(2, 0, 100, ok, rd("x", 1, 2)),
			tx(3, 0, 100, ok, rd("x", 2, 1)),
		}},
		{name: "lost append", want: map[Class]int{LostAppend: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1)),
			tx(1, 20, 30, ok, app("x", 2)),
			tx(2, 40, 50, ok, rd("x", 2)),
		}},
		{name: "G0-realtime", want: map[Class]int{G0Realtime: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1)),
			tx(1, 20, 30, ok, app("x", 2)),
			tx(2, 40, 50, ok, rd("x", 2, 1)),
		}},
		{name: "G1c-realtime future read", want: map[Class]int{G1cRealtime: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, rd("y", 1)),
			tx(1, 20, 30, ok, app("y", 1)),
		}},
		{name: "G-single-realtime stale read", want: map[Class]int{GSingleRealtime: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1)),
			tx(1, 20, 30, ok, rd("x")),
			tx(2, 40, 50, ok, rd("x", 1)),
		}},
		{name: "G2-item-realtime", want: map[Class]int{G2ItemRealtime: 1}, ops: []history.Op{
			// T0 -rw-> T1 (x), T1 -rw-> T2 (y), T2 -rt-> T0.
			tx(0, 20, 30, ok, rd("x")),
			tx(1, 0, 100, ok, rd("y"), app("x", 1)),
			tx(2, 0, 10, ok, app("y", 1)),
			tx(3, 200, 210, ok, rd("x", 1), rd("y", 1)),
		}},
		{name: "info txn has no outgoing realtime edge", ops: []history.Op{
			tx(0, 0, 10, info, app("x", 1)),
			tx(1, 20, 30, ok, rd("x")),
			tx(2, 40, 50, ok, rd("x", 1)),
		}},
		{name: "stale read in one process, realtime", want: map[Class]int{GSingleRealtime: 1}, ops: []history.Op{
			tx(0, 0, 10, ok, app("x", 1)),
			tx(0, 20, 30, ok, rd("x")),
			tx(1, 40, 50, ok, rd("x", 1)),
		}},
		{name: "stale read in one process, process order", process: true, want: map[Class]int{GSingleProcess: 1},
			ops: []history.Op{
				tx(0, 0, 10, ok, app("x", 1)),
				tx(0, 20, 30, ok, rd("x")),
				tx(1, 40, 50, ok, rd("x", 1)),
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Check(number(tc.ops), Config{ProcessOrder: tc.process})
			if err != nil {
				t.Fatal(err)
			}
			for c, n := range res.Counts {
				if n != tc.want[c] {
					t.Errorf("%s: got %d, want %d", c, n, tc.want[c])
				}
			}
			for c, n := range tc.want {
				if res.Counts[c] != n {
					t.Errorf("%s: got %d, want %d", c, res.Counts[c], n)
				}
			}
			wantSer, wantStrict := verdicts(tc.want)
			if res.Serializable() != wantSer || res.StrictSerializable() != wantStrict {
				t.Errorf("serializable=%t strict=%t, want %t %t", res.Serializable(), res.StrictSerializable(),
					wantSer, wantStrict)
			}
			if t.Failed() {
				t.Log(res)
			}
		})
	}
}

func verdicts(want map[Class]int) (ser, strict bool) {
	ser, strict = true, true
	for c := range want {
		switch {
		case strings.HasSuffix(string(c), "-realtime"), strings.HasSuffix(string(c), "-process"), c == LostAppend:
			strict = false
		default:
			ser, strict = false, false
		}
	}
	return ser, strict
}

func TestExplanation(t *testing.T) {
	// Elle's README example, explained as Elle does.
	res, err := Check(number([]history.Op{
		tx(0, 0, 10, ok, app("x", 1), rd("y", 1)),
		tx(1, 0, 10, ok, app("x", 2), app("y", 1)),
		tx(2, 0, 10, ok, rd("x", 1, 2)),
	}), Config{})
	if err != nil {
		t.Fatal(err)
	}
	const want = `Let:
  T1 = op 0 (process 0, ok, 0..10): [append "x" 1] [read "y" [1]]
  T2 = op 1 (process 1, ok, 0..10): [append "x" 2] [append "y" 1]
Then:
  - T1 < T2, because T2 appended 2 after T1 appended 1 to "x".
  - However, T2 < T1, because T1 observed T2's append of 1 to "y": a contradiction!
(SCC of 2 txns)`
	if len(res.Anomalies) != 1 || res.Anomalies[0].Explanation != want {
		t.Fatalf("got:\n%s\nwant:\n%s", res, want)
	}
	res, err = Check(number([]history.Op{
		tx(0, 0, 10, ok, app("x", 1)),
		tx(1, 20, 30, ok, rd("x")),
		tx(2, 40, 50, ok, rd("x", 1)),
	}), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.String(); !strings.Contains(s, "T2 completed at 10, before T1 was invoked at 20") ||
		!strings.Contains(s, "did not observe") {
		t.Fatalf("realtime explanation:\n%s", s)
	}
}

func TestCheckErrors(t *testing.T) {
	for name, ops := range map[string][]history.Op{
		"duplicate append": {tx(0, 0, 10, ok, app("x", 1)), tx(1, 0, 10, fail, app("x", 1))},
		"not a txn":        {{F: history.FRead, Status: ok}},
		"bad mop":          {tx(0, 0, 10, ok, history.Mop{F: "incr", Key: "x"})},
		"bad status":       {tx(0, 0, 10, 0, app("x", 1))},
		"time reversed":    {tx(0, 10, 0, ok, app("x", 1))},
	} {
		if _, err := Check(number(ops), Config{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMaxExamples(t *testing.T) {
	var ops []history.Op
	for i := 0; i < 20; i++ {
		ops = append(ops, tx(i, 0, 10, ok, rd(fmt.Sprint("k", i), int64(100+i))))
	}
	res, err := Check(number(ops), Config{MaxExamples: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts[GarbageRead] != 20 || len(res.Anomalies) != 3 {
		t.Fatalf("counts %v, %d examples", res.Counts, len(res.Anomalies))
	}
}
