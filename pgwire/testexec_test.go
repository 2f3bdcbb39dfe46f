package pgwire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// testExecutor is a tiny in-memory SQL "engine" that understands a handful of
// statements, enough to drive the protocol end to end with real clients:
//
//	SELECT 1 | SELECT $1::int8 | SELECT generate_series(1, N)
//	SELECT 1/0 (22012) | SELECT pg_sleep(S) (waits for S seconds or cancel)
//	BEGIN | COMMIT | END | ROLLBACK | SET name = 'value' | SHOW name
//	COPY t FROM STDIN (counts lines) | COPY t TO STDOUT (two rows)
//	NOTICE 'text' (sends a notice) | PANIC (panics) | FATAL (fatal error)
type testExecutor struct {
	mu       sync.Mutex
	sessions int // open sessions
}

func (e *testExecutor) NewSession(_ context.Context, args pgwirebase.SessionArgs) (pgwirebase.Session, error) {
	if args.Database == "nodb" {
		return nil, pgcode.New("3D000", "database %q does not exist", args.Database).Fatal()
	}
	e.mu.Lock()
	e.sessions++
	e.mu.Unlock()
	return &testSession{exec: e, params: pgwirebase.InitialParams(args)}, nil
}

func (e *testExecutor) openSessions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.sessions
}

type testSession struct {
	exec   *testExecutor
	params []pgwirebase.Param
	txn    pgwirebase.TxnStatus // zero = idle
	closed bool
}

func (s *testSession) Params() []pgwirebase.Param { return s.params }

func (s *testSession) TxnStatus() pgwirebase.TxnStatus {
	if s.txn == 0 {
		return pgwirebase.TxnIdle
	}
	return s.txn
}

func (s *testSession) Close() error {
	if !s.closed {
		s.closed = true
		s.exec.mu.Lock()
		s.exec.sessions--
		s.exec.mu.Unlock()
	}
	return nil
}

func (s *testSession) Abort(error) { s.fail() }

func (s *testSession) fail() {
	if s.txn == pgwirebase.TxnInBlock {
		s.txn = pgwirebase.TxnFailed
	}
}

func (s *testSession) Sync(context.Context) error { return nil }

func (s *testSession) Query(ctx context.Context, sql string, w pgwirebase.ResultWriter) error {
	stmts := splitStatements(sql)
	if len(stmts) == 0 {
		return w.EmptyQuery()
	}
	for _, q := range stmts {
		st, err := s.prepare(q, nil)
		if err == nil {
			err = s.run(ctx, st, nil, nil, 0, w, true)
		}
		if err != nil {
			s.fail()
			return err
		}
	}
	return nil
}

