package comments

import (
	"strings"
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

const (
	ok   = history.Ok
	fail = history.Fail
	info = history.Info
)

func w(id int, call, ret int64, st history.Status) history.Op {
	return history.Op{ID: id, Process: id, InvokeNs: call, CompleteNs: ret, Status: st, F: history.FInsert, Element: int64(id)}
}

func r(id int, call, ret int64, elems ...int64) history.Op {
	return history.Op{ID: id, Process: 100 + id, InvokeNs: call, CompleteNs: ret, Status: ok, F: history.FRead, Elements: elems}
}

func keyed(op history.Op, k string) history.Op {
	op.Key = k
	return op
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []history.Op
		want map[Class]int
	}{
		{"sees all", []history.Op{w(1, 0, 10, ok), w(2, 20, 30, ok), r(3, 40, 50, 2, 1)}, nil},
		{"concurrent writes either way", []history.Op{w(1, 0, 100, ok), w(2, 0, 100, ok), r(3, 40, 50, 2)}, nil},
		{"sees the later of two overlapping", []history.Op{w(1, 0, 30, ok), w(2, 20, 100, ok), r(3, 25, 50, 2)}, nil},
		{"info write either way", []history.Op{w(1, 0, 10, info), r(2, 40, 50), r(3, 60, 70, 1)}, nil},
		{"empty read before writes", []history.Op{r(1, 0, 5), w(2, 10, 20, ok)}, nil},

		{"saw later write without earlier", []history.Op{w(1, 0, 10, ok), w(2, 20, 100, ok), r(3, 5, 50, 2)},
			map[Class]int{Missing: 1}},
		{"stale read", []history.Op{w(1, 0, 10, ok), r(2, 20, 30)}, map[Class]int{Stale: 1}},
		{"failed write seen", []history.Op{w(1, 0, 10, fail), r(2, 20, 30, 1)}, map[Class]int{Unexpected: 1}},
		{"never written", []history.Op{r(1, 20, 30, 9)}, map[Class]int{Unexpected: 1}},
		{"write from the future", []history.Op{r(1, 0, 10, 2), w(2, 20, 30, ok)}, map[Class]int{Unexpected: 1}},
		{"duplicate", []history.Op{w(1, 0, 10, ok), r(2, 20, 30, 1, 1)}, map[Class]int{Duplicate: 1}},
		{"keys independent", []history.Op{w(1, 0, 10, ok), keyed(w(2, 0, 10, ok), "k2"), keyed(r(3, 20, 30, 2), "k2")}, nil},
		{"id of another key", []history.Op{keyed(w(1, 0, 10, ok), "k2"), r(2, 20, 30, 1)}, map[Class]int{Unexpected: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Check(tc.ops)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range Classes {
				if res.Counts[c] != tc.want[c] {
					t.Errorf("%s: got %d, want %d\n%s", c, res.Counts[c], tc.want[c], res)
				}
			}
			if res.Valid() != (len(tc.want) == 0) {
				t.Errorf("valid=%t\n%s", res.Valid(), res)
			}
			if !res.Valid() && !strings.Contains(res.String(), "op ") {
				t.Errorf("no explanation:\n%s", res)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, ops := range [][]history.Op{
		{w(1, 0, 10, ok), w(1, 0, 10, ok)},
		{{F: "cas", Status: ok}},
		{{F: history.FRead}},
	} {
		if _, err := Check(ops); err == nil {
			t.Errorf("%v: no error", ops)
		}
	}
}
