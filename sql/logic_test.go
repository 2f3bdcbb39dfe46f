package sql

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/kvmem"
)

// recorder is a ResultWriter that prints what it receives.
type recorder struct {
	out strings.Builder
}

func (r *recorder) WriteRow(vals [][]byte) error {
	parts := make([]string, len(vals))
	for i, v := range vals {
		if v == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = string(v)
		}
	}
	fmt.Fprintln(&r.out, strings.Join(parts, " | "))
	return nil
}
func (r *recorder) StartResult([]pgwirebase.Column) error { return nil }
func (r *recorder) Complete(tag string) error             { fmt.Fprintf(&r.out, "-- %s\n", tag); return nil }
func (r *recorder) EmptyQuery() error                     { return nil }
func (r *recorder) Notice(n *pgcode.Error) error {
	fmt.Fprintf(&r.out, "NOTICE: %s\n", n.Message)
	return nil
}
func (r *recorder) SetParam(name, value string) error {
	fmt.Fprintf(&r.out, "PARAM %s=%s\n", name, value)
	return nil
}
func (r *recorder) CopyIn(pgwirebase.CopyFormat) (io.Reader, error) {
	return nil, fmt.Errorf("no copy")
}
func (r *recorder) CopyOut(pgwirebase.CopyFormat) (io.Writer, error) {
	return nil, fmt.Errorf("no copy")
}

func newTestSession(t *testing.T) *Session {
	t.Helper()
	e := NewExecutor(Config{DB: kvmem.New(kvmem.Config{}), NodeID: 1})
	s, err := e.NewSession(context.Background(), pgwirebase.SessionArgs{User: "root", Database: "defaultdb",
		Defaults: []pgwirebase.Param{{Name: "TimeZone", Value: "UTC"}, {Name: "application_name", Value: ""}, {Name: "server_version", Value: "15.0"}}})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*Session)
}

// TestLogic runs the SQL logic tests in testdata/logic: each file is a
// sequence of
//
//	exec          run a query string; print rows, tags, notices
//	error CODE    the query string must fail with SQLSTATE CODE; print
//	              the message and detail
//
// against one session over an in-memory KV store.
func TestLogic(t *testing.T) {
	datadriven.Walk(t, "testdata/logic", func(t *testing.T, path string) {
		s := newTestSession(t)
		defer s.Close()
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			return runLogic(t, s, d)
		})
	})
}

func runLogic(t *testing.T, s *Session, d *datadriven.TestData) string {
	r := &recorder{}
	err := s.Query(context.Background(), d.Input, r)
	switch d.Cmd {
	case "exec":
		if err != nil {
			t.Fatalf("%s: unexpected error: %v (%s)", d.Pos, err, pgcode.Of(err))
		}
	case "error":
		if err == nil {
			t.Fatalf("%s: expected an error, got:\n%s", d.Pos, r.out.String())
		}
		want := d.CmdArgs[0].Key
		if got := string(pgcode.Of(err)); got != want {
			t.Fatalf("%s: SQLSTATE %s, want %s: %v", d.Pos, got, want, err)
		}
		fmt.Fprintf(&r.out, "ERROR %s: %s\n", pgcode.Of(err), err.Error())
		var pe *pgcode.Error
		if errorsAs(err, &pe) && pe.Detail != "" {
			fmt.Fprintf(&r.out, "DETAIL: %s\n", pe.Detail)
		}
	default:
		t.Fatalf("unknown command %s", d.Cmd)
	}
	return r.out.String()
}
