package locktable

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// model is a brute-force lock table: flat lists, pairwise checks. The
// property test drives it and the real Table with the same random steps
// and compares them after every step.
type model struct {
	txns map[TxnID]*mTxn
	held []mLock
}

type mTxn struct {
	id       TxnID
	prio     Priority
	prepared bool
	wounded  bool
	waiting  *mLock
	granted  int // requests granted after waiting
}

type mLock struct {
	txn  TxnID
	span Span
	mode Mode
}

func (m *model) older(a, b TxnID) bool {
	return older(m.txns[a].prio, a, m.txns[b].prio, b)
}

func conflicts(a, b mLock) bool {
	return a.txn != b.txn && !(a.mode == Shared && b.mode == Shared) && a.span.Overlaps(b.span)
}

// waiters returns the queued requests, oldest transaction first.
func (m *model) waiters() []mLock {
	var ws []mLock
	for _, tx := range m.txns {
		if tx.waiting != nil {
			ws = append(ws, *tx.waiting)
		}
	}
	slices.SortFunc(ws, func(a, b mLock) int {
		if m.older(a.txn, b.txn) {
			return -1
		}
		return 1
	})
	return ws
}

// blockers is the documented wait rule: conflicting holders, and
// conflicting requests of older transactions.
func (m *model) blockers(r mLock) []TxnID {
	var ids []TxnID
	for _, h := range m.held {
		if conflicts(h, r) {
			ids = append(ids, h.txn)
		}
	}
	for _, w := range m.waiters() {
		if w.txn != r.txn && m.older(w.txn, r.txn) && conflicts(w, r) {
			ids = append(ids, w.txn)
		}
	}
	return sortedUnique(ids)
}

func (m *model) covered(r mLock) bool {
	for _, h := range m.held {
		if h.txn == r.txn && h.mode >= r.mode && h.span.Contains(r.span) {
			return true
		}
	}
	return false
}

// acquire returns the expected Result.
func (m *model) acquire(r mLock) Result {
	if m.covered(r) {
		return Result{Granted: true}
	}
	m.txns[r.txn].waiting = &r
	waitOn := m.blockers(r)
	if len(waitOn) == 0 {
		m.txns[r.txn].waiting = nil
		m.held = append(m.held, r)
		return Result{Granted: true}
	}
	var wound []TxnID
	for _, h := range m.held {
		if y := m.txns[h.txn]; conflicts(h, r) && m.older(r.txn, h.txn) && !y.prepared && !y.wounded {
			wound = append(wound, h.txn)
		}
	}
	wound = sortedUnique(wound)
	for _, id := range wound {
		m.txns[id].wounded = true
	}
	return Result{WaitingOn: waitOn, Wound: wound}
}

// settle grants waiters until none can be granted, oldest first.
func (m *model) settle() []Grant {
	var gs []Grant
	for progress := true; progress; {
		progress = false
		for _, w := range m.waiters() {
			if len(m.blockers(w)) == 0 {
				m.held = append(m.held, w)
				m.txns[w.txn].waiting = nil
				m.txns[w.txn].granted++
				gs = append(gs, Grant{Txn: w.txn, Span: w.span, Mode: w.mode})
				progress = true
				break
			}
		}
	}
	return gs
}

func (m *model) release(id TxnID, onlyShared bool) []Grant {
	m.held = slices.DeleteFunc(m.held, func(h mLock) bool {
		return h.txn == id && (!onlyShared || h.mode == Shared)
	})
	if !onlyShared {
		delete(m.txns, id)
	}
	return m.settle()
}

func (m *model) cancel(id TxnID) []Grant {
	m.txns[id].waiting = nil
	return m.settle()
}

// sim runs one random schedule.
type sim struct {
	t     *testing.T
	r     *rand.Rand
	table *Table
	m     *model
	next  TxnID
	log   []string
}

