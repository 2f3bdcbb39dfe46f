package sql

import (
	"context"
	"errors"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/exec"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// env is the session as seen by expression evaluation.
type env struct {
	s   *Session
	ctx context.Context
}

func (s *Session) env(ctx context.Context) *env { return &env{s: s, ctx: ctx} }

func (e *env) Database() string         { return e.s.dbName }
func (e *env) User() string             { return e.s.args.User }
func (e *env) Location() *time.Location { return e.s.loc }
func (e *env) UniqueRowID() int64       { return e.s.exec.uniqueRowID() }

func (e *env) Now() time.Time {
	if e.s.txnStart.IsZero() {
		return e.s.exec.cfg.Now().UTC().Truncate(time.Microsecond)
	}
	return e.s.txnStart
}

func (e *env) Setting(name string) (string, bool) { return e.s.setting(name) }

// seqState is what nextval returned last in the session, per sequence
// ID (currval) and overall (lastval). Like PostgreSQL's, it is not rolled
// back with the transaction.
type seqState struct {
	last    map[uint64]int64
	lastID  uint64
	lastSet bool
}

func (st *seqState) record(id uint64, v int64) {
	if st.last == nil {
		st.last = map[uint64]int64{}
	}
	st.last[id] = v
	st.lastID, st.lastSet = id, true
}

// sequence resolves a sequence name in the session's transaction.
func (e *env) sequence(ctx context.Context, name string) (*catalog.Descriptor, error) {
	schema, rel := exec.SplitQualified(name)
	cat := e.s.cat
	_, id, found, err := e.s.names().Lookup(ctx, schema, rel, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	name = rel
	var d *catalog.Descriptor
	if found {
		if d, err = cat.Get(ctx, id, kvapi.LockShared); err != nil {
			return nil, err
		}
	}
	if d == nil {
		return nil, sqlerr.UndefinedTable(name)
	}
	if d.Sequence == nil {
		return nil, pgcode.New(sqlerr.WrongObjectType, "%q is not a sequence", name)
	}
	return d, nil
}

// NextVal resolves the sequence in the session's transaction and
// increments it in its own.
func (e *env) NextVal(ctx context.Context, name string) (int64, error) {
	d, err := e.sequence(ctx, name)
	if err != nil {
		return 0, err
	}
	if err := e.s.checkReadOnlyFunc("nextval"); err != nil {
		return 0, err
	}
	var v int64
	if e.s.wroteSequence(d.ID) {
		// This transaction's setval wrote a version of the descriptor no
		// other node may ever see: take a value past the node's cache.
		v, err = catalog.NextVal(ctx, e.s.exec.cfg.DB, d.ID, d.Sequence)
	} else {
		v, err = e.s.exec.seqs.next(ctx, d)
	}
	if errors.Is(err, catalog.ErrSequenceLimit) {
		if d.Sequence.Increment < 0 {
			return 0, pgcode.New(sqlerr.SequenceGeneratorLimit, "nextval: reached minimum value of sequence %q (%d)", d.Name, d.Sequence.Min)
		}
		return 0, pgcode.New(sqlerr.SequenceGeneratorLimit, "nextval: reached maximum value of sequence %q (%d)", d.Name, d.Sequence.Max)
	}
	if err == nil {
		e.s.seqs.record(d.ID, v)
	}
	return v, err
}

// NoteSequenceWrite records that the open transaction wrote the
// sequence's descriptor (ALTER SEQUENCE).
func (e *env) NoteSequenceWrite(id uint64) { e.s.noteSequenceWrite(id) }

// ForgetSequence drops the node's cached block of a dropped sequence.
func (e *env) ForgetSequence(id uint64) { e.s.exec.seqs.forget(id) }

// noteSequenceWrite records that the open transaction wrote the
// sequence's descriptor.
func (s *Session) noteSequenceWrite(id uint64) {
	if s.seqWrites.txn != s.cat {
		s.seqWrites.txn, s.seqWrites.ids = s.cat, map[uint64]bool{}
	}
	s.seqWrites.ids[id] = true
}

// wroteSequence reports whether the open transaction wrote the
// sequence's descriptor.
func (s *Session) wroteSequence(id uint64) bool {
	return s.seqWrites.txn == s.cat && s.seqWrites.ids[id]
}

// CurrVal returns what nextval last returned for the sequence in this
// session.
func (e *env) CurrVal(ctx context.Context, name string) (int64, error) {
	d, err := e.sequence(ctx, name)
	if err != nil {
		return 0, err
	}
	v, ok := e.s.seqs.last[d.ID]
	if !ok {
		return 0, pgcode.New(sqlerr.ObjectNotInPrerequisite, "currval of sequence %q is not yet defined in this session", d.Name)
	}
	return v, nil
}

// LastVal returns what nextval last returned in this session.
func (e *env) LastVal() (int64, error) {
	if !e.s.seqs.lastSet {
		return 0, pgcode.New(sqlerr.ObjectNotInPrerequisite, "lastval is not yet defined in this session")
	}
	return e.s.seqs.last[e.s.seqs.lastID], nil
}

// SetVal checks v against the sequence's bounds and stores it in its own
// transaction; with called, currval returns v afterwards.
func (e *env) SetVal(ctx context.Context, name string, v int64, called bool) error {
	d, err := e.sequence(ctx, name)
	if err != nil {
		return err
	}
	if err := e.s.checkReadOnlyFunc("setval"); err != nil {
		return err
	}
	if s := d.Sequence; v < s.Min || v > s.Max {
		return pgcode.New(pgcode.NumericValueOutOfRange, "setval: value %d is out of bounds for sequence %q (%d..%d)", v, d.Name, s.Min, s.Max)
	}
	// A new version of the descriptor, written in the session's
	// transaction, retires every node's cached block once it commits
	// (docs/catalog.md, "Sequences"); the value itself is written in a
	// transaction of its own, as PostgreSQL's setval is not rolled back.
	m, err := e.s.cat.Mutable(ctx, d.ID)
	if err != nil {
		return err
	}
	if err := e.s.cat.Put(ctx, m); err != nil {
		return err
	}
	e.s.noteSequenceWrite(d.ID)
	e.s.exec.seqs.forget(d.ID)
	if err := catalog.SetVal(ctx, e.s.exec.cfg.DB, d.ID, v, called); err != nil {
		return err
	}
	if called {
		if e.s.seqs.last == nil {
			e.s.seqs.last = map[uint64]int64{}
		}
		e.s.seqs.last[d.ID] = v // currval, not lastval's choice
	}
	return nil
}
