package sql

import (
	"time"

	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// Streaming results (docs/sql.md, Streaming results). A SELECT whose plan
// can stream (exec.Streamer) hands its rows to a rowSink. The sink holds
// the first streamBufferRows rows (or streamBufferBytes) back: a result
// that fits is sent whole after the statement's commit, as before, so a
// conflict can still be retried unseen. Past that the sink sends what it
// holds and every later row as it comes; the statement can then no longer
// be retried in ordo (an error after the first rows reaches the client as
// an ErrorResponse in place of CommandComplete, as a PostgreSQL error
// during a large SELECT does), and its memory is one KV page.
const (
	streamBufferRows  = 1000
	streamBufferBytes = 256 << 10
)

// rowSink receives one statement's streamed rows.
type rowSink struct {
	w       pgwirebase.ResultWriter
	cols    []exec.ResultCol
	formats []pgwirebase.FormatCode
	loc     *time.Location
	simple  bool

	buf     [][]types.Datum
	bytes   int64
	started bool // rows were sent: the statement cannot be retried
	digest  digester
}

func newRowSink(w pgwirebase.ResultWriter, cols []exec.ResultCol, formats []pgwirebase.FormatCode, loc *time.Location, simple bool) *rowSink {
	return &rowSink{w: w, cols: cols, formats: formats, loc: loc, simple: simple, digest: newDigester()}
}

// reset starts a new attempt of the statement (only before started).
func (k *rowSink) reset() {
	k.buf, k.bytes, k.digest = nil, 0, newDigester()
}

func (k *rowSink) emit(r sem.Row) error {
	k.digest.add(r)
	if k.started {
		return writeRows(k.w, k.cols, k.formats, [][]types.Datum{r}, k.loc)
	}
	k.buf = append(k.buf, r)
	k.bytes += exec.RowBytes(r)
	if len(k.buf) < streamBufferRows && k.bytes < streamBufferBytes {
		return nil
	}
	k.started = true
	if k.simple && k.cols != nil {
		if err := k.w.StartResult(columns(k.cols, nil)); err != nil {
			return err
		}
	}
	buf := k.buf
	k.buf, k.bytes = nil, 0
	return writeRows(k.w, k.cols, k.formats, buf, k.loc)
}

// result is the statement's result after a successful Stream.
func (k *rowSink) result(tag string) *exec.Result {
	if !k.started {
		return &exec.Result{Rows: k.buf, Tag: tag}
	}
	return &exec.Result{Tag: tag, Streamed: true, Digest: k.digest.sum(tag)}
}
