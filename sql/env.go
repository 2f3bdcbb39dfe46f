package sql

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
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

// NextVal resolves the sequence in the session's transaction and
// increments it in its own.
func (e *env) NextVal(ctx context.Context, name string) (int64, error) {
	name = strings.TrimPrefix(name, catalog.PublicSchema+".")
	cat := e.s.cat
	id, found, err := cat.LookupID(ctx, e.s.schemaID, name, kvapi.LockShared)
	if err != nil {
		return 0, err
	}
	var d *catalog.Descriptor
	if found {
		if d, err = cat.Get(ctx, id, kvapi.LockShared); err != nil {
			return 0, err
		}
	}
	if d == nil || d.Sequence == nil {
		return 0, sqlerr.UndefinedTable(name)
	}
	v, err := catalog.NextVal(ctx, e.s.exec.cfg.DB, id, d.Sequence)
	if errors.Is(err, catalog.ErrSequenceLimit) {
		return 0, pgcode.New("2200H", "nextval: reached maximum value of sequence %q (%d)", name, d.Sequence.Max)
	}
	return v, err
}
