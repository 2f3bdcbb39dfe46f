package sequential

import (
	"strings"
	"testing"

	"github.com/ordodb/ordo/tests/checker/history"
)

func read(id int, key string, st history.Status, subkeys ...int64) history.Op {
	return history.Op{ID: id, Process: id, F: history.FRead, Key: key, Status: st, Elements: subkeys}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  []history.Op
		bad  int
		err  string
	}{
		{name: "empty"},
		{name: "prefixes are fine", ops: []history.Op{
			{ID: 0, F: history.FWrite, Key: "1", Status: history.Ok},
			read(1, "1", history.Ok), read(2, "1", history.Ok, 0), read(3, "1", history.Ok, 0, 1, 2, 3, 4),
			read(4, "1", history.Ok, 2, 1, 0),
		}},
		{name: "a trailing nil", ops: []history.Op{read(1, "1", history.Ok, 2)}, bad: 1},
		{name: "a gap", ops: []history.Op{read(1, "7", history.Ok, 0, 1, 3), read(2, "7", history.Ok, 0, 1)}, bad: 1},
		{name: "reads not ok are not judged", ops: []history.Op{read(1, "1", history.Info, 4), read(2, "1", history.Fail, 3)}},
		{name: "nemesis events are skipped", ops: []history.Op{{Process: history.NemesisProcess, F: "nemesis-start"}}},
		{name: "unknown f", ops: []history.Op{{ID: 3, F: "txn"}}, err: "unknown f"},
		{name: "negative subkey", ops: []history.Op{read(1, "1", history.Ok, -1)}, err: "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Check(tc.ops)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Bad != tc.bad || r.Valid() != (tc.bad == 0) {
				t.Fatalf("bad %d (valid %v), want %d: %s", r.Bad, r.Valid(), tc.bad, r)
			}
			if tc.bad > 0 && !strings.Contains(r.String(), "but not") {
				t.Errorf("explanation %q", r.String())
			}
		})
	}
}
