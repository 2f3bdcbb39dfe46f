package replica

import (
	"context"
	"encoding/binary"

	"github.com/ordodb/ordo/rpc/rpcpb"
	"go.etcd.io/raft/v3"
)

// readQueue holds the linearizable reads of a replica through their three
// stages: pending (no ReadIndex asked yet), in flight (asked, index not
// known), waiting (index known, not yet applied).
type readQueue struct {
	seq      uint64
	pending  []*readReq
	inflight map[string][]*readReq
	waiting  []*readReq
}

type readReq struct {
	index uint64
	done  chan error
}

func (q *readQueue) add(rr *readReq) { q.pending = append(q.pending, rr) }

// issue moves the pending reads in flight under one new request context.
func (q *readQueue) issue() (ctx []byte, ok bool) {
	if len(q.pending) == 0 {
		return nil, false
	}
	q.seq++
	ctx = binary.BigEndian.AppendUint64(nil, q.seq)
	if q.inflight == nil {
		q.inflight = map[string][]*readReq{}
	}
	q.inflight[string(ctx)] = q.pending
	q.pending = nil
	return ctx, true
}

func (q *readQueue) indexKnown(ctx []byte, index uint64) {
	for _, rr := range q.inflight[string(ctx)] {
		rr.index = index
		q.waiting = append(q.waiting, rr)
	}
	delete(q.inflight, string(ctx))
}

func (q *readQueue) releaseApplied(applied uint64) {
	kept := q.waiting[:0]
	for _, rr := range q.waiting {
		if rr.index <= applied {
			rr.done <- nil
		} else {
			kept = append(kept, rr)
		}
	}
	q.waiting = kept
}

func (q *readQueue) failAll(err error) {
	for _, rr := range q.pending {
		rr.done <- err
	}
	for _, rrs := range q.inflight {
		for _, rr := range rrs {
			rr.done <- err
		}
	}
	for _, rr := range q.waiting {
		rr.done <- err
	}
	q.pending, q.inflight, q.waiting = nil, nil, nil
}

func (r *Replica) issueReadsLocked() {
	if r.mu.state != raft.StateLeader {
		return
	}
	if ctx, ok := r.mu.reads.issue(); ok {
		r.mu.raw.ReadIndex(ctx)
	}
}

// read serves read-only ops after a ReadIndex round confirms this replica
// still leads and it has applied everything committed before the read began.
func (r *Replica) read(ctx context.Context, ops []*rpcpb.Op) ([]*rpcpb.OpResult, error) {
	rr := &readReq{done: make(chan error, 1)}
	r.mu.Lock()
	if r.mu.destroyed || r.mu.state != raft.StateLeader {
		err := r.notLeaseholderLocked()
		r.mu.Unlock()
		return nil, err
	}
	if mutStaleReads {
		rr.done <- nil // mutation only (mutation_stale_reads_on.go): no ReadIndex round
	} else {
		r.mu.reads.add(rr)
	}
	r.mu.Unlock()
	r.cfg.Host.Schedule(r.rangeID)
	select {
	case err := <-rr.done:
		if err != nil {
			return nil, err
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Applied >= read index. Evaluate against the engine under mu so the
	// descriptor we check is the one the data matches.
	r.mu.Lock()
	desc := r.mu.desc
	r.mu.Unlock()
	if err := checkOpKeys(desc, ops); err != nil {
		return nil, err
	}
	return evalReads(r.cfg.Engine, ops, r.cfg.Filters)
}
