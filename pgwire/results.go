package pgwire

import (
	"io"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// resultWriter is the ResultWriter handed to a session for one Query or
// Execute message.
type resultWriter struct {
	c       *conn
	simple  bool // send RowDescription (simple query protocol)
	copyOut bool // a CopyOutResponse was sent and CopyDone is owed
	row     pgproto3.DataRow
}

var _ pgwirebase.ResultWriter = (*resultWriter)(nil)

func (c *conn) newResultWriter(simple bool) *resultWriter {
	return &resultWriter{c: c, simple: simple}
}

func (w *resultWriter) WriteRow(values [][]byte) error {
	w.row.Values = values
	w.c.wr.send(&w.row)
	w.row.Values = nil
	return w.c.wr.err
}

func (w *resultWriter) StartResult(cols []pgwirebase.Column) error {
	if w.simple {
		w.c.wr.send(rowDescription(cols, false))
	}
	return w.c.wr.err
}

func (w *resultWriter) Complete(tag string) error {
	w.finishCopyOut()
	w.c.wr.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return w.c.wr.err
}

func (w *resultWriter) EmptyQuery() error {
	w.c.wr.send(&pgproto3.EmptyQueryResponse{})
	return w.c.wr.err
}

func (w *resultWriter) Notice(n *pgcode.Error) error {
	w.c.wr.send(noticeResponse(n))
	return w.c.wr.err
}

func (w *resultWriter) SetParam(name, value string) error {
	if name == "application_name" {
		w.c.setAppName(value)
	}
	w.c.wr.send(&pgproto3.ParameterStatus{Name: name, Value: value})
	return w.c.wr.err
}

func copyFormats(f pgwirebase.CopyFormat) (byte, []uint16) {
	cols := make([]uint16, len(f.Columns))
	for i, cf := range f.Columns {
		cols[i] = uint16(cf)
	}
	return byte(f.Overall), cols
}

func (w *resultWriter) CopyIn(f pgwirebase.CopyFormat) (io.Reader, error) {
	overall, cols := copyFormats(f)
	w.c.wr.send(&pgproto3.CopyInResponse{OverallFormat: overall, ColumnFormatCodes: cols})
	if err := w.c.wr.flush(); err != nil {
		return nil, err
	}
	return &copyInReader{c: w.c}, nil
}

func (w *resultWriter) CopyOut(f pgwirebase.CopyFormat) (io.Writer, error) {
	overall, cols := copyFormats(f)
	w.c.wr.send(&pgproto3.CopyOutResponse{OverallFormat: overall, ColumnFormatCodes: cols})
	w.copyOut = true
	return copyOutWriter{w.c}, w.c.wr.err
}

// finishCopyOut sends the CopyDone owed by a COPY TO STDOUT.
func (w *resultWriter) finishCopyOut() {
	if w.copyOut {
		w.copyOut = false
		w.c.wr.send(&pgproto3.CopyDone{})
	}
}

type copyOutWriter struct{ c *conn }

func (cw copyOutWriter) Write(p []byte) (int, error) {
	cw.c.wr.send(&pgproto3.CopyData{Data: p})
	if cw.c.wr.err != nil {
		return 0, cw.c.wr.err
	}
	return len(p), nil
}

// copyInReader yields the payloads of CopyData messages until CopyDone.
type copyInReader struct {
	c       *conn
	pending []byte
	err     error // sticky end of stream
}

func (r *copyInReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.pending, r.err = r.next()
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// next reads the next COPY-mode message.
func (r *copyInReader) next() ([]byte, error) {
	typ, body, err := r.c.rd.readMessage()
	if err != nil {
		err = r.c.framingError(err)
		r.c.fatalErr = err
		return nil, err
	}
	switch typ {
	case 'd':
		return body, nil
	case 'c':
		return nil, io.EOF
	case 'f':
		var m pgproto3.CopyFail
		_ = m.Decode(body)
		return nil, pgcode.New(pgcode.QueryCanceled, "COPY from stdin failed: %s", m.Message)
	case 'H', 'S':
		return nil, nil // ignored during COPY IN, as in PostgreSQL
	default:
		return nil, pgcode.New(pgcode.ProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", typ)
	}
}