var simKeys = []string{"a", "b", "c", "d", "e", "f"}

func (s *sim) randSpan() Span {
	i := s.r.IntN(len(simKeys))
	if s.r.IntN(3) > 0 {
		return PointSpan([]byte(simKeys[i]))
	}
	j := i + 1 + s.r.IntN(len(simKeys)-i)
	end := "z"
	if j < len(simKeys) {
		end = simKeys[j]
	}
	return Span{Key: []byte(simKeys[i]), EndKey: []byte(end)}
}

func (s *sim) newTxn() {
	s.next++
	prio := Priority{StartNanos: int64(s.r.IntN(5)), Tiebreak: uint64(s.r.IntN(3))}
	s.m.txns[s.next] = &mTxn{id: s.next, prio: prio}
}

// pick returns a random transaction satisfying ok, or 0.
func (s *sim) pick(ok func(*mTxn) bool) TxnID {
	var ids []TxnID
	for id, tx := range s.m.txns {
		if ok(tx) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return 0
	}
	slices.Sort(ids)
	return ids[s.r.IntN(len(ids))]
}

func (s *sim) step() {
	switch n := s.r.IntN(10); {
	case n < 5:
		s.acquire()
	case n < 6:
		s.abortWounded()
	case n < 7:
		s.commit()
	case n < 8:
		s.prepare()
	case n < 9:
		s.cancel()
	default:
		if len(s.m.txns) < 6 {
			s.newTxn()
		}
	}
	s.check()
}

func (s *sim) acquire() {
	id := s.pick(func(tx *mTxn) bool { return tx.waiting == nil && !tx.prepared && !tx.wounded })
	if id == 0 {
		return
	}
	mode := Mode(1 + s.r.IntN(2))
	r := mLock{txn: id, span: s.randSpan(), mode: mode}
	s.logf("acquire %d %s %s", id, r.span, mode)
	want := s.m.acquire(r)
	got, err := s.table.Acquire(Request{Txn: id, Priority: s.m.txns[id].prio, Span: r.span, Mode: mode})
	if err != nil {
		s.fatalf("acquire: %v", err)
	}
	s.compare("acquire", fmt.Sprint(got), fmt.Sprint(want))
}

func (s *sim) abortWounded() {
	if id := s.pick(func(tx *mTxn) bool { return tx.wounded && !tx.prepared }); id != 0 {
		s.logf("abort %d", id)
		s.compareGrants(s.table.Abort(id), s.m.release(id, false))
	}
}

func (s *sim) commit() {
	if id := s.pick(func(tx *mTxn) bool { return tx.waiting == nil }); id != 0 {
		s.logf("release %d", id)
		s.compareGrants(s.table.Release(id), s.m.release(id, false))
	}
}

func (s *sim) prepare() {
	id := s.pick(func(tx *mTxn) bool { return tx.waiting == nil && !tx.prepared })
	if id == 0 {
		return
	}
	s.logf("prepare %d", id)
	got, err := s.table.Prepare(id)
	if err != nil {
		s.fatalf("prepare: %v", err)
	}
	s.compareGrants(got, s.m.release(id, true))
	s.m.txns[id].prepared = true
}

func (s *sim) cancel() {
	if id := s.pick(func(tx *mTxn) bool { return tx.waiting != nil }); id != 0 {
		s.logf("cancel %d", id)
		s.compareGrants(s.table.Cancel(id), s.m.cancel(id))
	}
}

func (s *sim) compareGrants(got, want []Grant) {
	s.compare("grants", fmt.Sprint(got), fmt.Sprint(want))
}

func (s *sim) compare(what, got, want string) {
	if got != want {
		s.fatalf("%s: table %s, model %s", what, got, want)
	}
}

func (s *sim) logf(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

func (s *sim) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s\nsteps:\n%v\ntable:\n%s", fmt.Sprintf(format, args...), s.log, s.table.Dump())
}

