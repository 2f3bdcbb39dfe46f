package catalog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

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
	next := seq.Start
	if found {
		next = int64(binary.BigEndian.Uint64(cur)) + seq.Increment
	}
	if next > seq.Max || next < seq.Min {
		return 0, fmt.Errorf("%w (%d)", ErrSequenceLimit, next)
	}
	if err := kv.Put(ctx, seqKey(id), binary.BigEndian.AppendUint64(nil, uint64(next))); err != nil {
		return 0, err
	}
	return next, kv.Commit(ctx)
}

// SetVal sets the sequence's current value in the caller's transaction.
func (c *Txn) SetVal(ctx context.Context, id uint64, v int64) error {
	return c.KV.Put(ctx, seqKey(id), binary.BigEndian.AppendUint64(nil, uint64(v)))
}

// DeleteSequenceValue drops a sequence's counter.
func (c *Txn) DeleteSequenceValue(ctx context.Context, id uint64) error {
	return c.KV.Delete(ctx, seqKey(id))
}