func splitStatements(sql string) []string {
	var out []string
	for _, part := range strings.Split(sql, ";") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (s *testSession) Prepare(_ context.Context, sql string, paramTypes []uint32) (pgwirebase.Statement, error) {
	stmts := splitStatements(sql)
	if len(stmts) > 1 {
		return nil, pgcode.New(pgcode.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	q := ""
	if len(stmts) == 1 {
		q = stmts[0]
	}
	st, err := s.prepare(q, paramTypes)
	if err != nil {
		s.fail()
		return nil, err
	}
	return st, nil
}

// testStmt is a parsed statement of the test language.
// errTestPanic is the value of the PANIC statement's deliberate panic.
var errTestPanic = errors.New("test executor: PANIC statement")

var errDiv0 = pgcode.New(pgcode.DivisionByZero, "division by zero")

type testStmt struct {
	sess   *testSession
	kind   string
	arg    string
	params []uint32
	cols   []pgwirebase.Column
}

var (
	reSeries = regexp.MustCompile(`(?i)^select generate_series\(1,\s*(\d+)\)$`)
	reSleep  = regexp.MustCompile(`(?i)^select pg_sleep\(([\d.]+)\)$`)
	reSet    = regexp.MustCompile(`(?i)^set (\w+)\s*(?:=|to)\s*'?([^']*)'?$`)
	reShow   = regexp.MustCompile(`(?i)^show (\w+)$`)
	reNotice = regexp.MustCompile(`(?i)^notice '([^']*)'$`)
)

func col(name string, oid uint32, size int16) pgwirebase.Column {
	return pgwirebase.Column{Name: name, TypeOID: oid, TypeSize: size, TypeMod: -1}
}

func (s *testSession) prepare(q string, paramTypes []uint32) (*testStmt, error) {
	st := &testStmt{sess: s}
	lq := strings.ToLower(q)
	if s.txn == pgwirebase.TxnFailed && lq != "commit" && lq != "rollback" && lq != "end" {
		return nil, pgcode.New(pgcode.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	switch {
	case q == "":
		st.kind = "empty"
	case lq == "select 1":
		st.kind, st.cols = "select1", []pgwirebase.Column{col("?column?", 23, 4)}
	case lq == "select $1::int8":
		st.kind, st.params, st.cols = "echo8", []uint32{20}, []pgwirebase.Column{col("int8", 20, 8)}
	case lq == "select 1/0":
		st.kind, st.cols = "div0", []pgwirebase.Column{col("?column?", 23, 4)}
	case lq == "begin" || lq == "commit" || lq == "end" || lq == "rollback":
		st.kind = lq
	case lq == "panic" || lq == "fatal":
		st.kind = lq
	case lq == "copy t from stdin" || lq == "copy t to stdout":
		st.kind = lq
	default:
		return s.prepareMatched(st, q)
	}
	_ = paramTypes
	return st, nil
}

func (s *testSession) prepareMatched(st *testStmt, q string) (*testStmt, error) {
	if m := reSeries.FindStringSubmatch(q); m != nil {
		st.kind, st.arg, st.cols = "series", m[1], []pgwirebase.Column{col("generate_series", 23, 4)}
	} else if m := reSleep.FindStringSubmatch(q); m != nil {
		st.kind, st.arg, st.cols = "sleep", m[1], []pgwirebase.Column{col("pg_sleep", 2278, 4)}
	} else if m := reSet.FindStringSubmatch(q); m != nil {
		st.kind, st.arg = "set", m[1]+"="+m[2]
	} else if m := reShow.FindStringSubmatch(q); m != nil {
		st.kind, st.arg, st.cols = "show", m[1], []pgwirebase.Column{col(strings.ToLower(m[1]), 25, -1)}
	} else if m := reNotice.FindStringSubmatch(q); m != nil {
		st.kind, st.arg = "notice", m[1]
	} else {
		word, _, _ := strings.Cut(q, " ")
		return nil, pgcode.New(pgcode.SyntaxError, "syntax error at or near %q", word)
	}
	return st, nil
}

func (st *testStmt) ParamTypes() []uint32          { return st.params }
func (st *testStmt) Columns() []pgwirebase.Column  { return st.cols }
func (st *testStmt) Close() error                  { return nil }
func (p *testPortal) Columns() []pgwirebase.Column { return p.cols }
func (p *testPortal) Close() error                 { return nil }

func (st *testStmt) Bind(_ context.Context, args pgwirebase.BindArgs) (pgwirebase.Portal, error) {
	if st.kind == "div0" { // PostgreSQL folds 1/0 when planning, at Bind
		st.sess.fail()
		return nil, errDiv0
	}
	p := &testPortal{stmt: st, resultFormats: args.ResultFormats}
	for i, c := range st.cols {
		c.Format = args.ResultFormats[i]
		p.cols = append(p.cols, c)
	}
	for i, v := range args.Params {
		if v == nil {
			p.params = append(p.params, nil)
			continue
		}
		n, err := decodeInt8(v, args.ParamFormats[i])
		if err != nil {
			err.Where = "unnamed portal parameter $1 = '...'"
			st.sess.fail()
			return nil, err
		}
		p.params = append(p.params, &n)
	}
	return p, nil
}

func decodeInt8(v []byte, f pgwirebase.FormatCode) (int64, *pgcode.Error) {
	if f == pgwirebase.FormatBinary {
		if len(v) != 8 {
			return 0, pgcode.New(pgcode.InvalidBinaryRepresentation, "incorrect binary data format in bind parameter 1")
		}
		return int64(binary.BigEndian.Uint64(v)), nil
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, pgcode.New(pgcode.InvalidTextRepresentation, "invalid input syntax for type bigint: %q", string(v))
	}
	return n, nil
}

type testPortal struct {
	stmt          *testStmt
	params        []*int64
	cols          []pgwirebase.Column
	resultFormats []pgwirebase.FormatCode
	next          int // rows already returned (series)
}

func (p *testPortal) Execute(ctx context.Context, maxRows int, w pgwirebase.ResultWriter) (bool, error) {
	return p.stmt.sess.execPortal(ctx, p, maxRows, w)
}

func (s *testSession) execPortal(ctx context.Context, p *testPortal, maxRows int, w pgwirebase.ResultWriter) (bool, error) {
	if p.stmt.kind != "commit" && p.stmt.kind != "rollback" && p.stmt.kind != "end" && s.txn == pgwirebase.TxnFailed {
		return false, pgcode.New(pgcode.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	if p.stmt.kind == "series" {
		return s.runSeries(p, maxRows, w)
	}
	err := s.run(ctx, p.stmt, p.params, p.resultFormats, maxRows, w, false)
	if err != nil {
		s.fail()
	}
	return false, err
}

func (s *testSession) runSeries(p *testPortal, maxRows int, w pgwirebase.ResultWriter) (bool, error) {
	n, _ := strconv.Atoi(p.stmt.arg)
	sent := 0
	for p.next < n {
		if maxRows > 0 && sent == maxRows {
			return true, nil
		}
		p.next++
		sent++
		if err := w.WriteRow([][]byte{encodeInt(int64(p.next), 4, p.resultFormats[0])}); err != nil {
			return false, err
		}
	}
	return false, w.Complete(fmt.Sprintf("SELECT %d", sent))
}

func encodeInt(n int64, size int, f pgwirebase.FormatCode) []byte {
	if f == pgwirebase.FormatText {
		return []byte(strconv.FormatInt(n, 10))
	}
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(n))
	return b[8-size:]
}

func (s *testSession) run(ctx context.Context, st *testStmt, params []*int64, formats []pgwirebase.FormatCode, maxRows int, w pgwirebase.ResultWriter, simple bool) error {
	if formats == nil {
		formats = make([]pgwirebase.FormatCode, len(st.cols))
	}
	if st.kind == "div0" {
		return errDiv0
	}
	if simple && st.cols != nil {
		if err := w.StartResult(st.cols); err != nil {
			return err
		}
	}
	switch st.kind {
	case "empty":
		return w.EmptyQuery()
	case "select1":
		return s.rows(w, "SELECT 1", encodeInt(1, 4, formats[0]))
	case "echo8":
		var v []byte
		if params[0] != nil {
			v = encodeInt(*params[0], 8, formats[0])
		}
		return s.rows(w, "SELECT 1", v)
	case "series":
		p := &testPortal{stmt: st, resultFormats: formats}
		_, err := s.runSeries(p, 0, w)
		return err
	case "sleep":
		return s.sleep(ctx, st.arg, w)
	default:
		return s.runCommand(ctx, st, w)
	}
}

func (s *testSession) rows(w pgwirebase.ResultWriter, tag string, row ...[]byte) error {
	if err := w.WriteRow(row); err != nil {
		return err
	}
	return w.Complete(tag)
}

func (s *testSession) sleep(ctx context.Context, arg string, w pgwirebase.ResultWriter) error {
	secs, _ := strconv.ParseFloat(arg, 64)
	t := time.NewTimer(time.Duration(secs * float64(time.Second)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	return s.rows(w, "SELECT 1", []byte{})
}

func (s *testSession) runCommand(ctx context.Context, st *testStmt, w pgwirebase.ResultWriter) error {
	switch st.kind {
	case "begin":
		if s.TxnStatus() != pgwirebase.TxnIdle {
			_ = w.Notice(&pgcode.Error{Severity: pgcode.SeverityWarning, Code: pgcode.ActiveSQLTransaction, Message: "there is already a transaction in progress"})
		}
		s.txn = pgwirebase.TxnInBlock
		return w.Complete("BEGIN")
	case "commit", "end":
		failed := s.txn == pgwirebase.TxnFailed
		s.txn = 0
		if failed {
			return w.Complete("ROLLBACK")
		}
		return w.Complete("COMMIT")
	case "rollback":
		if s.TxnStatus() == pgwirebase.TxnIdle {
			_ = w.Notice(&pgcode.Error{Severity: pgcode.SeverityWarning, Code: pgcode.NoActiveSQLTransaction, Message: "there is no transaction in progress"})
		}
		s.txn = 0
		return w.Complete("ROLLBACK")
	case "set":
		return s.set(st.arg, w)
	case "show":
		return s.show(st.arg, w)
	case "notice":
		if err := w.Notice(&pgcode.Error{Message: st.arg}); err != nil {
			return err
		}
		return w.Complete("NOTICE")
	case "panic":
		panic(errTestPanic)
	case "fatal":
		return pgcode.New(pgcode.AdminShutdown, "terminating connection because the test said so").Fatal()
	case "copy t from stdin":
		return copyIn(w)
	case "copy t to stdout":
		return copyOut(w)
	}
	return fmt.Errorf("test executor: unknown kind %q", st.kind)
}

func (s *testSession) set(arg string, w pgwirebase.ResultWriter) error {
	name, value, _ := strings.Cut(arg, "=")
	for i := range s.params {
		if strings.EqualFold(s.params[i].Name, name) {
			s.params[i].Value = value
			if err := w.SetParam(s.params[i].Name, value); err != nil {
				return err
			}
		}
	}
	return w.Complete("SET")
}

func (s *testSession) show(name string, w pgwirebase.ResultWriter) error {
	for _, p := range s.params {
		if strings.EqualFold(p.Name, name) {
			return s.rows(w, "SHOW", []byte(p.Value))
		}
	}
	return pgcode.New(pgcode.UndefinedObject, "unrecognized configuration parameter %q", name)
}

func copyIn(w pgwirebase.ResultWriter) error {
	r, err := w.CopyIn(pgwirebase.CopyFormat{Columns: []pgwirebase.FormatCode{0}})
	if err != nil {
		return err
	}
	n := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == `\.` {
			break
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	return w.Complete(fmt.Sprintf("COPY %d", n))
}

func copyOut(w pgwirebase.ResultWriter) error {
	out, err := w.CopyOut(pgwirebase.CopyFormat{Columns: []pgwirebase.FormatCode{0, 0}})
	if err != nil {
		return err
	}
	for _, line := range []string{"1\talice\n", "2\tbob\n"} {
		if _, err := io.WriteString(out, line); err != nil {
			return err
		}
	}
	return w.Complete("COPY 2")
}
