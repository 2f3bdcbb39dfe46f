package pgwire

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// protoState is the extended-protocol state of a connection: named objects
// and whether messages are being skipped until Sync after an error.
type protoState struct {
	stmts   map[string]Statement
	portals map[string]Portal
	// stmtSQL and portalSQL hold the text of each statement and portal
	// (pg_stat_activity.query while a portal runs).
	stmtSQL         map[string]string
	portalSQL       map[string]string
	ignoreUntilSync bool
}

func newProtoState() protoState {
	return protoState{stmts: map[string]Statement{}, portals: map[string]Portal{},
		stmtSQL: map[string]string{}, portalSQL: map[string]string{}}
}

func (p *protoState) closePortals() {
	for name, pt := range p.portals {
		_ = pt.Close()
		delete(p.portals, name)
		delete(p.portalSQL, name)
	}
}

func (p *protoState) closeAll() {
	p.closePortals()
	for name, st := range p.stmts {
		_ = st.Close()
		delete(p.stmts, name)
		delete(p.stmtSQL, name)
	}
}

func (p *protoState) dropStatement(name string) {
	if st, ok := p.stmts[name]; ok {
		_ = st.Close()
		delete(p.stmts, name)
		delete(p.stmtSQL, name)
	}
}

func (p *protoState) dropPortal(name string) {
	if pt, ok := p.portals[name]; ok {
		_ = pt.Close()
		delete(p.portals, name)
		delete(p.portalSQL, name)
	}
}

// serveMessages is the connection's main loop after startup.
func (c *conn) serveMessages() error {
	for {
		typ, body, err := c.readIdle()
		if err != nil {
			return err
		}
		if done, err := c.handleMessage(typ, body); done || err != nil {
			return err
		}
		if c.fatalErr != nil {
			return c.fatalErr
		}
	}
}

// framingError turns a failure to read a message into the error that ends
// the connection.
func (c *conn) framingError(err error) error {
	var ut unknownTypeError
	var tl tooLargeError
	switch {
	case errors.As(err, &ut):
		return pgcode.New(pgcode.ProtocolViolation, "invalid frontend message type %d", ut.typ).Fatal()
	case errors.As(err, &tl), errors.Is(err, errMessageLength):
		return errMsgLength
	}
	return err
}

// handleMessage processes one message; done is true after Terminate.
func (c *conn) handleMessage(typ byte, body []byte) (done bool, err error) {
	if c.proto.ignoreUntilSync && typ != 'S' && typ != 'X' {
		return false, nil
	}
	switch typ {
	case 'Q':
		return false, c.handleQuery(body)
	case 'P':
		c.extended(c.handleParse(body))
	case 'B':
		c.extended(c.handleBind(body))
	case 'D':
		c.extended(c.handleDescribe(body))
	case 'E':
		c.extended(c.handleExecute(body))
	case 'C':
		c.extended(c.handleClose(body))
	case 'S':
		return false, c.handleSync(body)
	case 'H':
		if len(body) > 0 {
			c.extended(protoErr(pgcode.ProtocolViolation, "invalid message format"))
		}
		return false, c.wr.flush()
	case 'X':
		return true, nil
	case 'd', 'c', 'f':
		// Ignored outside COPY, as PostgreSQL does: a failed COPY leaves
		// the client still sending data.
	case 'F':
		c.wr.send(errorResponse(errNoFunctions))
		return false, c.sendReady()
	default: // 'p' outside authentication
		return true, pgcode.New(pgcode.ProtocolViolation, "invalid frontend message type %d", typ).Fatal()
	}
	return false, c.wr.err
}

// extended reports the outcome of an extended-protocol message: an error is
// sent and everything up to the next Sync is skipped.
func (c *conn) extended(err error) {
	if err == nil {
		return
	}
	if isFatal(err) {
		c.fatalErr = err
		return
	}
	var pe *protoError
	if errors.As(err, &pe) {
		c.sess.Abort(err)
	}
	c.wr.send(errorResponse(err))
	c.proto.ignoreUntilSync = true
}

