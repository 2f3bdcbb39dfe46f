package sets

import (
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

const (
	ok   = history.Ok
	fail = history.Fail
	info = history.Info
)

func add(id int, call, ret int64, st history.Status, e int64) history.Op {
	return history.Op{ID: id, Process: id, InvokeNs: call, CompleteNs: ret, Status: st, F: history.FAdd, Element: e}
}

func read(id int, call, ret int64, elems ...int64) history.Op {
	return history.Op{ID: id, Process: 100, InvokeNs: call, CompleteNs: ret, Status: ok, F: history.FRead, Elements: elems}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ops       []history.Op
		want      map[Class]int
		recovered int
	}{
		{"all present", []history.Op{add(0, 0, 10, ok, 1), add(1, 5, 15, ok, 2), read(2, 20, 30, 2, 1)}, nil, 0},
		{"info add absent", []history.Op{add(0, 0, 10, ok, 1), add(1, 0, 10, info, 2), read(2, 20, 30, 1)}, nil, 0},
		{"info add recovered", []history.Op{add(0, 0, 10, info, 1), read(1, 20, 30, 1)}, nil, 1},
		{"concurrent ok add absent", []history.Op{add(0, 0, 25, ok, 1), read(1, 20, 30)}, nil, 0},
		{"failed add absent", []history.Op{add(0, 0, 10, fail, 1), read(1, 20, 30)}, nil, 0},
		{"nemesis skipped", []history.Op{{Process: history.NemesisProcess, F: "kill", Status: ok}, read(1, 20, 30)}, nil, 0},

		{"lost ack", []history.Op{add(0, 0, 10, ok, 1), add(1, 0, 10, ok, 2), read(2, 20, 30, 2)},
			map[Class]int{Lost: 1}, 0},
		{"never added", []history.Op{add(0, 0, 10, ok, 1), read(1, 20, 30, 1, 7)}, map[Class]int{Unexpected: 1}, 0},
		{"failed add present", []history.Op{add(0, 0, 10, fail, 1), read(1, 20, 30, 1)}, map[Class]int{Unexpected: 1}, 0},
		{"added after the read", []history.Op{read(0, 0, 10, 1), add(1, 20, 30, ok, 1), read(2, 40, 50, 1)},
			map[Class]int{Unexpected: 1}, 0},
		{"duplicate", []history.Op{add(0, 0, 10, ok, 1), read(1, 20, 30, 1, 1)}, map[Class]int{Duplicate: 1}, 0},
		{"no final read", []history.Op{add(0, 0, 10, ok, 1)}, map[Class]int{NoFinalRead: 1}, 0},
		{"earlier read does not count as final", []history.Op{
			read(0, 0, 5), add(1, 0, 10, ok, 1), read(2, 20, 30, 1), read(3, 40, 50)}, map[Class]int{Lost: 1}, 0},
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
			if res.Valid() != (len(tc.want) == 0) || res.Recovered != tc.recovered {
				t.Errorf("valid=%t recovered=%d\n%s", res.Valid(), res.Recovered, res)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, ops := range [][]history.Op{
		{add(0, 0, 10, ok, 1), add(1, 0, 10, ok, 1)},
		{{F: "cas", Status: ok}},
		{{F: history.FAdd}},
	} {
		if _, err := Check(ops); err == nil {
			t.Errorf("%v: no error", ops)
		}
	}
}
