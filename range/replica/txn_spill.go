package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/txn/locktable"
)

// Large transactions (see docs/transactions.md, "Large transactions").
//
// When a transaction's pending writes at this leaseholder pass SpillBytes,
// they leave the lock table: SPILL commands replicate them, in chunks of at
// most spillChunkBytes, as provisional writes under
// keys.ProvisionalTxnPrefix, which no reader but the transaction sees. The
// locks stay in the lock table. The commit command (one-phase, prepare,
// commit) says Spilled, and its apply moves them into place before the
// writes it carries; an abort deletes them through Raft
// (CLEAN_PROVISIONAL). A new regime finds the provisional writes of
// transactions without a prepared record — they can never commit, their
// locks are gone — and deletes them; a split deletes those of unprepared
// transactions and cuts those of prepared ones at the split key.

// DefaultSpillBytes is the threshold when Config.SpillBytes is nil.
const DefaultSpillBytes = 4 << 20

// spillChunkBytes bounds one SPILL command.
const spillChunkBytes = 1 << 20

// Provisional values are tagged: a value to set, or a deletion.
const (
	provSet    = 's'
	provDelete = 'd'
)

func (r *Replica) spillBytes() int64 {
	if r.cfg.SpillBytes != nil {
		if n := r.cfg.SpillBytes(); n > 0 {
			return n
		}
	}
	return DefaultSpillBytes
}

// maybeSpill replicates txn's pending writes here as provisional writes if
// they pass the threshold. It returns once they are applied; a failure
// aborts the transaction here (a retry error).
func (r *Replica) maybeSpill(ctx context.Context, term, gen uint64, meta *rpcpb.TxnMeta) error {
	id := locktable.TxnID(meta.Id)
	r.txn.mu.Lock()
	rg, err := r.regimeLocked(term, gen)
	if err != nil || rg.table.PendingBytes(id) <= r.spillBytes() || rg.spilling[id] || rg.marked[id] {
		r.txn.mu.Unlock()
		return err
	}
	if _, ok := rg.aborted[id]; ok {
		r.txn.mu.Unlock()
		return nil
	}
	writes := rg.table.TakePendingWrites(id)
	rg.spilling[id] = true
	r.txn.mu.Unlock()

	err = r.proposeSpill(ctx, term, gen, meta, writes)

	r.txn.mu.Lock()
	defer r.txn.mu.Unlock()
	delete(rg.spilling, id)
	if r.txn.regime != rg {
		// The next regime deletes what was spilled.
		return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: lease moved while the transaction's writes spilled", r.rangeID)}
	}
	if why, ok := rg.aborted[id]; ok {
		r.cleanProvisionalAsync(meta) // abortLocked left it to us
		return &kverr.TxnRetryError{Reason: why}
	}
	if err != nil {
		why := fmt.Sprintf("range %d: spilling the transaction's writes failed: %v", r.rangeID, err)
		r.abortLocked(rg, id, why)
		return &kverr.TxnRetryError{Reason: why}
	}
	r.cfg.Metrics.TxnSpills.Add(1)
	return nil
}

// proposeSpill proposes writes as SPILL commands of bounded size, one
// after the other.
func (r *Replica) proposeSpill(ctx context.Context, term, gen uint64, meta *rpcpb.TxnMeta, writes []locktable.Write) error {
	cmd := &rpcpb.TxnCommand{Kind: rpcpb.TxnCommand_SPILL, Txn: meta, LockTerm: term, LockGeneration: gen}
	size := 0
	flush := func() error {
		if len(cmd.Writes)+len(cmd.Deletes) == 0 {
			return nil
		}
		// The chunk runs to its end even if the caller gives up: the
		// outcome decides whether the transaction can go on.
		if _, err := r.propose(context.WithoutCancel(ctx), &rpcpb.RaftCommand{Txn: cmd}); err != nil {
			return err
		}
		cmd = &rpcpb.TxnCommand{Kind: rpcpb.TxnCommand_SPILL, Txn: meta, LockTerm: term, LockGeneration: gen}
		size = 0
		return nil
	}
	for _, w := range writes {
		if w.Deleted {
			cmd.Deletes = append(cmd.Deletes, w.Key)
		} else {
			cmd.Writes = append(cmd.Writes, &rpcpb.KeyValue{Key: w.Key, Value: w.Value})
		}
		if size += len(w.Key) + len(w.Value) + 16; size >= spillChunkBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// cleanProvisionalAsync deletes txn's provisional writes through Raft. A
// failure (lost leadership) leaves them to the next regime.
func (r *Replica) cleanProvisionalAsync(meta *rpcpb.TxnMeta) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := &rpcpb.TxnCommand{Kind: rpcpb.TxnCommand_CLEAN_PROVISIONAL, Txn: &rpcpb.TxnMeta{Id: meta.Id}}
		if _, err := r.propose(ctx, &rpcpb.RaftCommand{Txn: cmd}); err != nil {
			r.cfg.Logger.Debug("clean provisional writes", "range", r.rangeID, "txn", meta.Id, "err", err)
		}
	}()
}

