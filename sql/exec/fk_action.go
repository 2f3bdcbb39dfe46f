package exec

import (
	"slices"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// Referential actions. When the statement's writes are done, each
// removed or changed parent key whose FOREIGN KEY action is CASCADE, SET
// NULL or SET DEFAULT is applied to the referencing rows, one parent row
// at a time, in the order the statement wrote them (PostgreSQL's action
// triggers fire in that order too). The child rows are found through an
// index of the child whose leading columns are the key (else a scan),
// locked exclusively, and deleted or updated through a writer of the
// child table: its NOT NULL and CHECK constraints, unique indexes, its
// own FOREIGN KEYs and the actions of the tables referencing it all
// apply, so a cascade of a cascade is a recursion one level deeper. After
// each parent row, the child writer's finishFK runs (PostgreSQL fires the
// cascaded query's triggers at its end). The recursion is bounded by
// maxFKDepth; past it the statement fails as PostgreSQL's does when its
// stack runs out (54001).

// maxFKDepth bounds chains (and cycles) of cascaded actions.
const maxFKDepth = 1000

// action returns the FOREIGN KEY's action for a change of its key.
func (fp *fkParent) action(ch fkChange) string {
	if ch.new == nil {
		return catalog.Action(fp.fk.OnDelete)
	}
	return catalog.Action(fp.fk.OnUpdate)
}

// keyRemoved reports whether a change removes (deletes or changes) a
// non-NULL key referenced through fp.
func (fp *fkParent) keyRemoved(ch fkChange) bool {
	return ch.old != nil && !anyNullAt(ch.old, fp.refPos) && (ch.new == nil || fkKeyChanged(ch.old, ch.new, fp.refPos))
}

// runActions applies fp's CASCADE, SET NULL and SET DEFAULT actions to
// the rows referencing the removed keys.
func (w *writer) runActions(c *Ctx, fp *fkParent, removed []fkChange) error {
	var cw *writer
	for _, ch := range removed {
		act := fp.action(ch)
		if act == fkNoAction || act == fkRestrict || !fp.keyRemoved(ch) {
			continue
		}
		if cw == nil {
			var err error
			if cw, err = w.actionWriter(c, fp); err != nil {
				return err
			}
		}
		if err := cw.applyAction(c, fp, ch, act); err != nil {
			return err
		}
		if err := cw.finishFK(c); err != nil {
			return err
		}
	}
	return nil
}

// actionWriter returns a writer of fp's child one cascade level deeper.
func (w *writer) actionWriter(c *Ctx, fp *fkParent) (*writer, error) {
	if w.depth >= maxFKDepth {
		e := pgcode.New(pgcode.StatementTooComplex, "stack depth limit exceeded")
		e.Hint = `Increase the configuration parameter "max_stack_depth" (currently 2048kB), after ensuring the platform's stack depth limit is adequate.`
		return nil, e
	}
	cw, err := c.planner().newWriter(fp.child)
	if err != nil {
		return nil, err
	}
	cw.depth = w.depth + 1
	return cw, nil
}

// applyAction deletes or updates the child rows referencing ch.old; cw
// writes the child table.
func (cw *writer) applyAction(c *Ctx, fp *fkParent, ch fkChange, act string) error {
	rows, err := referencingRows(c, fp, ch.old)
	if err != nil {
		return err
	}
	for _, crow := range rows {
		if act == fkCascade && ch.new == nil {
			err = cw.delete(c, crow)
		} else {
			var nrow sem.Row
			if nrow, err = cw.actionRow(c, fp, crow, ch, act); err == nil {
				err = cw.update(c, crow, nrow)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// actionRow is the child row crow after an update action: the parent's
// new key (CASCADE), NULLs (SET NULL) or the columns' defaults (SET
// DEFAULT) in the key's columns, or with ON DELETE SET ... (cols) in
// those.
func (cw *writer) actionRow(c *Ctx, fp *fkParent, crow sem.Row, ch fkChange, act string) (sem.Row, error) {
	nrow := slices.Clone(crow)
	cols := fp.fk.Columns
	if ch.new == nil && len(fp.fk.DeleteSetColumns) > 0 {
		cols = fp.fk.DeleteSetColumns
	}
	for _, id := range cols {
		k := slices.Index(fp.fk.Columns, id)
		p := fp.childPos[k]
		switch act {
		case fkCascade:
			nrow[p] = ch.new[fp.refPos[k]]
		case fkSetNull:
			nrow[p] = nil
		case fkSetDefault:
			nrow[p] = nil
			if d := cw.defaults[p]; d != nil {
				v, err := d.Eval(c.Eval, nil)
				if err != nil {
					return nil, err
				}
				nrow[p] = v
			}
		}
	}
	return nrow, nil
}

// referencingRows returns the child rows referencing the parent row,
// locked exclusively.
func referencingRows(c *Ctx, fp *fkParent, prow sem.Row) ([]sem.Row, error) {
	var out []sem.Row
	keep := func(crow sem.Row) error {
		if refersTo(fp, crow, prow) {
			out = append(out, crow)
		}
		return nil
	}
	idx := childIndex(fp)
	if idx == nil {
		return out, scanTable(c, fp.child, kvapi.LockExclusive, keep)
	}
	codec := rowenc.NewCodec(fp.child.ID, fp.child.Table)
	start := childPrefix(fp, idx, prow)
	kvs, err := c.kv().Scan(c.Context, start, keys.PrefixEnd(start), 0, false, kvapi.LockExclusive)
	if err != nil {
		return nil, err
	}
	for _, kv := range kvs {
		key, value := kv.Key, kv.Value
		if idx.ID != catalog.PrimaryIndexID {
			key = codec.PrimaryKeyFromSuffix(kv.Value)
			var found bool
			if value, found, err = c.kv().Get(c.Context, key, kvapi.LockExclusive); err != nil {
				return nil, err
			} else if !found {
				continue
			}
		}
		crow, err := codec.DecodeRow(key, value)
		if err != nil {
			return nil, err
		}
		_ = keep(crow)
	}
	return out, nil
}

// refersTo reports whether the child row's key equals the parent row's.
func refersTo(fp *fkParent, crow, prow sem.Row) bool {
	for k, p := range fp.childPos {
		if crow[p] == nil || types.Compare(crow[p], prow[fp.refPos[k]]) != 0 {
			return false
		}
	}
	return true
}
