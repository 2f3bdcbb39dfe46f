package kvmem

import (
	"context"
	"time"

	"github.com/RaduBerinde/btreemap"

	"github.com/ordodb/ordo/sql/kvapi"
)

type lockMode uint8

const (
	none lockMode = iota
	shared
	exclusive
)

func mode(l kvapi.Lock) lockMode {
	switch l {
	case kvapi.LockShared:
		return shared
	case kvapi.LockExclusive:
		return exclusive
	}
	return none
}

// holders are the transactions holding a lock on one key.
type holders struct {
	ex *txn
	sh map[*txn]struct{}
}

// spanLock is a lock on [start, end).
type spanLock struct {
	start, end string
	mode       lockMode
	owner      *txn
}

func conflicts(a, b lockMode) bool { return a == exclusive || b == exclusive }

// lockLocked acquires a lock on key (end == "") or on [key, end): it wounds
// younger conflicting holders and waits for older ones.
func (t *txn) lockLocked(ctx context.Context, key, end string, m lockMode) error {
	if err := t.checkLocked(); err != nil {
		return err
	}
	if m == none {
		return nil
	}
	var timer *time.Timer
	for {
		blockers := t.conflictsLocked(key, end, m)
		if len(blockers) == 0 {
			t.grantLocked(key, end, m)
			return nil
		}
		if t.woundLocked(blockers) {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(t.db.cfg.LockTimeout)
			defer timer.Stop()
		}
		if err := t.waitLocked(ctx, timer); err != nil {
			return err
		}
	}
}

// woundLocked aborts every blocker younger than t; it reports whether any
// was aborted.
func (t *txn) woundLocked(blockers map[*txn]struct{}) bool {
	wounded := false
	for b := range blockers {
		if t.id < b.id {
			b.abortLocked(aborted)
			wounded = true
		}
	}
	return wounded
}

// waitLocked releases db.mu until locks change, the context ends or the
// timer fires, then checks that t was not aborted meanwhile.
func (t *txn) waitLocked(ctx context.Context, timer *time.Timer) error {
	db := t.db
	ch := db.mu.changed
	db.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer.C:
		err = kvapi.ErrLockTimeout
	}
	db.mu.Lock()
	if err != nil {
		return err
	}
	return t.checkLocked()
}

func (t *txn) conflictsLocked(key, end string, m lockMode) map[*txn]struct{} {
	db := t.db
	out := map[*txn]struct{}{}
	addHolders := func(h *holders) {
		if h.ex != nil && h.ex != t {
			out[h.ex] = struct{}{}
		}
		if m == exclusive {
			for o := range h.sh {
				if o != t {
					out[o] = struct{}{}
				}
			}
		}
	}
	if end == "" {
		if _, h, ok := db.mu.points.Get(key); ok {
			addHolders(h)
		}
	} else {
		for _, h := range db.mu.points.Ascend(btreemap.GE(key), btreemap.LT(end)) {
			addHolders(h)
		}
	}
	for s := range db.mu.spans {
		if s.owner != t && conflicts(s.mode, m) && overlaps(s, key, end) {
			out[s.owner] = struct{}{}
		}
	}
	return out
}

func overlaps(s *spanLock, key, end string) bool {
	if end == "" {
		return s.start <= key && key < s.end
	}
	return s.start < end && key < s.end
}

func (t *txn) grantLocked(key, end string, m lockMode) {
	db := t.db
	if end != "" {
		s := &spanLock{start: key, end: end, mode: m, owner: t}
		db.mu.spans[s] = struct{}{}
		t.spans = append(t.spans, s)
		return
	}
	_, h, ok := db.mu.points.Get(key)
	if !ok {
		h = &holders{sh: map[*txn]struct{}{}}
		db.mu.points.ReplaceOrInsert(key, h)
	}
	if h.ex == t {
		return
	}
	if _, held := h.sh[t]; !held {
		t.points = append(t.points, key)
	}
	if m == exclusive {
		h.ex = t
		delete(h.sh, t)
		return
	}
	h.sh[t] = struct{}{}
}

// releaseLocked drops every lock of t and wakes waiters.
func (t *txn) releaseLocked() {
	db := t.db
	for _, k := range t.points {
		_, h, ok := db.mu.points.Get(k)
		if !ok {
			continue
		}
		if h.ex == t {
			h.ex = nil
		}
		delete(h.sh, t)
		if h.ex == nil && len(h.sh) == 0 {
			db.mu.points.Delete(k)
		}
	}
	for _, s := range t.spans {
		delete(db.mu.spans, s)
	}
	t.points, t.spans = nil, nil
	close(db.mu.changed)
	db.mu.changed = make(chan struct{})
}
