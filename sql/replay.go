package sql

import (
	"context"
	"fmt"
	"hash"
	"hash/fnv"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// Limits of the replay log of one transaction block.
const (
	maxLogEntries = 1000
	maxLogBytes   = 1 << 20
)

// txnLog records the statements of an explicit transaction block and a
// digest of the result each one returned to the client. When the block's
// KV transaction is aborted by a retryable conflict (40001, e.g. wounded
// by an older transaction), the session re-runs the logged statements in a
// new KV transaction; if every one returns exactly what the client already
// saw, the client cannot tell the new transaction from the old one and the
// block carries on; otherwise (or after MaxRetries attempts) the client
// gets the 40001. Statements whose input cannot be re-read (COPY FROM) or
// a log beyond its limits make the block non-replayable.
type txnLog struct {
	entries []logEntry
	bytes   int
	broken  bool
}

type logEntry struct {
	ast    *pg.Node
	st     *stmt // nil for a simple-protocol statement
	params []any
	digest uint64
}

func (l *txnLog) reset() { *l = txnLog{} }

func (l *txnLog) add(ast *pg.Node, st *stmt, params []any, res *exec.Result) {
	if l.broken {
		return
	}
	l.bytes += 64 + 16*len(params)
	if len(l.entries) >= maxLogEntries || l.bytes > maxLogBytes {
		l.broken = true
		l.entries = nil
		return
	}
	d := res.Digest
	if !res.Streamed {
		d = digest(res)
	}
	l.entries = append(l.entries, logEntry{ast: ast, st: st, params: params, digest: d})
}

// digest hashes a result's rows and tag (see digester).
func digest(res *exec.Result) uint64 {
	d := newDigester()
	for _, r := range res.Rows {
		d.add(r)
	}
	return d.sum(res.Tag)
}

// digester hashes a result row by row, so that a streamed result (whose
// rows are not kept) gets the digest its materialised form would.
type digester struct{ h hash.Hash64 }

func newDigester() digester { return digester{h: fnv.New64a()} }

func (d digester) add(r []types.Datum) {
	for _, v := range r {
		if v == nil {
			d.h.Write([]byte{0})
			continue
		}
		fmt.Fprintf(d.h, "\x01%T:%v", v, v)
	}
	d.h.Write([]byte{2})
}

func (d digester) sum(tag string) uint64 {
	d.h.Write([]byte{3})
	d.h.Write([]byte(tag))
	return d.h.Sum64()
}

// retryable reports whether err is a conflict a block replay may hide.
func retryable(err error) bool {
	return kvapi.IsRetryable(err) || pgcode.Of(err) == pgcode.SerializationFailure
}

// replayBlock restarts a block's KV transaction and re-runs its log. It
// reports whether the block may carry on. An implicit block (the
// statements of an extended-protocol batch before Sync, or of one simple
// query string) is replayed like an explicit one: its results were sent,
// so the replay must give the same ones.
func (s *Session) replayBlock(ctx context.Context) bool {
	if (s.mode != explicitTxn && s.mode != implicitTxn) || s.log.broken {
		return false
	}
	if s.mode == implicitTxn && len(s.log.entries) == 0 {
		// An implicit transaction logs a statement only once it has run
		// (a lone statement commits before that): with nothing logged, a
		// replay would commit an empty transaction as if it were the
		// statement's. The caller retries the statement itself.
		return false
	}
	for attempt := 0; attempt < s.exec.cfg.MaxRetries; attempt++ {
		if err := s.restartTxn(ctx); err != nil {
			return false
		}
		same, err := s.replayOnce(ctx)
		if err == nil && same {
			return true
		}
		if err == nil || !retryable(err) {
			// The replay's transaction holds locks; no caller will use it.
			s.dropReplayTxn(ctx)
			return false
		}
	}
	s.dropReplayTxn(ctx)
	return false
}

// dropReplayTxn rolls back the transaction of a replay that cannot carry
// the block on.
func (s *Session) dropReplayTxn(ctx context.Context) {
	if s.cat != nil {
		_ = s.cat.KV.Rollback(ctx)
		s.cat = nil
	}
}

// restartTxn replaces the KV transaction, keeping the block's start time
// (now() must not move) and, when the KV layer allows, its priority.
func (s *Session) restartTxn(ctx context.Context) error {
	start := s.txnStart
	old := s.cat
	s.cat = nil
	var kv kvapi.Txn
	var err error
	if r, ok := kvOf(old).(kvapi.Restarter); ok {
		kv, err = r.Restart(ctx)
	} else {
		if old != nil {
			_ = old.KV.Rollback(ctx)
		}
		kv, err = s.exec.cfg.DB.Begin(ctx)
	}
	if err != nil {
		return sqlerr.FromKV(err)
	}
	s.setTxn(kv)
	s.txnStart = start
	return nil
}

func (s *Session) replayOnce(ctx context.Context) (bool, error) {
	s.sp.reset() // rebuilt by the logged SAVEPOINTs
	for _, e := range s.log.entries {
		if t := e.ast.GetTransactionStmt(); t != nil {
			if err := s.savepointOp(ctx, t); err != nil {
				return false, err
			}
			continue
		}
		res, _, err := s.runPlanned(ctx, e.ast, e.st, e.params)
		if err != nil {
			return false, err
		}
		if digest(res) != e.digest {
			return false, nil
		}
	}
	return true, nil
}

func kvOf(c *catalog.Txn) kvapi.Txn {
	if c == nil {
		return nil
	}
	return c.KV
}