// cleanOrphansLocked finds, at the start of regime rg, the provisional
// writes of transactions with no prepared record here: their locks died
// with the last regime and every commit of theirs from it has applied (a
// regime starts once an entry of its own term applied), so they can never
// commit. They are marked aborted and their writes deleted.
func (r *Replica) cleanOrphansLocked(rg *txnRegime) error {
	p := keys.ProvisionalPrefix(r.rangeID)
	start, end := p, keys.PrefixEnd(p)
	for {
		var txnID uint64
		found := false
		err := r.cfg.Engine.Scan(start, end, false, func(k, _ []byte) bool {
			txnID, _, found = keys.DecodeProvisionalKey(r.rangeID, k)
			return false
		})
		if err != nil || !found {
			return err
		}
		id := locktable.TxnID(txnID)
		if !rg.marked[id] {
			rg.aborted[id] = fmt.Sprintf("range %d: the lease moved while the transaction had spilled writes", r.rangeID)
			r.cleanProvisionalAsync(&rpcpb.TxnMeta{Id: txnID})
		}
		if txnID == ^uint64(0) {
			return nil
		}
		start = keys.ProvisionalTxnPrefix(r.rangeID, txnID+1)
	}
}

// provisionalSpan returns the span of keys txn wrote provisionally here
// (ok=false if none), which a rebuilt prepared transaction locks.
func (r *Replica) provisionalSpan(txnID uint64) (locktable.Span, bool, error) {
	p := keys.ProvisionalTxnPrefix(r.rangeID, txnID)
	var first, last []byte
	err := r.cfg.Engine.Scan(p, keys.PrefixEnd(p), false, func(k, _ []byte) bool {
		first = bytes.Clone(k[len(p):])
		return false
	})
	if err == nil && first != nil {
		err = r.cfg.Engine.Scan(p, keys.PrefixEnd(p), true, func(k, _ []byte) bool {
			last = bytes.Clone(k[len(p):])
			return false
		})
	}
	if err != nil || first == nil {
		return locktable.Span{}, false, err
	}
	return locktable.Span{Key: first, EndKey: keys.Next(last)}, true, nil
}

// provisionalGet reads txn's provisional write of key.
func (r *Replica) provisionalGet(txnID uint64, key []byte) (locktable.Write, bool, error) {
	v, found, err := r.cfg.Engine.Get(keys.ProvisionalKey(r.rangeID, txnID, key))
	if err != nil || !found {
		return locktable.Write{}, false, err
	}
	w, err := decodeProvisional(key, v)
	return w, err == nil, err
}

// provisionalScan returns txn's provisional writes in span, ascending.
func (r *Replica) provisionalScan(txnID uint64, span locktable.Span) ([]locktable.Write, error) {
	p := keys.ProvisionalTxnPrefix(r.rangeID, txnID)
	var out []locktable.Write
	var derr error
	err := r.cfg.Engine.Scan(append(bytes.Clone(p), span.Key...), append(bytes.Clone(p), span.EndKey...), false, func(k, v []byte) bool {
		var w locktable.Write
		w, derr = decodeProvisional(bytes.Clone(k[len(p):]), v)
		out = append(out, w)
		return derr == nil
	})
	return out, errors.Join(err, derr)
}

func decodeProvisional(key, v []byte) (locktable.Write, error) {
	if len(v) == 0 || (v[0] != provSet && v[0] != provDelete) {
		return locktable.Write{}, fmt.Errorf("corrupt provisional write at %s", keys.Pretty(key))
	}
	return locktable.Write{Key: key, Value: bytes.Clone(v[1:]), Deleted: v[0] == provDelete}, nil
}

func encodeProvisional(value []byte, deleted bool) []byte {
	if deleted {
		return []byte{provDelete}
	}
	return append([]byte{provSet}, value...)
}

