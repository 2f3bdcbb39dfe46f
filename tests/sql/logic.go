package sql

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Kind is the kind of a record.
type Kind int

const (
	// StatementOK must succeed.
	StatementOK Kind = iota
	// StatementError must fail with Record.Code.
	StatementError
	// Query must return Record.Expected.
	Query
)

// Record is one statement or query of a script.
type Record struct {
	Kind     Kind
	Line     int    // line of the header, 1-based
	SQL      string // the statement text
	Code     string // SQLSTATE of StatementError
	Message  string // the error's message, if the header gives one
	Types    string // column type letters of Query
	RowSort  bool
	Expected []string // result lines of Query
	// header is the record's header line as written (for rewriting).
	header string
}

// Script is a parsed test file.
type Script struct {
	Path    string
	Records []*Record
}

// ParseFile reads a script.
func ParseFile(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	recs, err := Parse(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Script{Path: path, Records: recs}, nil
}

// Parse parses a script's text.
func Parse(text string) ([]*Record, error) {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), " \t\r"))
	}
	var out []*Record
	for i := 0; i < len(lines); {
		l := lines[i]
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		r, next, err := parseRecord(lines, i)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, r)
		i = next
	}
	return out, nil
}

// parseRecord parses the record whose header is lines[i]; next is the
// line after it.
func parseRecord(lines []string, i int) (r *Record, next int, err error) {
	r = &Record{Line: i + 1, header: lines[i]}
	f := strings.Fields(lines[i])
	switch {
	case len(f) == 2 && f[0] == "statement" && f[1] == "ok":
		r.Kind = StatementOK
	case len(f) >= 3 && f[0] == "statement" && f[1] == "error":
		r.Kind, r.Code = StatementError, f[2]
		if len(r.Code) != 5 {
			return nil, 0, fmt.Errorf("SQLSTATE %q is not 5 characters", r.Code)
		}
		if len(f) > 3 {
			r.Message = strings.TrimSpace(lines[i][strings.Index(lines[i], r.Code)+5:])
		}
	case len(f) >= 2 && len(f) <= 3 && f[0] == "query":
		r.Kind, r.Types = Query, f[1]
		if strings.Trim(r.Types, "ITRB") != "" {
			return nil, 0, fmt.Errorf("column types %q: use I, T, R and B", r.Types)
		}
		if len(f) == 3 {
			switch f[2] {
			case "rowsort":
				r.RowSort = true
			case "nosort":
			default:
				return nil, 0, fmt.Errorf("unknown sort mode %q", f[2])
			}
		}
	default:
		return nil, 0, fmt.Errorf("unknown record header %q", lines[i])
	}
	i++
	var sqlLines []string
	for ; i < len(lines) && lines[i] != "" && lines[i] != "----"; i++ {
		sqlLines = append(sqlLines, lines[i])
	}
	r.SQL = strings.Join(sqlLines, "\n")
	if r.SQL == "" {
		return nil, 0, errors.New("record without SQL")
	}
	if r.Kind != Query {
		if i < len(lines) && lines[i] == "----" {
			return nil, 0, errors.New("---- after a statement")
		}
		return r, i, nil
	}
	if i >= len(lines) || lines[i] != "----" {
		return nil, 0, errors.New("query without ----")
	}
	for i++; i < len(lines) && lines[i] != ""; i++ {
		r.Expected = append(r.Expected, lines[i])
	}
	return r, i, nil
}

// Failure is a record whose outcome differs from its expectation.
type Failure struct {
	Path string
	Rec  *Record
	Msg  string
}

func (f Failure) Error() string {
	return fmt.Sprintf("%s:%d: %s\n%s", f.Path, f.Rec.Line, f.Msg, indent(f.Rec.SQL))
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// Outcome is what running a record produced.
type Outcome struct {
	Code  string   // SQLSTATE, "" on success
	Msg   string   // the error's message
	Err   error    // the error, if any
	Lines []string // formatted rows of the last result
	Cols  int      // columns of the last result
}

// Exec runs one record's SQL over the simple query protocol; the outcome
// describes the last result (pgconn's ReadAll drops the columns of a
// result without rows, so the results are read here).
func Exec(ctx context.Context, conn *pgconn.PgConn, sql string) Outcome {
	mrr := conn.Exec(ctx, sql)
	var o Outcome
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		o = Outcome{}
		for rr.NextRow() {
			o.Lines = append(o.Lines, formatRow(rr.Values()))
		}
		o.Cols = len(rr.FieldDescriptions())
		if _, err := rr.Close(); err != nil {
			break
		}
	}
	if err := mrr.Close(); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return Outcome{Code: pe.Code, Msg: pe.Message, Err: err}
		}
		return Outcome{Code: "?????", Err: err}
	}
	return o
}

