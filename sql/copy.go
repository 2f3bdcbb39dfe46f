package sql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/copyfmt"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/parser"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// SQLSTATEs of COPY.
const (
	badCopyFileFormat pgcode.Code = "22P04"
	invalidParameter  pgcode.Code = "22023"
)

// copyStmt runs COPY FROM STDIN or COPY TO STDOUT. autocommit says the
// statement runs alone outside a transaction, so it commits here.
func (s *Session) copyStmt(ctx context.Context, c *pg.CopyStmt, w pgwirebase.ResultWriter, autocommit bool) error {
	if c.Filename != "" || c.IsProgram {
		return sqlerr.Unsupported("COPY to or from a file or program is not supported; use STDIN or STDOUT")
	}
	if c.WhereClause != nil {
		return sqlerr.Unsupported("COPY FROM ... WHERE is not supported yet")
	}
	o, err := copyOptions(c.Options)
	if err != nil {
		return err
	}
	if err := s.begin(ctx, implicitTxn); err != nil {
		return err
	}
	if c.IsFrom {
		s.log.broken = true // the input cannot be read twice
		err = s.copyFrom(ctx, c, o, w)
	} else {
		err = s.copyTo(ctx, c, o, w)
	}
	if err != nil || !autocommit {
		return err
	}
	return s.commit(ctx)
}

// copyOptions reads COPY's options (new and old syntax parse alike).
func copyOptions(opts []*pg.Node) (copyfmt.Options, error) {
	var o copyfmt.Options
	for _, n := range opts {
		if err := copyOption(&o, n.GetDefElem()); err != nil {
			return o, err
		}
	}
	if err := o.Validate(); err != nil {
		return o, pgcode.New(pgcode.FeatureNotSupported, "%s", err.Error())
	}
	return o, nil
}

func copyOption(o *copyfmt.Options, d *pg.DefElem) error {
	switch d.Defname {
	case "format":
		return copyFormat(o, defString(d))
	case "delimiter":
		b, err := oneByte(d, "COPY delimiter must be a single one-byte character")
		o.Delimiter, o.DelimiterSet = b, true
		return err
	case "null":
		o.Null, o.NullSet = defString(d), true
	case "quote":
		b, err := oneByte(d, "COPY quote must be a single one-byte character")
		o.Quote, o.QuoteSet = b, true
		return err
	case "escape":
		b, err := oneByte(d, "COPY escape must be a single one-byte character")
		o.Escape, o.EscapeSet = b, true
		return err
	case "header":
		return copyHeader(o, d)
	case "freeze":
		// Accepted: every COPY is visible exactly when its transaction commits.
	case "encoding":
		if e := strings.ToUpper(strings.ReplaceAll(defString(d), "-", "")); e != "UTF8" {
			return sqlerr.Unsupported("COPY encoding %q is not supported", defString(d))
		}
	default:
		return sqlerr.Unsupported("COPY option %q is not supported", d.Defname)
	}
	return nil
}

func copyFormat(o *copyfmt.Options, f string) error {
	switch strings.ToLower(f) {
	case "text":
		o.Format = copyfmt.Text
	case "csv":
		o.Format = copyfmt.CSV
	case "binary":
		o.Format = copyfmt.Binary
	default:
		return pgcode.New(invalidParameter, "COPY format %q not recognized", f)
	}
	return nil
}

func copyHeader(o *copyfmt.Options, d *pg.DefElem) error {
	if d.Arg == nil {
		o.Header = true
		return nil
	}
	switch strings.ToLower(defString(d)) {
	case "true", "on", "1", "t":
		o.Header = true
	case "false", "off", "0", "f":
		o.Header = false
	default:
		return sqlerr.Unsupported("COPY HEADER %s is not supported", defString(d))
	}
	return nil
}

// defString returns a DefElem's argument as text.
func defString(d *pg.DefElem) string {
	if d.Arg == nil {
		return ""
	}
	switch x := d.Arg.Node.(type) {
	case *pg.Node_String_:
		return x.String_.Sval
	case *pg.Node_Boolean:
		return map[bool]string{true: "true", false: "false"}[x.Boolean.Boolval]
	case *pg.Node_Integer:
		return fmt.Sprint(x.Integer.Ival)
	}
	return ""
}

