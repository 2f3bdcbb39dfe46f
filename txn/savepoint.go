package txn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"google.golang.org/protobuf/proto"
)

// Savepoints (SQL's SAVEPOINT / ROLLBACK TO SAVEPOINT).
//
// Every write carries a sequence number: 0 until the first savepoint, then
// a new number after each Savepoint and each RollbackTo. A savepoint is the
// highest number issued when it was taken; RollbackTo(s) asks every range
// a write numbered above s was sent to (answered or not) to undo its
// pending writes above s, and to refuse any that arrives later with a
// number up to the highest issued (a request of a cancelled statement may
// still be in flight). Locks taken since the savepoint stay held until the
// transaction ends: holding a lock longer never breaks serializability.
//
// A failed RollbackTo leaves the ranges in an unknown state: the
// transaction must be retried (the error is a *kverr.TxnRetryError).

// Savepoint returns a savepoint: RollbackTo(it) undoes every write made
// after this call.
func (t *Txn) Savepoint() uint64 {
	s := t.issued
	t.issued++
	t.seq = t.issued
	return s
}

// RollbackTo undoes the writes made since savepoint s (see Savepoint) at
// every range they were sent to. The transaction goes on; on an error it
// must be rolled back and retried.
func (t *Txn) RollbackTo(ctx context.Context, s uint64) error {
	if t.done {
		return ErrDone
	}
	if s > t.issued {
		return fmt.Errorf("txn: rollback to savepoint %d, beyond the last issued %d", s, t.issued)
	}
	upTo := t.issued
	t.issued++
	t.seq = t.issued
	var parts []*participant
	for _, p := range t.participants() {
		if p.maxSeq > s {
			parts = append(parts, p)
		}
	}
	if err := t.rollbackParts(ctx, parts, s, upTo); err != nil {
		t.err = err
		return err
	}
	t.maybeMoveAnchor()
	return nil
}

// rollbackParts sends ROLLBACK_TO to parts in parallel and records, for
// each, whether writes are left there.
func (t *Txn) rollbackParts(ctx context.Context, parts []*participant, s, upTo uint64) error {
	var wg sync.WaitGroup
	resps := make([]*rpcpb.TxnResponse, len(parts))
	errs := make([]error, len(parts))
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i], errs[i] = t.request(ctx, p, rpcpb.TxnRequest_ROLLBACK_TO, func(r *rpcpb.TxnRequest) {
				r.RollbackSeq, r.RollbackUpTo = s, upTo
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if IsRetryable(err) {
			var r *kverr.TxnRetryError
			errors.As(err, &r)
			return r
		}
		return &kverr.TxnRetryError{Reason: fmt.Sprintf("rollback to savepoint: %v", err)}
	}
	for i, p := range parts {
		if err := t.afterRollback(p, resps[i]); err != nil {
			return err
		}
	}
	return nil
}

// afterRollback updates p from its ROLLBACK_TO answer.
func (t *Txn) afterRollback(p *participant, resp *rpcpb.TxnResponse) error {
	if len(resp.Results) != 1 {
		return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: malformed ROLLBACK_TO answer", p.rangeID)}
	}
	if p.uncertain {
		// The range answered in this regime: any lock the cut-short request
		// took is in it (an older regime's locks are gone; a newer one
		// fails the commit), and its late writes are refused.
		p.term, p.gen, p.uncertain = resp.Term, resp.Generation, false
	} else if p.term != resp.Term || p.gen != resp.Generation {
		return &kverr.TxnRetryError{Reason: fmt.Sprintf("range %d: lease moved during the transaction", p.rangeID)}
	}
	p.wrote = resp.Results[0].Found
	if !p.wrote {
		p.first, p.last = nil, nil
	}
	return nil
}

// maybeMoveAnchor picks a new anchor if a rollback left the anchor without
// writes: the first range in touch order that still has some, or none.
// Nothing was prepared yet, so no range has recorded the old anchor key.
func (t *Txn) maybeMoveAnchor() {
	if a := t.parts[t.anchor]; t.anchor == 0 || (a != nil && a.wrote) {
		return
	}
	t.anchor = 0
	m := proto.Clone(t.meta).(*rpcpb.TxnMeta)
	m.AnchorKey = nil
	for _, p := range t.participants() {
		if p.wrote {
			t.anchor, m.AnchorKey = p.rangeID, p.first
			break
		}
	}
	t.meta = m
}