// protoError marks errors found by pgwire itself (as opposed to the
// session), which the session must hear about through Abort.
type protoError struct {
	err   *pgcode.Error
	index int // 1-based parameter number, when about one
}

// portalParamContext is PostgreSQL's error context for a Bind parameter.
func portalParamContext(portal string, n int) string {
	if portal == "" {
		return fmt.Sprintf("unnamed portal parameter $%d", n)
	}
	return fmt.Sprintf("portal %q parameter $%d", portal, n)
}

func (e *protoError) Error() string { return e.err.Error() }
func (e *protoError) Unwrap() error { return e.err }

func protoErr(code pgcode.Code, format string, args ...any) error {
	return &protoError{err: pgcode.New(code, format, args...)}
}

func (c *conn) sendReady() error {
	st := c.sess.TxnStatus()
	c.markReady(st)
	c.wr.send(&pgproto3.ReadyForQuery{TxStatus: byte(st)})
	return c.wr.flush()
}

// afterTxnBoundary drops portals once no transaction is open: portals live
// only as long as their transaction, as in PostgreSQL.
func (c *conn) afterTxnBoundary() {
	if c.sess.TxnStatus() == pgwirebase.TxnIdle {
		c.proto.closePortals()
	}
}

func (c *conn) handleQuery(body []byte) error {
	var m pgproto3.Query
	if err := m.Decode(body); err != nil {
		c.wr.send(errorResponse(errBadFormat))
		return c.sendReady()
	}
	c.markActive(m.String)
	ctx, end := c.beginStatement()
	w := c.newResultWriter(true)
	err := c.statementError(ctx, c.sess.Query(ctx, m.String, w))
	end()
	w.finishCopyOut()
	if c.fatalErr != nil {
		return c.fatalErr
	}
	if err != nil {
		if isFatal(err) {
			return err
		}
		c.wr.send(errorResponse(err))
	}
	c.afterTxnBoundary()
	return c.sendReady()
}

func (c *conn) handleSync(body []byte) error {
	c.proto.ignoreUntilSync = false
	if len(body) > 0 {
		// As PostgreSQL: the implicit transaction is aborted, an error
		// that does not start skipping, then ReadyForQuery.
		c.sess.Abort(errBadFormat)
		c.wr.send(errorResponse(errBadFormat))
		return c.sendReady()
	}
	ctx, end := c.beginStatement()
	err := c.statementError(ctx, c.sess.Sync(ctx))
	end()
	if err != nil {
		if isFatal(err) {
			return err
		}
		c.wr.send(errorResponse(err))
	}
	c.afterTxnBoundary()
	return c.sendReady()
}

func (c *conn) handleParse(body []byte) error {
	var m pgproto3.Parse
	if err := m.Decode(body); err != nil || len(body) != parseLen(&m) {
		return protoErr(pgcode.ProtocolViolation, "invalid message format")
	}
	if _, ok := c.proto.stmts[m.Name]; ok && m.Name != "" {
		return protoErr(pgcode.DuplicatePreparedStatement, "prepared statement %q already exists", m.Name)
	}
	ctx, end := c.beginStatement()
	st, err := c.sess.Prepare(ctx, m.Query, m.ParameterOIDs)
	err = c.statementError(ctx, err)
	end()
	if err != nil {
		return err
	}
	c.proto.dropStatement(m.Name)
	c.proto.stmts[m.Name] = st
	c.proto.stmtSQL[m.Name] = m.Query
	c.wr.send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) lookupStatement(name string) (Statement, error) {
	st, ok := c.proto.stmts[name]
	if ok {
		return st, nil
	}
	if name == "" {
		return nil, protoErr(pgcode.InvalidSQLStatementName, "unnamed prepared statement does not exist")
	}
	return nil, protoErr(pgcode.InvalidSQLStatementName, "prepared statement %q does not exist", name)
}

