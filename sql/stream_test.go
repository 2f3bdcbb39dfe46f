package sql

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/types"
)

// countingWriter counts rows and whether they came before the command
// tag, and may call a function at the nth row.
type countingWriter struct {
	recorder
	rows     int
	started  int // rows written when StartResult came
	tag      string
	atRow    int
	onRow    func()
	firstRow string
}

func (w *countingWriter) WriteRow(vals [][]byte) error {
	w.rows++
	if w.rows == 1 {
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = string(v)
		}
		w.firstRow = strings.Join(parts, "|")
	}
	if w.onRow != nil && w.rows == w.atRow {
		w.onRow()
	}
	return nil
}

func (w *countingWriter) StartResult([]pgwirebase.Column) error { w.started = w.rows; return nil }
func (w *countingWriter) Complete(tag string) error             { w.tag = tag; return nil }

// TestStreamingResults: a SELECT over a table scan (or generate_series)
// with no sort, grouping or DISTINCT sends its rows as it reads them, so a
// result far larger than sql.query.memory_budget arrives whole, through
// the simple and the extended protocol; LIMIT/OFFSET and filters apply;
// operators that must hold their rows still fail with 53200.
func TestStreamingResults(t *testing.T) {
	budget := int64(0)
	s := newBudgetSession(t, &budget)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE big (k INT PRIMARY KEY, s TEXT)`,
		`INSERT INTO big SELECT g, repeat('x', 200) || g FROM generate_series(1, 20000) g`,
	} {
		if err := s.Query(ctx, q, &recorder{}); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	budget = 1 << 20 // the table is about 5 MiB
	for _, tc := range []struct {
		q     string
		rows  int
		first string
	}{
		{`SELECT * FROM big`, 20000, "1|" + strings.Repeat("x", 200) + "1"},
		{`SELECT k, length(s) FROM big WHERE k % 2 = 0`, 10000, "2|201"},
		{`SELECT k FROM big WHERE k > 100 LIMIT 5000 OFFSET 10`, 5000, "111"},
		{`SELECT k FROM big WHERE s LIKE '%7' LIMIT 3000`, 2000, "7"},
		{`SELECT g FROM generate_series(1, 50000) g`, 50000, "1"},
		{`SELECT k FROM big LIMIT 0`, 0, ""},
	} {
		w := &countingWriter{}
		if err := s.Query(ctx, tc.q, w); err != nil {
			t.Errorf("%s: %v", tc.q, err)
			continue
		}
		if w.rows != tc.rows || w.tag != fmt.Sprintf("SELECT %d", tc.rows) || w.firstRow != tc.first {
			t.Errorf("%s: %d rows, tag %q, first %q; want %d rows, first %q", tc.q, w.rows, w.tag, w.firstRow, tc.rows, tc.first)
		}
		if w.started != 0 {
			t.Errorf("%s: RowDescription after %d rows", tc.q, w.started)
		}
	}
	// The extended protocol streams too.
	st, err := s.Prepare(ctx, "SELECT s FROM big WHERE k >= $1", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := st.Bind(ctx, pgwirebase.BindArgs{Params: [][]byte{[]byte("2")}, ParamFormats: []pgwirebase.FormatCode{0}})
	if err != nil {
		t.Fatal(err)
	}
	w := &countingWriter{}
	if _, err := p.Execute(ctx, 0, w); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if w.rows != 19999 || w.tag != "SELECT 19999" {
		t.Errorf("extended: %d rows, tag %q", w.rows, w.tag)
	}
	// What must hold every row is still bounded.
	for _, q := range []string{`SELECT * FROM big ORDER BY s`, `SELECT DISTINCT s FROM big`} {
		if err := s.Query(ctx, q, &countingWriter{}); pgcode.Of(err) != pgcode.OutOfMemory {
			t.Errorf("%s: got %v, want 53200", q, err)
		}
	}
}

// TestStreamingSendsBeforeTheEnd: the first rows of a result that never
// ends reach the client; a cancel then stops it with 57014.
func TestStreamingSendsBeforeTheEnd(t *testing.T) {
	budget := int64(1 << 20)
	s := newBudgetSession(t, &budget)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &countingWriter{atRow: 5000, onRow: cancel}
	err := s.Query(ctx, `SELECT g FROM generate_series(1, 9223372036854775807) g`, w)
	if pgcode.Of(err) != pgcode.QueryCanceled {
		t.Fatalf("got %v, want 57014", err)
	}
	if w.rows < 5000 || w.tag != "" {
		t.Fatalf("%d rows and tag %q before the cancel; want ≥ 5000 rows and no tag", w.rows, w.tag)
	}
	// The session goes on.
	w2 := &countingWriter{}
	if err := s.Query(context.Background(), `SELECT 1`, w2); err != nil || w2.rows != 1 {
		t.Fatalf("after the cancel: %v, %d rows", err, w2.rows)
	}
}

// TestStreamedDigest: a block's replay log gets the same digest for a
// streamed result as for the same result materialised, so a block that
// streamed can still be replayed after a conflict.
func TestStreamedDigest(t *testing.T) {
	cols := []exec.ResultCol{{Name: "k", T: types.Int8}, {Name: "s", T: types.Text}}
	var rows [][]types.Datum
	for i := range 3000 {
		var v types.Datum = fmt.Sprint("v", i)
		if i%7 == 0 {
			v = nil
		}
		rows = append(rows, []types.Datum{int64(i), v})
	}
	k := newRowSink(&countingWriter{}, cols, nil, nil, true)
	for _, r := range rows {
		if err := k.emit(r); err != nil {
			t.Fatal(err)
		}
	}
	res := k.result("SELECT 3000")
	if !res.Streamed || len(res.Rows) != 0 {
		t.Fatalf("3000 rows were not streamed: %+v", res.Streamed)
	}
	if want := digest(&exec.Result{Rows: rows, Tag: "SELECT 3000"}); res.Digest != want {
		t.Fatalf("streamed digest %x, materialised %x", res.Digest, want)
	}
	// A small result is held back, whole, for a retry.
	k = newRowSink(&countingWriter{}, cols, nil, nil, true)
	for _, r := range rows[:10] {
		if err := k.emit(r); err != nil {
			t.Fatal(err)
		}
	}
	if res := k.result("SELECT 10"); res.Streamed || len(res.Rows) != 10 || k.started {
		t.Fatalf("10 rows: streamed %v, %d rows held", res.Streamed, len(res.Rows))
	}
}
