package registration

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

func ins(id int, call, ret int64, st history.Status, name string) history.Op {
	return history.Op{ID: id, Process: id, InvokeNs: call, CompleteNs: ret, Status: st, F: history.FInsert,
		Key: name, Element: int64(100 + id)}
}

// final reads rows given as name, id pairs.
func final(id int, call int64, pairs ...any) history.Op {
	op := history.Op{ID: id, Process: 1000, InvokeNs: call, CompleteNs: call + 10, Status: ok, F: history.FRead}
	for i := 0; i < len(pairs); i += 2 {
		op.Rows = append(op.Rows, history.Row{Key: pairs[i].(string), Element: int64(pairs[i+1].(int))})
	}
	return op
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		ops       []history.Op
		want      map[Class]int
		recovered int
	}{
		{"one winner", []history.Op{
			ins(0, 0, 10, ok, "ann"), ins(1, 0, 20, fail, "ann"), ins(2, 0, 30, ok, "bob"), final(3, 100, "ann", 100, "bob", 102)}, nil, 0},
		{"info winner recovered", []history.Op{
			ins(0, 0, 10, info, "ann"), ins(1, 0, 20, fail, "ann"), final(2, 100, "ann", 100)}, nil, 1},
		{"info not applied", []history.Op{
			ins(0, 0, 10, info, "ann"), ins(1, 20, 30, ok, "ann"), final(2, 100, "ann", 101)}, nil, 0},
		{"concurrent ack may be absent", []history.Op{ins(0, 0, 110, ok, "ann"), final(1, 100)}, nil, 0},

		{"double registration", []history.Op{
			ins(0, 0, 10, ok, "ann"), ins(1, 0, 20, ok, "ann"), final(2, 100, "ann", 100)},
			map[Class]int{DoubleRegistration: 1, Lost: 1}, 0},
		{"two rows for a name", []history.Op{
			ins(0, 0, 10, ok, "ann"), ins(1, 0, 20, info, "ann"), final(2, 100, "ann", 100, "ann", 101)},
			map[Class]int{DuplicateRow: 1}, 1},
		{"lost registration", []history.Op{ins(0, 0, 10, ok, "ann"), final(1, 100)}, map[Class]int{Lost: 1}, 0},
		{"row of a failed insert", []history.Op{
			ins(0, 0, 10, fail, "ann"), final(1, 100, "ann", 100)}, map[Class]int{Unexpected: 1}, 0},
		{"acked row replaced by a failed one", []history.Op{
			ins(0, 0, 10, ok, "ann"), ins(1, 0, 20, fail, "ann"), final(2, 100, "ann", 101)},
			map[Class]int{Lost: 1, Unexpected: 1}, 0},
		{"row never inserted", []history.Op{final(0, 100, "eve", 7)}, map[Class]int{Unexpected: 1}, 0},
		{"row under another name", []history.Op{
			ins(0, 0, 10, info, "ann"), final(1, 100, "bob", 100)}, map[Class]int{Unexpected: 1}, 0},
		{"no final read", []history.Op{ins(0, 0, 10, ok, "ann")}, map[Class]int{NoFinalRead: 1}, 0},
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
			if !res.Valid() && !strings.Contains(res.String(), "name ") {
				t.Errorf("no explanation:\n%s", res)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	a := ins(0, 0, 10, ok, "ann")
	for _, ops := range [][]history.Op{
		{a, a},
		{{F: "cas", Status: ok}},
		{{F: history.FInsert}},
	} {
		if _, err := Check(ops); err == nil {
			t.Errorf("%v: no error", ops)
		}
	}
}
