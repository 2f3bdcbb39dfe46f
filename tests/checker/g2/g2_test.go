package g2

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

// ins is an attempt on table for key k; inserted says whether it found the
// predicate empty (meaningful for ok only).
func ins(id int, call, ret int64, st history.Status, k int64, table string, inserted bool) history.Op {
	return history.Op{ID: id, Process: id, InvokeNs: call, CompleteNs: ret, Status: st, F: history.FInsert,
		Element: k, Value: table, Swapped: inserted}
}

func final(id int, call int64, rows ...history.Row) history.Op {
	return history.Op{ID: id, Process: 100, InvokeNs: call, CompleteNs: call + 10, Status: ok, F: history.FRead, Rows: rows}
}

func row(table string, k int64) history.Row { return history.Row{Key: table, Element: k} }

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []history.Op
		want map[Class]int
	}{
		{"one inserts, other skips", []history.Op{
			ins(0, 0, 10, ok, 1, "a", true), ins(1, 0, 20, ok, 1, "b", false), final(2, 100, row("a", 1))}, nil},
		{"one inserts, other aborts", []history.Op{
			ins(0, 0, 10, fail, 1, "a", false), ins(1, 0, 20, ok, 1, "b", true), final(2, 100, row("b", 1))}, nil},
		{"info insert present", []history.Op{
			ins(0, 0, 10, info, 1, "a", false), ins(1, 0, 20, fail, 1, "b", false), final(2, 100, row("a", 1))}, nil},
		{"info insert absent", []history.Op{
			ins(0, 0, 10, info, 1, "a", false), ins(1, 0, 20, fail, 1, "b", false), final(2, 100)}, nil},
		{"both abort", []history.Op{
			ins(0, 0, 10, fail, 1, "a", false), ins(1, 0, 20, fail, 1, "b", false), final(2, 100)}, nil},
		{"keys independent", []history.Op{
			ins(0, 0, 10, ok, 1, "a", true), ins(1, 0, 20, ok, 2, "b", true), final(2, 100, row("a", 1), row("b", 2))}, nil},

		{"both committed inserts", []history.Op{
			ins(0, 0, 10, ok, 1, "a", true), ins(1, 0, 20, ok, 1, "b", true), final(2, 100, row("a", 1), row("b", 1))},
			map[Class]int{G2: 1}},
		{"both committed, one was info", []history.Op{
			ins(0, 0, 10, ok, 1, "a", true), ins(1, 0, 20, info, 1, "b", false), final(2, 100, row("a", 1), row("b", 1))},
			map[Class]int{G2: 1}},
		{"lost insert", []history.Op{
			ins(0, 0, 10, ok, 1, "a", true), ins(1, 0, 20, ok, 1, "b", false), final(2, 100)},
			map[Class]int{Lost: 1}},
		{"row of a failed insert", []history.Op{
			ins(0, 0, 10, fail, 1, "a", false), ins(1, 0, 20, fail, 1, "b", false), final(2, 100, row("b", 1))},
			map[Class]int{Unexpected: 1}},
		{"row of a skipping transaction", []history.Op{
			ins(0, 0, 10, ok, 1, "a", true), ins(1, 0, 20, ok, 1, "b", false), final(2, 100, row("a", 1), row("b", 1))},
			map[Class]int{G2: 1, Unexpected: 1}},
		{"row never attempted", []history.Op{final(0, 100, row("a", 9))}, map[Class]int{Unexpected: 1}},
		{"no final read", []history.Op{ins(0, 0, 10, ok, 1, "a", true)}, map[Class]int{NoFinalRead: 1}},
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
			if !res.Valid() && !strings.Contains(res.String(), "key ") {
				t.Errorf("no explanation:\n%s", res)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	for _, ops := range [][]history.Op{
		{ins(0, 0, 10, ok, 1, "a", true), ins(1, 0, 10, ok, 1, "a", true)},
		{{F: "cas", Status: ok}},
		{{F: history.FInsert}},
	} {
		if _, err := Check(ops); err == nil {
			t.Errorf("%v: no error", ops)
		}
	}
}
