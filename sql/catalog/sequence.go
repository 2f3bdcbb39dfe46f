package catalog

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/ordodb/ordo/sql/kvapi"
)

// ErrSequenceLimit is returned when a sequence passes its bound.
var ErrSequenceLimit = errors.New("catalog: sequence reached its limit")

// NextVal increments the sequence in its own transaction (as PostgreSQL's
// nextval, it is not rolled back with the caller), retrying on conflicts.
func NextVal(ctx context.Context, db kvapi.DB, id uint64, seq *Sequence) (int64, error) {
	kv, err := db.Begin(ctx)
	for attempt := 0; ; attempt++ {
		if err != nil {
			return 0, err
		}
		v, err2 := nextValOnce(ctx, kv, id, seq)
		if err2 == nil || !kvapi.IsRetryable(err2) || attempt >= 100 {
			if err2 != nil {
				_ = kv.Rollback(ctx)
			}
			return v, err2
		}
		// Retry with the same conflict priority, so this nextval ages.
		if r, ok := kv.(kvapi.Restarter); ok {
			kv, err = r.Restart(ctx)
		} else {
			_ = kv.Rollback(ctx)
			kv, err = db.Begin(ctx)
		}
	}
}

func nextValOnce(ctx context.Context, kv kvapi.Txn, id uint64, seq *Sequence) (int64, error) {
	cur, found, err := kv.Get(ctx, seqKey(id), kvapi.LockExclusive)
	if err != nil {
		return 0, err
	}
	next, err := seq.step(decodeSeqValue(cur, found, seq))
	if err != nil {
		return 0, err
	}
	if err := kv.Put(ctx, seqKey(id), encodeSeqValue(next, true)); err != nil {
		return 0, err
	}
	return next, kv.Commit(ctx)
}

// seqValue is a sequence's stored state: its last value and whether
// nextval returned it (PostgreSQL's is_called); a fresh sequence is
// {Start, false}.
type seqValue struct {
	last   int64
	called bool
}

func encodeSeqValue(v int64, called bool) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(v))
	if called {
		return b
	}
	return append(b, 0)
}

func decodeSeqValue(b []byte, found bool, seq *Sequence) seqValue {
	if !found || len(b) < 8 {
		return seqValue{last: seq.Start}
	}
	return seqValue{last: int64(binary.BigEndian.Uint64(b)), called: len(b) == 8}
}

// step returns the value nextval hands out after v: v itself when it was
// not called yet, else v plus the increment, wrapped around with CYCLE.
func (s *Sequence) step(v seqValue) (int64, error) {
	if !v.called {
		return v.last, nil
	}
	next, overflow := addInt64(v.last, s.Increment)
	if !overflow && next <= s.Max && next >= s.Min {
		return next, nil
	}
	if !s.Cycle {
		return 0, ErrSequenceLimit
	}
	if s.Increment > 0 {
		return s.Min, nil
	}
	return s.Max, nil
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0)
}

// SetVal sets the sequence's value, as PostgreSQL's setval: in its own
// transaction, so it is not rolled back with the caller's. With called
// false the next nextval returns v itself.
func SetVal(ctx context.Context, db kvapi.DB, id uint64, v int64, called bool) error {
	kv, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	if err := kv.Put(ctx, seqKey(id), encodeSeqValue(v, called)); err != nil {
		_ = kv.Rollback(ctx)
		return err
	}
	return kv.Commit(ctx)
}

// DeleteSequenceValue drops a sequence's counter.
func (c *Txn) DeleteSequenceValue(ctx context.Context, id uint64) error {
	return c.KV.Delete(ctx, seqKey(id))
}
