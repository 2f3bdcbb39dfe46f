package sql

import (
	"time"

	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/types"
)

// columns converts result columns for RowDescription.
func columns(cols []exec.ResultCol, formats []pgwirebase.FormatCode) []pgwirebase.Column {
	if cols == nil {
		return nil
	}
	out := make([]pgwirebase.Column, len(cols))
	for i, c := range cols {
		out[i] = pgwirebase.Column{Name: c.Name, TableOID: c.TableOID, TableAttr: c.Attr,
			TypeOID: c.T.OID, TypeSize: c.T.Size(), TypeMod: c.T.TypeMod()}
		if i < len(formats) {
			out[i].Format = formats[i]
		}
	}
	return out
}

// writeRows sends rows; formats may be nil (all text).
func writeRows(w pgwirebase.RowWriter, cols []exec.ResultCol, formats []pgwirebase.FormatCode, rows [][]types.Datum, loc *time.Location) error {
	vals := make([][]byte, len(cols))
	for _, r := range rows {
		for i, d := range r {
			if d == nil {
				vals[i] = nil
				continue
			}
			f := pgwirebase.FormatText
			if i < len(formats) {
				f = formats[i]
			}
			b, err := types.Format(vals[i][:0], cols[i].T, d, f, loc)
			if err != nil {
				return err
			}
			vals[i] = b
		}
		if err := w.WriteRow(vals); err != nil {
			return err
		}
	}
	return nil
}

// writeResult sends a whole result: RowDescription (simple protocol only),
// rows and the command tag.
func writeResult(w pgwirebase.ResultWriter, cols []exec.ResultCol, formats []pgwirebase.FormatCode, res *exec.Result, loc *time.Location, simple bool) error {
	if simple && cols != nil {
		if err := w.StartResult(columns(cols, nil)); err != nil {
			return err
		}
	}
	if err := writeRows(w, cols, formats, res.Rows, loc); err != nil {
		return err
	}
	return w.Complete(res.Tag)
}