func oneByte(d *pg.DefElem, msg string) (byte, error) {
	s := defString(d)
	if len(s) != 1 {
		return 0, pgcode.New(pgcode.FeatureNotSupported, "%s", msg)
	}
	return s[0], nil
}

// wireFormat is the CopyInResponse/CopyOutResponse for n columns.
func wireFormat(o copyfmt.Options, n int) pgwirebase.CopyFormat {
	f := pgwirebase.FormatText
	if o.Format == copyfmt.Binary {
		f = pgwirebase.FormatBinary
	}
	cols := make([]pgwirebase.FormatCode, n)
	for i := range cols {
		cols[i] = f
	}
	return pgwirebase.CopyFormat{Overall: f, Columns: cols}
}

// copyFrom streams rows from the client into the table in the session's
// transaction; one row is decoded at a time and the KV writes go in
// batches (exec.Batched), so memory does not grow with the input.
func (s *Session) copyFrom(ctx context.Context, c *pg.CopyStmt, o copyfmt.Options, w pgwirebase.ResultWriter) error {
	if c.Relation == nil {
		return pgcode.New(pgcode.SyntaxError, "COPY FROM requires a table")
	}
	target, err := s.planner(ctx, sem.NewParams(nil)).PrepareCopy(c.Relation, c.Attlist)
	if err != nil {
		return sqlerr.FromKV(err)
	}
	if s.txnReadOnly() {
		return errReadOnly("COPY FROM")
	}
	cols := target.Columns()
	r, err := w.CopyIn(wireFormat(o, len(cols)))
	if err != nil {
		return err
	}
	ci := &copyIn{s: s, target: target, o: o, dec: copyfmt.NewDecoder(r, o), vals: make([]types.Datum, len(cols))}
	ec := s.execCtx(ctx, nil)
	var n int
	err = exec.Batched(ec, func() (err error) {
		n, err = ci.run(ec)
		return ci.where(err, "")
	})
	if ferr := s.flushNotices(w); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	return w.Complete(fmt.Sprintf("COPY %d", n))
}

// copyIn is one COPY FROM in progress.
type copyIn struct {
	s      *Session
	target *exec.CopyTarget
	o      copyfmt.Options
	dec    *copyfmt.Decoder
	vals   []types.Datum
}

func (ci *copyIn) run(ec *exec.Ctx) (int, error) {
	cols := ci.target.Columns()
	for n := 0; ; n++ {
		fields, err := ci.dec.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, ci.streamErr(err)
		}
		if err := ci.checkCount(fields, len(cols)); err != nil {
			return n, err
		}
		for i, f := range fields {
			if ci.vals[i], err = ci.value(cols[i].Type, f); err != nil {
				return n, ci.where(err, fmt.Sprintf(", column %s: \"%s\"", cols[i].Name, f))
			}
		}
		if err := ci.target.Insert(ec, ci.vals); err != nil {
			return n, ci.where(sqlerr.FromKV(err), "")
		}
	}
}

func (ci *copyIn) value(t types.T, f []byte) (types.Datum, error) {
	if f == nil {
		return nil, nil
	}
	if ci.o.Format == copyfmt.Binary {
		return types.DecodeParam(t, f, pgwirebase.FormatBinary, ci.s.loc)
	}
	return types.AssignCast(string(f), types.Text, t, ci.s.loc)
}

func (ci *copyIn) checkCount(fields [][]byte, want int) error {
	switch {
	case ci.o.Format == copyfmt.Binary && len(fields) != want:
		return ci.where(pgcode.New(badCopyFileFormat, "row field count is %d, expected %d", len(fields), want), "")
	case len(fields) > want:
		return ci.where(pgcode.New(badCopyFileFormat, "extra data after last expected column"), "")
	case len(fields) < want:
		col := ci.target.Columns()[len(fields)].Name
		return ci.where(pgcode.New(badCopyFileFormat, "missing data for column %q", col), "")
	}
	return nil
}

