package exec

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
)

// Streamer is implemented by a plan that can hand its result rows to the
// caller one at a time instead of returning them all (docs/sql.md,
// Streaming results): the caller (the session) sends them to the client
// as they come, so a SELECT over a large table holds one page of it.
type Streamer interface {
	Plan
	// Streams reports whether Stream may be used for this execution.
	Streams(c *Ctx) bool
	// Stream calls emit with each result row in order and returns the
	// command tag. emit may keep the row.
	Stream(c *Ctx, emit func(sem.Row) error) (tag string, err error)
}

// scanPageRows is how many rows a streaming scan reads per KV request.
const scanPageRows = 1024

// errStopStream ends a stream early (its LIMIT is reached).
var errStopStream = errors.New("exec: stream stopped")

// Streams implements Streamer: a filter and projection over a table scan
// or generate_series, with LIMIT / OFFSET but no grouping, DISTINCT or
// ORDER BY, outside EXPLAIN ANALYZE.
func (sp *selectPlan) Streams(c *Ctx) bool {
	if c.analyze != nil || sp.grouping || sp.having != nil || sp.distinct || len(sp.order) > 0 {
		return false
	}
	switch sp.src.(type) {
	case *seriesNode, *scanNode:
		return true
	}
	return false
}

// Stream implements Streamer.
func (sp *selectPlan) Stream(c *Ctx, emit func(sem.Row) error) (string, error) {
	off, err := evalCount(c, sp.offset, "OFFSET")
	if err != nil {
		return "", err
	}
	lim, err := evalCount(c, sp.limit, "LIMIT")
	if err != nil {
		return "", err
	}
	skipped, n := int64(0), int64(0)
	if lim == 0 {
		return "SELECT 0", nil
	}
	row := func(r sem.Row) error {
		if sp.where != nil {
			ok, err := sem.IsTrue(c.Eval, sp.where, r)
			if err != nil || !ok {
				return err
			}
		}
		if skipped < off {
			skipped++
			return nil
		}
		pr := make(sem.Row, len(sp.proj))
		for i, e := range sp.proj {
			v, err := e.Eval(c.Eval, r)
			if err != nil {
				return err
			}
			pr[i] = v
		}
		if err := emit(pr[:len(sp.cols)]); err != nil {
			return err
		}
		n++
		if lim >= 0 && n >= lim {
			return errStopStream
		}
		return nil
	}
	switch src := sp.src.(type) {
	case *seriesNode:
		err = src.each(c, row)
	case *scanNode:
		err = src.each(c, row)
	default:
		err = fmt.Errorf("exec: cannot stream from %T", sp.src)
	}
	if err != nil && !errors.Is(err, errStopStream) {
		return "", err
	}
	return fmt.Sprintf("SELECT %d", n), nil
}

// each calls f with each row the scan keeps (its filter applied), reading
// a full or range scan scanPageRows rows per KV request so that no more
// than a page is held; point and index lookups read what they read.
func (s *scanNode) each(c *Ctx, f func(sem.Row) error) error {
	prefix := s.codec.IndexPrefix(catalog.PrimaryIndexID)
	key, allEq, err := s.eqPrefix(c, prefix)
	if err != nil || key == nil {
		return err
	}
	if allEq || (len(key) == len(prefix) && s.idx != nil) {
		kvs, err := s.fetch(c)
		if err != nil {
			return err
		}
		return s.emitRows(c, kvs, f)
	}
	start, end, err := s.span(c, key)
	if err != nil || start == nil {
		return err
	}
	limit, err := s.kvLimit(c)
	if err != nil {
		return err
	}
	for {
		page := scanPageRows
		if limit > 0 && limit < page {
			page = limit
		}
		kvs, err := s.scanPushed(c, start, end, page) // filtered by the leaseholders
		if err != nil {
			return err
		}
		if err := s.emitRows(c, kvs, f); err != nil {
			return err
		}
		if len(kvs) < page {
			return nil // the span is exhausted (more than page: it was read whole)
		}
		if limit > 0 {
			if limit -= len(kvs); limit <= 0 {
				return nil
			}
		}
		start = append(bytes.Clone(kvs[len(kvs)-1].Key), 0)
		if err := c.Context.Err(); err != nil {
			return err
		}
	}
}

// emitRows decodes kvs, applies the filter and calls f with each row kept.
func (s *scanNode) emitRows(c *Ctx, kvs []kvapi.KeyValue, f func(sem.Row) error) error {
	for _, kv := range kvs {
		row, err := s.codec.DecodeRow(kv.Key, kv.Value)
		if err != nil {
			return err
		}
		if s.filter != nil {
			ok, err := sem.IsTrue(c.Eval, s.filter, row)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if err := f(row); err != nil {
			return err
		}
	}
	return nil
}