func formatRow(row [][]byte) string {
	vals := make([]string, len(row))
	for i, v := range row {
		switch {
		case v == nil:
			vals[i] = "NULL"
		case len(v) == 0:
			vals[i] = "(empty)"
		default:
			vals[i] = string(v)
		}
	}
	return strings.Join(vals, " ")
}

// Check compares an outcome with the record's expectation.
func (r *Record) Check(o Outcome) string {
	switch r.Kind {
	case StatementOK:
		if o.Err != nil {
			return fmt.Sprintf("expected success, got %s: %v", o.Code, o.Err)
		}
	case StatementError:
		if o.Err == nil {
			return fmt.Sprintf("expected error %s, got success", r.Code)
		}
		if o.Code != r.Code {
			return fmt.Sprintf("expected error %s, got %s: %v", r.Code, o.Code, o.Err)
		}
		if r.Message != "" && o.Msg != r.Message {
			return fmt.Sprintf("expected error message %q, got %q", r.Message, o.Msg)
		}
	case Query:
		if o.Err != nil {
			return fmt.Sprintf("query failed with %s: %v", o.Code, o.Err)
		}
		if o.Cols != len(r.Types) {
			return fmt.Sprintf("query returned %d columns, types say %d", o.Cols, len(r.Types))
		}
		got, want := normalize(o.Lines, r.RowSort), normalize(r.Expected, r.RowSort)
		if !slices.Equal(got, want) {
			return fmt.Sprintf("rows differ\n  expected:\n%s\n  got:\n%s", indent(strings.Join(want, "\n")), indent(strings.Join(got, "\n")))
		}
	}
	return ""
}

// normalize collapses runs of whitespace (values may contain spaces) and
// sorts for rowsort.
func normalize(lines []string, sorted bool) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.Join(strings.Fields(l), " ")
	}
	if sorted {
		slices.Sort(out)
	}
	return out
}

// Run runs every record of the script on a connection from connect and
// returns the failures. A lost connection (a server-side crash) is a
// failure of that record; the script goes on over a new connection. With
// rewrite, queries take the rows they return as their expectation
// (statements are still checked).
func (s *Script) Run(ctx context.Context, connect func() (*pgconn.PgConn, error), rewrite bool) []Failure {
	var fails []Failure
	conn, err := connect()
	if err != nil {
		return []Failure{{Path: s.Path, Rec: &Record{SQL: "(connect)"}, Msg: err.Error()}}
	}
	defer func() { conn.Close(ctx) }()
	for _, r := range s.Records {
		if conn.IsClosed() {
			if conn, err = connect(); err != nil {
				return append(fails, Failure{Path: s.Path, Rec: r, Msg: "reconnect: " + err.Error()})
			}
		}
		o := Exec(ctx, conn, r.SQL)
		if rewrite && r.Kind == Query && o.Err == nil {
			r.Expected = o.Lines
			if r.RowSort {
				r.Expected = normalize(o.Lines, true)
			}
			if len(r.Types) != o.Cols {
				r.Types = strings.Repeat("T", o.Cols)
				r.header = rewriteTypes(r.header, r.Types)
			}
		}
		if msg := r.Check(o); msg != "" {
			fails = append(fails, Failure{Path: s.Path, Rec: r, Msg: msg})
		}
	}
	return fails
}

func rewriteTypes(header, types string) string {
	f := strings.Fields(header)
	f[1] = types
	return strings.Join(f, " ")
}

// Format renders the script back to text (comments are not kept; Rewrite
// keeps them).
func (r *Record) format() string {
	var b strings.Builder
	b.WriteString(r.header + "\n" + r.SQL + "\n")
	if r.Kind == Query {
		b.WriteString("----\n")
		for _, l := range r.Expected {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// Rewrite writes the script back with each record's current expectation,
// keeping comments and blank lines.
func (s *Script) Rewrite() error {
	data, err := os.ReadFile(s.Path)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	byLine := map[int]*Record{}
	for _, r := range s.Records {
		byLine[r.Line] = r
	}
	var b strings.Builder
	for i := 0; i < len(lines); {
		r := byLine[i+1]
		if r == nil {
			b.WriteString(lines[i] + "\n")
			i++
			continue
		}
		b.WriteString(r.format())
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
		}
	}
	return os.WriteFile(s.Path, []byte(b.String()), 0o644)
}