// check verifies the invariants of doc.go after a step.
func (s *sim) check() {
	s.t.Helper()
	st := s.table.Snapshot()
	s.checkHolders(st)
	s.checkWaits(st)
}

// checkHolders: the table holds what the model holds, and no two
// transactions hold incompatible overlapping locks.
func (s *sim) checkHolders(st State) {
	var want []LockInfo
	for _, h := range s.m.held {
		want = append(want, LockInfo{Txn: h.txn, Span: h.span, Mode: h.mode})
	}
	slices.SortFunc(want, compareLocks)
	s.compare("locks", fmt.Sprint(st.Locks), fmt.Sprint(want))
	for i, a := range s.m.held {
		for _, b := range s.m.held[i+1:] {
			if conflicts(a, b) {
				s.fatalf("incompatible holders %v and %v", a, b)
			}
		}
	}
}

// checkWaits: every waiter has a blocker (no lost wakeup), waits-for edges
// go from younger to older unless they point at a prepared or wounded
// transaction, and the graph without edges into wounded transactions is
// acyclic.
func (s *sim) checkWaits(st State) {
	edges := map[TxnID][]TxnID{}
	for _, w := range st.Waits {
		want := s.m.blockers(*s.m.txns[w.Txn].waiting)
		s.compare(fmt.Sprintf("waits of %d", w.Txn), fmt.Sprint(w.WaitingOn), fmt.Sprint(want))
		if len(w.WaitingOn) == 0 {
			s.fatalf("txn %d waits on nothing", w.Txn)
		}
		for _, h := range w.WaitingOn {
			to := s.m.txns[h]
			if s.m.older(w.Txn, h) && !to.prepared && !to.wounded {
				s.fatalf("older txn %d waits on younger, live txn %d", w.Txn, h)
			}
			if !to.wounded {
				edges[w.Txn] = append(edges[w.Txn], h)
			}
		}
	}
	if c := findCycle(edges); c != nil {
		s.fatalf("waits-for cycle %v", c)
	}
}

func findCycle(edges map[TxnID][]TxnID) []TxnID {
	const (
		unseen = iota
		onStack
		done
	)
	state := map[TxnID]int{}
	var stack []TxnID
	var visit func(TxnID) []TxnID
	visit = func(n TxnID) []TxnID {
		state[n] = onStack
		stack = append(stack, n)
		for _, m := range edges[n] {
			switch state[m] {
			case onStack:
				return append(slices.Clone(stack), m)
			case unseen:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for n := range edges {
		if state[n] == unseen {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// drain ends the schedule like a well-behaved driver: abort wounded
// transactions, release transactions that are not waiting. Every waiter
// must be granted before the table empties; if only waiters remain and
// none is wounded, something hangs.
func (s *sim) drain() {
	for len(s.m.txns) > 0 {
		if id := s.pick(func(tx *mTxn) bool { return tx.wounded && !tx.prepared }); id != 0 {
			s.logf("abort %d", id)
			s.compareGrants(s.table.Abort(id), s.m.release(id, false))
		} else if id := s.pick(func(tx *mTxn) bool { return tx.waiting == nil }); id != 0 {
			s.logf("release %d", id)
			s.compareGrants(s.table.Release(id), s.m.release(id, false))
		} else {
			s.fatalf("stuck: every transaction waits and none is wounded")
		}
		s.check()
	}
	if d := s.table.Dump(); d != "empty\n" {
		s.fatalf("table not empty after draining:\n%s", d)
	}
}

func TestRandomSchedules(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 30
	}
	for seed := range uint64(seeds) {
		s := &sim{t: t, r: rand.New(rand.NewPCG(seed, 7)), table: New(Config{MaxTxnBytes: -1}),
			m: &model{txns: map[TxnID]*mTxn{}}}
		for range 4 {
			s.newTxn()
		}
		for range 200 {
			s.step()
		}
		s.drain()
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}
