// Package pgwirebase declares the contract between the wire protocol layer
// (pgwire) and the SQL layer that executes statements for it. pgwire is the
// consumer and owns the contract; the types live in this leaf package (it
// imports only the standard library and pgcode) so that sql can implement the
// interfaces without importing pgwire, and pgwire never imports sql.
//
// The flow for one connection:
//
//	Executor.NewSession(args)           after authentication
//	Session.Params()                    initial ParameterStatus set
//	Session.Query(sql, ResultWriter)    simple query protocol, then TxnStatus()
//	Session.Prepare → Statement         Parse
//	Statement.Bind → Portal             Bind
//	Portal.Execute(maxRows, writer)     Execute (suspended = PortalSuspended)
//	Session.Sync()                      Sync: end of the implicit transaction
//	Session.Close()                     connection gone
//
// Errors returned by any method become an ErrorResponse. Their SQLSTATE comes
// from the behaviour interface `SQLState() string` (pgcode.Error is one
// implementation); errors without one are reported as XX000. A context passed
// to Query or Execute is cancelled by a CancelRequest or server shutdown; the
// session should return promptly with an error (pgwire reports 57014 when the
// cancellation came from a CancelRequest, whatever the error says).
package pgwirebase