func (c *conn) lookupPortal(name string) (Portal, error) {
	if pt, ok := c.proto.portals[name]; ok {
		return pt, nil
	}
	return nil, protoErr(pgcode.InvalidCursorName, "portal %q does not exist", name)
}

func (c *conn) handleBind(body []byte) error {
	var m pgproto3.Bind
	if err := m.Decode(body); err != nil || len(body) != bindLen(&m) {
		return protoErr(pgcode.ProtocolViolation, "invalid message format")
	}
	if m.DestinationPortal == "" {
		c.proto.dropPortal("")
	} else if _, ok := c.proto.portals[m.DestinationPortal]; ok {
		return protoErr(pgcode.DuplicateCursor, "portal %q already exists", m.DestinationPortal)
	}
	st, err := c.lookupStatement(m.PreparedStatement)
	if err != nil {
		return err
	}
	args, err := bindArgs(&m, m.PreparedStatement, len(st.ParamTypes()), len(st.Columns()))
	if err != nil {
		return err
	}
	ctx, end := c.beginStatement()
	pt, err := st.Bind(ctx, args)
	err = c.statementError(ctx, err)
	end()
	if err != nil {
		return err
	}
	c.proto.portals[m.DestinationPortal] = pt
	c.proto.portalSQL[m.DestinationPortal] = c.proto.stmtSQL[m.PreparedStatement]
	c.wr.send(&pgproto3.BindComplete{})
	return nil
}

// bindArgs validates a Bind's counts and formats as PostgreSQL does and
// expands the format codes to one per parameter and per column.
func bindArgs(m *pgproto3.Bind, stmt string, nParams, nCols int) (pgwirebase.BindArgs, error) {
	nf, np := len(m.ParameterFormatCodes), len(m.Parameters)
	if nf > 1 && nf != np {
		return pgwirebase.BindArgs{}, protoErr(pgcode.ProtocolViolation,
			"bind message has %d parameter formats but %d parameters", nf, np)
	}
	if np != nParams {
		return pgwirebase.BindArgs{}, protoErr(pgcode.ProtocolViolation,
			"bind message supplies %d parameters, but prepared statement %q requires %d", np, stmt, nParams)
	}
	pf, err := expandFormats(m.ParameterFormatCodes, np)
	if err != nil {
		var pe *protoError
		if errors.As(err, &pe) {
			pe.err.Where = portalParamContext(m.DestinationPortal, pe.index)
		}
		return pgwirebase.BindArgs{}, err
	}
	nr := len(m.ResultFormatCodes)
	if nr > 1 && nr != nCols {
		return pgwirebase.BindArgs{}, protoErr(pgcode.ProtocolViolation,
			"bind message has %d result formats but query has %d columns", nr, nCols)
	}
	rf, err := expandFormats(m.ResultFormatCodes, nCols)
	if err != nil {
		return pgwirebase.BindArgs{}, err
	}
	return pgwirebase.BindArgs{Params: m.Parameters, ParamFormats: pf, ResultFormats: rf}, nil
}

func expandFormats(codes []int16, n int) ([]pgwirebase.FormatCode, error) {
	out := make([]pgwirebase.FormatCode, n)
	for i := range out {
		var f int16
		switch len(codes) {
		case 0:
		case 1:
			f = codes[0]
		default:
			f = codes[i]
		}
		if f != 0 && f != 1 {
			err := protoErr(pgcode.InvalidParameterValue, "unsupported format code: %d", f)
			err.(*protoError).index = i + 1
			return nil, err
		}
		out[i] = pgwirebase.FormatCode(f)
	}
	return out, nil
}

