package sql

import (
	"context"
	"regexp"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// TestExplain runs the EXPLAIN scripts in testdata/explain (rewrite with
// -rewrite): the logic test commands (exec, error CODE) and
//
//	explain       run a query string and print its rows with ANALYZE's
//	              times replaced by X (they vary from run to run)
//
// against one session over an in-memory KV store.
func TestExplain(t *testing.T) {
	datadriven.Walk(t, "testdata/explain", func(t *testing.T, path string) {
		s := newTestSession(t)
		defer s.Close()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			if d.Cmd != "explain" {
				return normalizeTimes(runLogic(t, s, d))
			}
			r := &recorder{}
			if err := s.Query(context.Background(), d.Input, r); err != nil {
				t.Fatalf("%s: unexpected error: %v (%s)", d.Pos, err, pgcode.Of(err))
			}
			return normalizeTimes(r.out.String())
		})
	})
}

var (
	opTime  = regexp.MustCompile(`time=\d+\.\d{3}\.\.\d+\.\d{3} `)
	sumTime = regexp.MustCompile(`(Planning|Execution) Time: \d+\.\d{3} ms`)
)

// normalizeTimes replaces the times of EXPLAIN ANALYZE's output by X,
// keeping their format checked.
func normalizeTimes(s string) string {
	s = opTime.ReplaceAllString(s, "time=X..X ")
	return sumTime.ReplaceAllString(s, "$1 Time: X ms")
}
