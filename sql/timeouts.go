package sql

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/kvapi"
)

// Session timeouts. statement_timeout bounds each statement of a simple
// Query and each Execute of a prepared statement (57014, after which an
// explicit block is failed like after any error); lock_timeout is passed to
// the KV transaction through kvapi.LockTimeoutSetter (55P03);
// idle_in_transaction_session_timeout is enforced by pgwire, which reads
// it through pgwirebase.IdleInTransactionTimeouter. All three are set with
// SET, as startup parameters, or in the "options" startup parameter.

// The session's time limits (PostgreSQL's statement_timeout, lock_timeout and
// idle_in_transaction_session_timeout). Zero disables one.
type timeouts struct {
	statement, lock, idleInTxn time.Duration
}

// Names of the timeout settings.
const (
	settingStatementTimeout = "statement_timeout"
	settingLockTimeout      = "lock_timeout"
	settingIdleInTxnTimeout = "idle_in_transaction_session_timeout"
)

var errStatementTimeout = pgcode.New(pgcode.QueryCanceled, "canceling statement due to statement timeout")

// isTimeoutSetting reports whether name (lower case) is a timeout setting.
func isTimeoutSetting(name string) bool {
	switch name {
	case settingStatementTimeout, settingLockTimeout, settingIdleInTxnTimeout:
		return true
	}
	return false
}

// timeoutUnits are the units PostgreSQL accepts for a millisecond setting.
var timeoutUnits = map[string]time.Duration{
	"": time.Millisecond, "us": time.Microsecond, "ms": time.Millisecond, "s": time.Second,
	"min": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

// parseTimeout parses a timeout setting as PostgreSQL does: a number with
// an optional unit (milliseconds by default), rounded to milliseconds.
func parseTimeout(name, value string) (time.Duration, error) {
	v := strings.TrimSpace(value)
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(v)
	}
	n, err := strconv.ParseFloat(v[:i], 64)
	unit, ok := timeoutUnits[strings.TrimSpace(v[i:])]
	if err != nil || !ok || n < 0 {
		return 0, invalidTimeout(name, value)
	}
	d := time.Duration(n * float64(unit)).Round(time.Millisecond)
	if d > time.Duration(1<<31-1)*time.Millisecond {
		return 0, pgcode.New(pgcode.InvalidParameterValue,
			"%s ms is outside the valid range for parameter %q (0 .. 2147483647)", v, name)
	}
	return d, nil
}

func invalidTimeout(name, value string) error {
	e := pgcode.New(pgcode.InvalidParameterValue, "invalid value for parameter %q: %q", name, value)
	e.Hint = `Valid units for this parameter are "us", "ms", "s", "min", "h", and "d".`
	return e
}

// formatTimeout writes d as SHOW does: in the largest unit that divides it.
func formatTimeout(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"min", time.Minute}, {"s", time.Second}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// defaultStatementTimeout is the cluster's default statement_timeout (0
// without one).
func (s *Session) defaultStatementTimeout() time.Duration {
	if f := s.exec.cfg.DefaultStatementTimeout; f != nil {
		return f()
	}
	return 0
}

// setTimeout applies a timeout setting; the normalized value is what SHOW
// and current_setting report.
func (s *Session) setTimeout(name, value string) error {
	d, err := parseTimeout(name, value)
	if err != nil {
		return err
	}
	switch name {
	case settingStatementTimeout:
		s.timeouts.statement = d
	case settingLockTimeout:
		s.timeouts.lock = d
		s.applyLockTimeout()
	case settingIdleInTxnTimeout:
		s.timeouts.idleInTxn = d
	}
	s.settings[name] = formatTimeout(d)
	return nil
}

// applyLockTimeout passes lock_timeout to the open KV transaction, when the
// KV layer supports a per-transaction lock wait bound.
func (s *Session) applyLockTimeout() {
	if l, ok := kvOf(s.cat).(kvapi.LockTimeoutSetter); ok {
		l.SetLockTimeout(s.timeouts.lock)
	}
}

// IdleInTransactionTimeout implements pgwirebase.IdleInTransactionTimeouter.
func (s *Session) IdleInTransactionTimeout() time.Duration { return s.timeouts.idleInTxn }

var _ pgwirebase.IdleInTransactionTimeouter = (*Session)(nil)

// withStatementTimeout runs fn under statement_timeout. A statement still
// running when it expires is cancelled with 57014; an error that says the
// outcome is unknown (40003) is never turned into a definite failure.
func (s *Session) withStatementTimeout(ctx context.Context, fn func(context.Context) error) error {
	d := s.timeouts.statement
	if d <= 0 {
		return fn(ctx)
	}
	tctx, cancel := withCancelAfter(ctx, d, errStatementTimeout)
	defer cancel()
	err := fn(tctx)
	if err == nil || ctx.Err() != nil || context.Cause(tctx) != errStatementTimeout {
		return err
	}
	if pgcode.Of(err) == pgcode.StatementCompletionUnknown {
		return err
	}
	return errStatementTimeout
}

// withCancelAfter returns a context cancelled with cause after d. Unlike
// context.WithTimeout it sets no deadline, which gRPC would pass on to the
// nodes serving the statement: a node whose copy of the deadline passed
// first would answer "deadline exceeded" before the cause is set here.
func withCancelAfter(ctx context.Context, d time.Duration, cause error) (context.Context, context.CancelFunc) {
	cctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(d, func() { cancel(cause) })
	return cctx, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// applyStartupSettings applies the settings a client sent at startup,
// either as parameters of their own or in "options" (-c name=value).
func (s *Session) applyStartupSettings(params map[string]string) error {
	for name, value := range params {
		if err := s.applyStartupSetting(lower(name), value); err != nil {
			return err
		}
	}
	for _, kv := range parseOptions(params["options"]) {
		if err := s.applyStartupSetting(lower(kv[0]), kv[1]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Session) applyStartupSetting(name, value string) error {
	var err error
	switch {
	case isTimeoutSetting(name):
		err = s.setTimeout(name, value)
	case name == "search_path" || name == "extra_float_digits" || name == "bytea_output":
		s.settings[name] = value
	case name == settingDefaultReadOnly:
		err = s.setAccessSetting(name, value, nil)
	}
	if e, ok := err.(*pgcode.Error); ok {
		return e.Fatal() // as PostgreSQL: a bad startup setting ends the connection
	}
	return err
}

// parseOptions splits libpq's "options" startup parameter: command-line
// switches "-c name=value" or "--name=value", separated by spaces, with
// backslash escaping a space.
func parseOptions(opts string) [][2]string {
	words := splitOptionWords(opts)
	var out [][2]string
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "-c" && i+1 < len(words):
			i++
			w = words[i]
		case strings.HasPrefix(w, "-c"):
			w = w[2:]
		case strings.HasPrefix(w, "--"):
			w = w[2:]
		default:
			continue
		}
		if name, value, ok := strings.Cut(w, "="); ok {
			out = append(out, [2]string{strings.ReplaceAll(name, "-", "_"), value})
		}
	}
	return out
}

func splitOptionWords(s string) []string {
	var words []string
	var cur strings.Builder
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == ' ' || r == '\t' || r == '\n':
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words
}