// streamErr maps a malformed stream to 22P04; a CopyFail or a broken
// connection passes through.
func (ci *copyIn) streamErr(err error) error {
	var fe *copyfmt.FormatError
	if errors.As(err, &fe) {
		return ci.where(pgcode.New(badCopyFileFormat, "%s", fe.Msg), "")
	}
	return err
}

// where adds PostgreSQL's context line: "COPY t, line 3[, column c: ...]".
func (ci *copyIn) where(err error, detail string) error {
	var pe *pgcode.Error
	if errors.As(err, &pe) && pe.Where == "" {
		unit := "line"
		if ci.o.Format == copyfmt.Binary {
			unit = "row"
		}
		pe.Where = fmt.Sprintf("COPY %s, %s %d%s", ci.target.Table(), unit, ci.dec.Line(), detail)
	}
	return err
}

// copyTo runs the table scan or query and streams its rows to the client.
func (s *Session) copyTo(ctx context.Context, c *pg.CopyStmt, o copyfmt.Options, w pgwirebase.ResultWriter) error {
	ast := c.Query
	if ast == nil {
		var err error
		if ast, err = copyTableQuery(c); err != nil {
			return err
		}
	}
	plan, err := s.planner(ctx, sem.NewParams(nil)).Prepare(ast)
	if err != nil {
		return sqlerr.FromKV(err)
	}
	cols := plan.Columns()
	if cols == nil {
		return pgcode.New(pgcode.FeatureNotSupported, "COPY query must have a RETURNING clause")
	}
	res, err := plan.Exec(s.execCtx(ctx, nil))
	if err != nil {
		return sqlerr.FromKV(err)
	}
	out, err := w.CopyOut(wireFormat(o, len(cols)))
	if err != nil {
		return err
	}
	if err := s.writeCopyRows(out, o, cols, res.Rows); err != nil {
		return err
	}
	return w.Complete(fmt.Sprintf("COPY %d", len(res.Rows)))
}

// copyTableQuery turns COPY t (cols) TO into SELECT cols FROM t.
func copyTableQuery(c *pg.CopyStmt) (*pg.Node, error) {
	cols := "*"
	if len(c.Attlist) > 0 {
		names := make([]string, len(c.Attlist))
		for i, a := range c.Attlist {
			names[i] = quoteIdent(a.GetString_().GetSval())
		}
		cols = strings.Join(names, ", ")
	}
	rel := quoteIdent(c.Relation.Relname)
	if c.Relation.Schemaname != "" {
		rel = quoteIdent(c.Relation.Schemaname) + "." + rel
	}
	stmts, err := parser.Parse("SELECT " + cols + " FROM " + rel)
	if err != nil {
		return nil, err
	}
	return stmts[0].AST, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (s *Session) writeCopyRows(out io.Writer, o copyfmt.Options, cols []exec.ResultCol, rows [][]types.Datum) error {
	enc := copyfmt.NewEncoder(o)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	if err := writeNonEmpty(out, enc.Header(names)); err != nil {
		return err
	}
	f := pgwirebase.FormatText
	if o.Format == copyfmt.Binary {
		f = pgwirebase.FormatBinary
	}
	fields := make([][]byte, len(cols))
	buf := make([]byte, 0, 256) // non-nil: an empty value is not NULL
	for _, r := range rows {
		buf = buf[:0]
		for i, d := range r {
			fields[i] = nil
			if d == nil {
				continue
			}
			start := len(buf)
			var err error
			if buf, err = types.Format(buf, cols[i].T, d, f, s.loc); err != nil {
				return err
			}
			fields[i] = buf[start:len(buf):len(buf)]
		}
		if _, err := out.Write(enc.Row(fields)); err != nil {
			return err
		}
	}
	return writeNonEmpty(out, enc.Trailer())
}

func writeNonEmpty(w io.Writer, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_, err := w.Write(b)
	return err
}
