package pgwire

import (
	"errors"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/ordodb/ordo/pgwire/pgcode"
)

// Errors pgwire itself reports to clients.
var (
	errQueryCanceled = pgcode.New(pgcode.QueryCanceled, "canceling statement due to user request")
	errAdminShutdown = pgcode.New(pgcode.AdminShutdown, "terminating connection due to administrator command").Fatal()
	errTooManyConns  = pgcode.New(pgcode.TooManyConnections, "sorry, too many clients already").Fatal()
	errNoUser        = pgcode.New(pgcode.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet").Fatal()
	errBadFormat     = pgcode.New(pgcode.ProtocolViolation, "invalid message format")
	errMsgLength     = pgcode.New(pgcode.ProtocolViolation, "invalid message length").Fatal()
	errNoFunctions   = pgcode.New(pgcode.FeatureNotSupported, "the function call protocol is not supported")
	errInternalFatal = pgcode.New(pgcode.Internal, "internal error").Fatal()
)

// severityOf returns the severity an error declares, ERROR otherwise.
func severityOf(err error) pgcode.Severity {
	var s interface{ ErrorSeverity() pgcode.Severity }
	if errors.As(err, &s) {
		return s.ErrorSeverity()
	}
	return pgcode.SeverityError
}

func isFatal(err error) bool {
	sev := severityOf(err)
	return sev == pgcode.SeverityFatal || sev == pgcode.SeverityPanic
}

// errorResponse converts err into an ErrorResponse.
func errorResponse(err error) *pgproto3.ErrorResponse {
	sev := string(severityOf(err))
	r := &pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                string(pgcode.Of(err)),
		Message:             err.Error(),
	}
	fillOptionalFields(r, err)
	return r
}

func fillOptionalFields(r *pgproto3.ErrorResponse, err error) {
	var d interface{ ErrorDetail() string }
	if errors.As(err, &d) {
		r.Detail = d.ErrorDetail()
	}
	var h interface{ ErrorHint() string }
	if errors.As(err, &h) {
		r.Hint = h.ErrorHint()
	}
	var wh interface{ ErrorWhere() string }
	if errors.As(err, &wh) {
		r.Where = wh.ErrorWhere()
	}
	var p interface{ ErrorPosition() int32 }
	if errors.As(err, &p) {
		r.Position = p.ErrorPosition()
	}
}

// noticeResponse converts a notice into a NoticeResponse.
func noticeResponse(n *pgcode.Error) *pgproto3.NoticeResponse {
	sev := n.Severity
	if sev == "" {
		sev = pgcode.SeverityNotice
	}
	code := n.Code
	if code == "" {
		code = pgcode.SuccessfulCompletion
	}
	return &pgproto3.NoticeResponse{
		Severity: string(sev), SeverityUnlocalized: string(sev), Code: string(code),
		Message: n.Message, Detail: n.Detail, Hint: n.Hint, Position: n.Position, Where: n.Where,
	}
}