// overlay returns the writes of base and top merged by key, ascending;
// top wins where both write a key.
func overlay(base, top []locktable.Write) []locktable.Write {
	if len(base) == 0 {
		return top
	}
	out := make([]locktable.Write, 0, len(base)+len(top))
	i, j := 0, 0
	for i < len(base) || j < len(top) {
		switch {
		case j == len(top) || (i < len(base) && bytes.Compare(base[i].Key, top[j].Key) < 0):
			out = append(out, base[i])
			i++
		case i == len(base) || bytes.Compare(top[j].Key, base[i].Key) < 0:
			out = append(out, top[j])
			j++
		default:
			out = append(out, top[j])
			i++
			j++
		}
	}
	return out
}

// writeProvisional stores a SPILL chunk under the transaction's
// provisional prefix.
func (a *applier) writeProvisional(txnID uint64, writes []*rpcpb.KeyValue, deletes [][]byte) error {
	for _, w := range writes {
		if err := a.b.Set(keys.ProvisionalKey(a.r.rangeID, txnID, w.Key), encodeProvisional(w.Value, false)); err != nil {
			return err
		}
	}
	for _, k := range deletes {
		if err := a.b.Set(keys.ProvisionalKey(a.r.rangeID, txnID, k), encodeProvisional(nil, true)); err != nil {
			return err
		}
	}
	return nil
}

// maybeMoveProvisional moves a committing transaction's provisional writes
// into place and deletes them; the writes its command carries come after
// (they are newer). A deterministic function of the replica's state, so
// every replica moves the same writes.
func (a *applier) maybeMoveProvisional(txnID uint64, spilled bool) error {
	if !spilled {
		return nil
	}
	p := keys.ProvisionalTxnPrefix(a.r.rangeID, txnID)
	var werr error
	err := a.b.Scan(p, keys.PrefixEnd(p), false, func(k, v []byte) bool {
		w, err := decodeProvisional(k[len(p):], v)
		switch {
		case err != nil:
			werr = err
		case w.Deleted:
			werr = a.b.Delete(w.Key)
		default:
			werr = a.b.Set(w.Key, w.Value)
		}
		return werr == nil
	})
	if err = errors.Join(err, werr); err != nil {
		return err
	}
	return a.b.DeleteRange(p, keys.PrefixEnd(p))
}

// splitProvisional hands the right-hand side of a split its share of the
// provisional writes, in the split's batch. Those of a prepared
// transaction (in prepared) are cut at the split key: the keys on the
// right move under the new range's prefix. Those of any other transaction
// are deleted: the split ends the lock regime, so it can never commit.
// It returns, per prepared transaction, whether provisional writes remain
// on the left and on the right.
func (a *applier) splitProvisional(split []byte, right uint64, prepared map[uint64]bool) (left, moved map[uint64]bool, err error) {
	lp := keys.ProvisionalPrefix(a.r.rangeID)
	left, moved = map[uint64]bool{}, map[uint64]bool{}
	type kv struct{ k, v []byte }
	var toMove []kv
	drop := map[uint64]bool{}
	var derr error
	err = a.b.Scan(lp, keys.PrefixEnd(lp), false, func(k, v []byte) bool {
		txnID, key, ok := keys.DecodeProvisionalKey(a.r.rangeID, k)
		if !ok {
			derr = fmt.Errorf("corrupt provisional key %q", k)
			return false
		}
		switch {
		case !prepared[txnID]:
			drop[txnID] = true
		case bytes.Compare(key, split) < 0:
			left[txnID] = true
		default:
			moved[txnID] = true
			toMove = append(toMove, kv{bytes.Clone(k), bytes.Clone(v)})
		}
		return true
	})
	if err = errors.Join(err, derr); err != nil {
		return nil, nil, err
	}
	for id := range drop {
		p := keys.ProvisionalTxnPrefix(a.r.rangeID, id)
		if err := a.b.DeleteRange(p, keys.PrefixEnd(p)); err != nil {
			return nil, nil, err
		}
	}
	for _, e := range toMove {
		txnID, key, _ := keys.DecodeProvisionalKey(a.r.rangeID, e.k)
		if err := a.b.Delete(e.k); err != nil {
			return nil, nil, err
		}
		if err := a.b.Set(keys.ProvisionalKey(right, txnID, key), e.v); err != nil {
			return nil, nil, err
		}
	}
	return left, moved, nil
}