func (c *conn) handleDescribe(body []byte) error {
	var m pgproto3.Describe
	if err := m.Decode(body); err != nil || len(body) != 2+len(m.Name) {
		return protoErr(pgcode.ProtocolViolation, "invalid message format")
	}
	switch m.ObjectType {
	case 'S':
		st, err := c.lookupStatement(m.Name)
		if err != nil {
			return err
		}
		c.wr.send(&pgproto3.ParameterDescription{ParameterOIDs: st.ParamTypes()})
		c.sendRowDescription(st.Columns(), true)
	case 'P':
		pt, err := c.lookupPortal(m.Name)
		if err != nil {
			return err
		}
		c.sendRowDescription(pt.Columns(), false)
	default:
		return protoErr(pgcode.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

// sendRowDescription sends RowDescription, or NoData for no columns. A
// statement's description has text formats (formats are not bound yet).
func (c *conn) sendRowDescription(cols []pgwirebase.Column, textFormats bool) {
	if cols == nil {
		c.wr.send(&pgproto3.NoData{})
		return
	}
	c.wr.send(rowDescription(cols, textFormats))
}

func rowDescription(cols []pgwirebase.Column, textFormats bool) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(cols))}
	for i, col := range cols {
		f := int16(col.Format)
		if textFormats {
			f = 0
		}
		rd.Fields[i] = pgproto3.FieldDescription{
			Name: []byte(col.Name), TableOID: col.TableOID, TableAttributeNumber: col.TableAttr,
			DataTypeOID: col.TypeOID, DataTypeSize: col.TypeSize, TypeModifier: col.TypeMod, Format: f,
		}
	}
	return rd
}

func (c *conn) handleExecute(body []byte) error {
	var m pgproto3.Execute
	if err := m.Decode(body); err != nil || len(body) != len(m.Portal)+5 {
		return protoErr(pgcode.ProtocolViolation, "invalid message format")
	}
	pt, err := c.lookupPortal(m.Portal)
	if err != nil {
		return err
	}
	c.markActive(c.proto.portalSQL[m.Portal])
	ctx, end := c.beginStatement()
	if m.MaxRows == 0 && c.rd.syncNext() {
		ctx = pgwirebase.WithSyncFollows(ctx)
	}
	w := c.newResultWriter(false)
	suspended, err := pt.Execute(ctx, int(min(m.MaxRows, 1<<31-1)), w)
	err = c.statementError(ctx, err)
	end()
	w.finishCopyOut()
	if err != nil {
		return err
	}
	if suspended {
		c.wr.send(&pgproto3.PortalSuspended{})
	}
	return nil
}

func (c *conn) handleClose(body []byte) error {
	var m pgproto3.Close
	if err := m.Decode(body); err != nil || len(body) != 2+len(m.Name) {
		return protoErr(pgcode.ProtocolViolation, "invalid message format")
	}
	switch m.ObjectType {
	case 'S':
		c.proto.dropStatement(m.Name)
	case 'P':
		c.proto.dropPortal(m.Name)
	default:
		return protoErr(pgcode.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.wr.send(&pgproto3.CloseComplete{})
	return nil
}

// parseLen and bindLen are the body lengths of the decoded messages: a body
// with bytes beyond them is malformed (PostgreSQL's pq_getmsgend), which
// pgproto3's decoders do not check.
func parseLen(m *pgproto3.Parse) int {
	return len(m.Name) + 1 + len(m.Query) + 1 + 2 + 4*len(m.ParameterOIDs)
}

func bindLen(m *pgproto3.Bind) int {
	n := len(m.DestinationPortal) + 1 + len(m.PreparedStatement) + 1
	n += 2 + 2*len(m.ParameterFormatCodes) + 2 + 2 + 2*len(m.ResultFormatCodes)
	for _, p := range m.Parameters {
		n += 4 + len(p)
	}
	return n
}

// String helps debugging.
func (p *protoState) String() string {
	return fmt.Sprintf("stmts=%d portals=%d ignore=%v", len(p.stmts), len(p.portals), p.ignoreUntilSync)
}
