package pgwirebase

import (
	"context"
	"io"
	"net"
	"strings"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// OID identifies a PostgreSQL type.
type OID = uint32

// FormatCode is a column or parameter format: text or binary.
type FormatCode int16

// The two format codes of protocol 3.0.
const (
	FormatText   FormatCode = 0
	FormatBinary FormatCode = 1
)

// TxnStatus is the transaction status byte of ReadyForQuery.
type TxnStatus byte

// Transaction states as reported by ReadyForQuery.
const (
	TxnIdle    TxnStatus = 'I' // not in a transaction block
	TxnInBlock TxnStatus = 'T' // in a transaction block
	TxnFailed  TxnStatus = 'E' // in a failed transaction block
)

// Column describes one result column (a RowDescription field).
type Column struct {
	Name      string
	TableOID  uint32
	TableAttr uint16
	TypeOID   OID
	TypeSize  int16 // pg_type.typlen: -1 for varlena
	TypeMod   int32 // -1 when none
	Format    FormatCode
}

// Param is one reported run-time parameter (ParameterStatus).
type Param struct {
	Name  string
	Value string
}

// SessionArgs describes an authenticated connection.
type SessionArgs struct {
	User       string
	Database   string
	Superuser  bool
	RemoteAddr net.Addr
	// ProcessID is the session's process ID (BackendKeyData): what
	// pg_backend_pid() returns and pg_stat_activity.pid shows.
	ProcessID uint32
	// StartupParams holds every parameter of the StartupMessage as sent,
	// except user and database (e.g. application_name, client_encoding,
	// DateStyle, options).
	StartupParams map[string]string
	// Defaults holds the node's default values of the reported parameters
	// (server_version, TimeZone, ...). See ReportedParams.
	Defaults []Param
}

// SessionStatus is what pgwire knows of one client session, for
// pg_stat_activity: a snapshot taken from the connection's goroutine's
// records, under its lock.
type SessionStatus struct {
	ProcessID       uint32
	User, Database  string
	ApplicationName string
	ClientAddr      net.Addr
	BackendStart    time.Time
	// XactStart is when the open transaction began (zero when none),
	// QueryStart when the current or last statement began, StateChange
	// when State last changed.
	XactStart, QueryStart, StateChange time.Time
	// State is PostgreSQL's: "active", "idle", "idle in transaction" or
	// "idle in transaction (aborted)".
	State string
	// Query is the current or last statement's text.
	Query string
	// Session is the executor's session.
	Session Session
}

// Executor creates sessions. It is implemented by the SQL layer.
type Executor interface {
	// NewSession starts a session for an authenticated user. An error is
	// sent as a FATAL ErrorResponse and the connection is closed.
	NewSession(ctx context.Context, args SessionArgs) (Session, error)
}

// Session is one connection's SQL state: transaction, settings, prepared
// plans. pgwire calls it from a single goroutine, except that the context of
// a running statement may be cancelled from another.
type Session interface {
	// Params returns the current values of the reported parameters, sent as
	// ParameterStatus messages after authentication. Later changes are
	// reported through ResultWriter.SetParam.
	Params() []Param

	// Query runs a simple-protocol query string, which may hold several
	// statements, with PostgreSQL's implicit-transaction semantics. Each
	// statement's result goes to w; the first failing statement's error is
	// returned and ends the string.
	Query(ctx context.Context, sql string, w ResultWriter) error

	// Prepare parses and plans one statement. paramTypes holds the types the
	// client declared (0 = unspecified); the statement reports the final ones.
	Prepare(ctx context.Context, sql string, paramTypes []OID) (Statement, error)

	// Sync ends a batch of extended-protocol messages: an implicit
	// transaction opened by Execute commits here (or rolls back after an
	// error in the batch).
	Sync(ctx context.Context) error

	// Abort tells the session that pgwire rejected a message of the current
	// batch (e.g. a missing portal): as after any error, an explicit
	// transaction becomes failed and an implicit one rolls back.
	Abort(err error)

	// TxnStatus is reported in every ReadyForQuery.
	TxnStatus() TxnStatus

	// Close releases the session (rolling back any open transaction).
	Close() error
}

// IdleInTransactionTimeouter may be implemented by a Session: while the
// session is in a transaction block (TxnStatus not TxnIdle) and waits for
// the client longer than the returned duration (0: no limit), pgwire closes
// the session, which rolls the transaction back and releases its locks, and
// then ends the connection with FATAL 25P03.
type IdleInTransactionTimeouter interface {
	IdleInTransactionTimeout() time.Duration
}

// Statement is a prepared statement.
type Statement interface {
	// ParamTypes returns the parameter types (ParameterDescription).
	ParamTypes() []OID
	// Columns describes the result (formats are ignored); nil means the
	// statement returns no rows (NoData).
	Columns() []Column
	// Bind creates a portal. Params and formats have been validated for
	// count by pgwire.
	Bind(ctx context.Context, args BindArgs) (Portal, error)
	// Close releases the statement. Portals made from it stay usable.
	Close() error
}

// BindArgs are a Bind message's arguments, normalized.
type BindArgs struct {
	// Params are the parameter values; nil is NULL. Valid only during Bind.
	Params [][]byte
	// ParamFormats has one entry per parameter.
	ParamFormats []FormatCode
	// ResultFormats has one entry per result column.
	ResultFormats []FormatCode
}

// Portal is a bound statement ready to run.
type Portal interface {
	// Columns describes the result with the bound formats; nil = NoData.
	Columns() []Column
	// Execute runs the portal, writing at most maxRows rows (0 = all) to w.
	// It returns suspended=true when rows remain; otherwise it has called
	// w.Complete with the command tag. Column descriptions are not written
	// (a client asks with Describe).
	Execute(ctx context.Context, maxRows int, w ResultWriter) (suspended bool, err error)
	// Close releases the portal.
	Close() error
}

// RowWriter receives encoded rows. values[i] == nil is NULL. The slices are
// copied before WriteRow returns.
type RowWriter interface {
	WriteRow(values [][]byte) error
}

// ResultWriter receives the results of statements.
type ResultWriter interface {
	RowWriter
	// StartResult announces the columns of a row-returning statement
	// (RowDescription; only sent in the simple query protocol).
	StartResult(cols []Column) error
	// Complete ends a statement with a command tag ("SELECT 1", "INSERT 0 3").
	Complete(tag string) error
	// EmptyQuery reports an empty statement string.
	EmptyQuery() error
	// Notice sends a NoticeResponse.
	Notice(n *pgcode.Error) error
	// SetParam reports a changed reported parameter (ParameterStatus).
	SetParam(name, value string) error
	// CopyIn starts COPY FROM STDIN: the returned reader yields the
	// concatenated CopyData payloads until CopyDone (io.EOF); a CopyFail
	// returns an error with SQLSTATE 57014.
	CopyIn(f CopyFormat) (io.Reader, error)
	// CopyOut starts COPY TO STDOUT: each Write is one CopyData message.
	// CopyDone is sent by the next Complete.
	CopyOut(f CopyFormat) (io.Writer, error)
}

// CopyFormat describes a COPY stream (CopyInResponse/CopyOutResponse).
type CopyFormat struct {
	Overall FormatCode
	Columns []FormatCode
}

// UserInfo is what authentication needs about a user.
type UserInfo struct {
	Name      string
	Superuser bool
	CanLogin  bool
	// Verifier is the stored SCRAM-SHA-256 secret in PostgreSQL's text form
	// ("SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>"); empty when the
	// user has no password.
	Verifier string
}

// Authenticator looks up users; the catalog implements it.
type Authenticator interface {
	// LookupUser returns found=false for an unknown user; err is reserved
	// for failures to look (reported as an internal error).
	LookupUser(ctx context.Context, name string) (u UserInfo, found bool, err error)
}

// MockSecreter may be implemented by an Authenticator. An unknown user goes
// through a mock SCRAM exchange whose salt is derived from the user name and
// this secret; the secret must be the same on every node and across
// restarts, so that an unknown user's salt is as stable as a real user's
// and the two cannot be told apart. Without it, pgwire uses a random secret
// per Server.
type MockSecreter interface {
	MockAuthSecret(ctx context.Context) ([]byte, error)
}

// InitialParams returns args.Defaults with the startup parameters that
// PostgreSQL reports applied on top: application_name, client_encoding,
// DateStyle, IntervalStyle and TimeZone (names matched case-insensitively,
// values as sent). A Session may use it for Params before any SET.
func InitialParams(args SessionArgs) []Param {
	out := append([]Param(nil), args.Defaults...)
	for k, v := range args.StartupParams {
		for i := range out {
			if strings.EqualFold(out[i].Name, k) && settableAtStartup[strings.ToLower(k)] {
				out[i].Value = v
			}
		}
	}
	return out
}

var settableAtStartup = map[string]bool{
	"application_name": true, "client_encoding": true, "datestyle": true,
	"intervalstyle": true, "timezone": true,
}

type syncFollowsKey struct{}

// WithSyncFollows marks the context of an Execute that the client sent
// together with its Sync (and asked for every row): a statement that opens
// the implicit transaction may commit it before answering, so a conflict
// is retried inside the server instead of reaching the client as 40001.
func WithSyncFollows(ctx context.Context) context.Context {
	return context.WithValue(ctx, syncFollowsKey{}, true)
}

// SyncFollows reports whether WithSyncFollows marked ctx.
func SyncFollows(ctx context.Context) bool {
	v, _ := ctx.Value(syncFollowsKey{}).(bool)
	return v
}
