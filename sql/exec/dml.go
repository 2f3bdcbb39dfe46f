package exec

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// returning is a planned RETURNING list over the table's row.
type returning struct {
	exprs []sem.Expr
	cols  []ResultCol
}

func (p *Planner) planReturning(list []*pg.Node, scope sem.Scope) (*returning, error) {
	if len(list) == 0 {
		return nil, nil
	}
	targets, err := expandStars(list, scope)
	if err != nil {
		return nil, err
	}
	r := &returning{}
	b := p.builder(scope)
	b.Context = "RETURNING"
	for _, t := range targets {
		e, err := b.Build(t.val)
		if err != nil {
			return nil, err
		}
		r.exprs = append(r.exprs, e)
		r.cols = append(r.cols, resultCol(t.name, e, scope))
	}
	return r, nil
}

func (r *returning) columns() []ResultCol {
	if r == nil {
		return nil
	}
	return r.cols
}

func (r *returning) add(c *Ctx, res *Result, row sem.Row) error {
	if r == nil {
		return nil
	}
	out := make(sem.Row, len(r.exprs))
	for i, e := range r.exprs {
		v, err := e.Eval(c.Eval, row)
		if err != nil {
			return err
		}
		out[i] = v
	}
	res.Rows = append(res.Rows, out)
	return nil
}

// insertPlan is a planned INSERT.
type insertPlan struct {
	w       *writer
	deps    []Dep
	targets []int // column positions given values
	rows    [][]sem.Expr
	src     *selectPlan // INSERT ... SELECT
	ret     *returning
	onConf  *onConflict
	// userValue is OVERRIDING USER VALUE: values given for identity
	// columns are replaced by their defaults.
	userValue bool
}

type onConflict struct {
	arbiters []*catalog.Index // nil with DO NOTHING = every unique index
	update   bool
	set      []setClause
	where    sem.Expr
}

type setClause struct {
	col int
	e   sem.Expr
}

func (ip *insertPlan) Columns() []ResultCol { return ip.ret.columns() }
func (ip *insertPlan) Deps() []Dep          { return ip.deps }

func (p *Planner) planInsert(s *pg.InsertStmt) (Plan, error) {
	if s.WithClause != nil {
		pop, err := p.pushWith(s.WithClause)
		if err != nil {
			return nil, err
		}
		defer pop()
	}
	if err := p.refuseViewWrite(s.Relation, "insert into"); err != nil {
		return nil, err
	}
	d, err := p.resolveTable(s.Relation)
	if err != nil {
		return nil, err
	}
	w, err := p.newWriter(d)
	if err != nil {
		return nil, err
	}
	ip := &insertPlan{w: w}
	if ip.targets, err = insertTargets(d, s.Cols); err != nil {
		return nil, err
	}
	if err := p.planInsertSource(ip, s.SelectStmt, len(s.Cols) > 0); err != nil {
		return nil, err
	}
	ip.userValue = s.Override == pg.OverridingKind_OVERRIDING_USER_VALUE
	if s.Override != pg.OverridingKind_OVERRIDING_SYSTEM_VALUE {
		if err := ip.checkGeneratedAlways(); err != nil {
			return nil, err
		}
	}
	scope := tableScope(d, aliasOf(s.Relation))
	if ip.ret, err = p.planReturning(s.ReturningList, scope); err != nil {
		return nil, err
	}
	if s.OnConflictClause != nil {
		if ip.onConf, err = p.planOnConflict(d, s.OnConflictClause, scope); err != nil {
			return nil, err
		}
	}
	ip.deps = p.deps
	return ip, nil
}

func aliasOf(rv *pg.RangeVar) string {
	if rv.Alias != nil {
		return rv.Alias.Aliasname
	}
	return ""
}

func insertTargets(d *catalog.Descriptor, cols []*pg.Node) ([]int, error) {
	t := d.Table
	var out []int
	if len(cols) == 0 {
		for i, c := range t.Columns {
			if !c.Hidden {
				out = append(out, i)
			}
		}
		return out, nil
	}
	seen := map[int]bool{}
	for _, n := range cols {
		rt := n.GetResTarget()
		if len(rt.Indirection) > 0 {
			return nil, posErr(sqlerr.Unsupported("INSERT into elements of an array column is not supported"), rt.Location)
		}
		i := t.ColumnIndex(rt.Name)
		if i < 0 || t.Columns[i].Hidden {
			return nil, posErr(pgcode.New(sqlerr.UndefinedColumn, "column %q of relation %q does not exist", rt.Name, d.Name), rt.Location)
		}
		if seen[i] {
			return nil, posErr(pgcode.New(pgcode.SyntaxError, "column %q specified more than once", rt.Name), rt.Location)
		}
		seen[i] = true
		out = append(out, i)
	}
	return out, nil
}

func (p *Planner) planInsertSource(ip *insertPlan, src *pg.Node, explicitCols bool) error {
	if src == nil {
		return nil // DEFAULT VALUES
	}
	sel := src.GetSelectStmt()
	// Without a column list, fewer values fill the leading columns.
	trim := func(n int) {
		if !explicitCols && n < len(ip.targets) {
			ip.targets = ip.targets[:n]
		}
	}
	if len(sel.ValuesLists) == 0 || sel.WithClause != nil || sel.Op != pg.SetOperation_SETOP_NONE {
		sp, err := p.planSelect(sel)
		if err != nil {
			return err
		}
		if len(sp.cols) > len(ip.targets) {
			return pgcode.New(pgcode.SyntaxError, "INSERT has more expressions than target columns")
		}
		trim(len(sp.cols))
		if len(sp.cols) < len(ip.targets) {
			return pgcode.New(pgcode.SyntaxError, "INSERT has more target columns than expressions")
		}
		ip.src = sp
		return nil
	}
	trim(len(sel.ValuesLists[0].GetList().GetItems()))
	b := p.builder(nil)
	cols := ip.w.desc.Table.Columns
	for _, l := range sel.ValuesLists {
		items := l.GetList().GetItems()
		if len(items) > len(ip.targets) {
			return pgcode.New(pgcode.SyntaxError, "INSERT has more expressions than target columns")
		}
		if len(items) < len(ip.targets) {
			return pgcode.New(pgcode.SyntaxError, "INSERT has more target columns than expressions")
		}
		row := make([]sem.Expr, len(items))
		for i, n := range items {
			if n.GetSetToDefault() != nil {
				continue // nil = DEFAULT
			}
			e, err := b.Build(n)
			if err != nil {
				return err
			}
			col := cols[ip.targets[i]]
			if row[i], err = b.AssignTo(e, col.Type, col.Name); err != nil {
				return err
			}
		}
		ip.rows = append(ip.rows, row)
	}
	return nil
}

func (p *Planner) planOnConflict(d *catalog.Descriptor, oc *pg.OnConflictClause, scope sem.Scope) (*onConflict, error) {
	out := &onConflict{update: oc.Action == pg.OnConflictAction_ONCONFLICT_UPDATE}
	if oc.Infer != nil {
		idx, err := arbiter(d, oc.Infer)
		if err != nil {
			return nil, err
		}
		out.arbiters = []*catalog.Index{idx}
	} else if out.update {
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name"), oc.Location)
	}
	if !out.update {
		return out, nil
	}
	excl := tableScope(d, "excluded")
	full := append(append(sem.Scope{}, scope...), excl...)
	b := p.builder(full)
	for _, n := range oc.TargetList {
		sc, err := setTarget(b, d, n.GetResTarget())
		if err != nil {
			return nil, err
		}
		out.set = append(out.set, sc)
	}
	if oc.WhereClause != nil {
		e, err := b.Build(oc.WhereClause)
		if err != nil {
			return nil, err
		}
		if out.where, err = b.Predicate(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func arbiter(d *catalog.Descriptor, inf *pg.InferClause) (*catalog.Index, error) {
	t := d.Table
	if inf.Conname != "" {
		for _, idx := range t.AllIndexes() {
			if idx.Name == inf.Conname && idx.Unique && idx.Public() {
				return idx, nil
			}
		}
		return nil, pgcode.New(pgcode.UndefinedObject, "constraint %q for table %q does not exist", inf.Conname, d.Name)
	}
	var ids []uint32
	for _, n := range inf.IndexElems {
		name := n.GetIndexElem().Name
		i := t.ColumnIndex(name)
		if i < 0 {
			return nil, pgcode.New(sqlerr.UndefinedColumn, "column %q does not exist", name)
		}
		ids = append(ids, t.Columns[i].ID)
	}
	for _, idx := range t.AllIndexes() {
		if idx.Unique && idx.Public() && sameSet(idx.Columns, ids) {
			return idx, nil
		}
	}
	return nil, pgcode.New(sqlerr.InvalidColumnReference, "there is no unique or exclusion constraint matching the ON CONFLICT specification")
}

func sameSet(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[uint32]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

func setTarget(b *sem.Builder, d *catalog.Descriptor, rt *pg.ResTarget) (setClause, error) {
	i := d.Table.ColumnIndex(rt.Name)
	if i < 0 || d.Table.Columns[i].Hidden {
		return setClause{}, posErr(pgcode.New(sqlerr.UndefinedColumn, "column %q of relation %q does not exist", rt.Name, d.Name), rt.Location)
	}
	col := d.Table.Columns[i]
	if rt.Val.GetSetToDefault() != nil {
		return setClause{col: i}, nil
	}
	if col.Identity == "a" {
		e := posErr(pgcode.New(sqlerr.GeneratedAlways, "column %q can only be updated to DEFAULT", col.Name), rt.Location)
		e.Detail = fmt.Sprintf("Column %q is an identity column defined as GENERATED ALWAYS.", col.Name)
		return setClause{}, e
	}
	e, err := setValue(b, rt, col)
	if err != nil {
		return setClause{}, err
	}
	e, err = b.AssignTo(e, col.Type, col.Name)
	return setClause{col: i, e: e}, err
}

// setValue builds a SET target's value: rt.Val, or for col[i] = v the
// column's array with element i set.
func setValue(b *sem.Builder, rt *pg.ResTarget, col catalog.Column) (sem.Expr, error) {
	if len(rt.Indirection) == 0 {
		return b.Build(rt.Val)
	}
	arr, err := b.Build(pg.MakeColumnRefNode([]*pg.Node{pg.MakeStrNode(col.Name)}, rt.Location))
	if err != nil {
		return nil, err
	}
	e, err := b.BuildArrayAssign(arr, col.Name, rt.Indirection, rt.Val)
	if pe, ok := err.(*pgcode.Error); ok {
		return nil, posErr(pe, rt.Location)
	}
	return e, err
}

// Exec runs the INSERT. Its row writes are batched (writebuf.go), and an
// INSERT ... SELECT whose SELECT can stream (selectPlan.streams) inserts
// each row as it is made instead of holding them all.
func (ip *insertPlan) Exec(c *Ctx) (*Result, error) {
	ip.w.pending = fkPending{} // left over by a failed execution
	res := &Result{}
	n := 0
	one := func(vals []*types.Datum) error {
		row, err := ip.buildRow(c, vals)
		if err != nil {
			return err
		}
		done, err := ip.maybeConflict(c, res, row, &n)
		if err != nil || done {
			return err
		}
		if err := ip.w.insert(c, row); err != nil {
			return err
		}
		n++
		return ip.ret.add(c, res, row)
	}
	err := c.batched(func() error {
		if ip.src != nil && ip.src.streams(c) {
			if err := ip.src.each(c, func(r sem.Row) error {
				vals, err := ip.sourceVals(c, r)
				if err != nil {
					return err
				}
				return one(vals)
			}); err != nil {
				return err
			}
			return ip.w.finishFK(c)
		}
		rows, err := ip.sourceRows(c)
		if err != nil {
			return err
		}
		for i, vals := range rows {
			rows[i] = nil // let each row go once written
			if err := one(vals); err != nil {
				return err
			}
		}
		return ip.w.finishFK(c)
	})
	if err != nil {
		return nil, err
	}
	res.Tag = fmt.Sprintf("INSERT 0 %d", n)
	return res, nil
}

// sourceVals casts one row of the SELECT to the target columns' types.
func (ip *insertPlan) sourceVals(c *Ctx, r sem.Row) ([]*types.Datum, error) {
	vals := make([]*types.Datum, len(r))
	for i := range r {
		v, err := types.AssignCast(r[i], ip.src.cols[i].T, ip.w.desc.Table.Columns[ip.targets[i]].Type, c.Eval.Env.Location())
		if err != nil {
			return nil, err
		}
		vals[i] = &v
	}
	return vals, nil
}

// sourceRows evaluates VALUES (nil entries are DEFAULT) or runs the SELECT.
func (ip *insertPlan) sourceRows(c *Ctx) ([][]*types.Datum, error) {
	var out [][]*types.Datum
	if ip.src != nil {
		res, err := ip.src.Exec(c)
		if err != nil {
			return nil, err
		}
		for i, r := range res.Rows {
			vals, err := ip.sourceVals(c, r)
			if err != nil {
				return nil, err
			}
			res.Rows[i] = nil
			out = append(out, vals)
		}
		return out, nil
	}
	if ip.rows == nil {
		return [][]*types.Datum{nil}, nil
	}
	for _, es := range ip.rows {
		vals := make([]*types.Datum, len(es))
		for i, e := range es {
			if e == nil {
				continue
			}
			v, err := e.Eval(c.Eval, nil)
			if err != nil {
				return nil, err
			}
			vals[i] = &v
		}
		out = append(out, vals)
	}
	return out, nil
}

// checkGeneratedAlways fails with 428C9 when a value other than DEFAULT
// is given for a GENERATED ALWAYS AS IDENTITY column.
func (ip *insertPlan) checkGeneratedAlways() error {
	cols := ip.w.desc.Table.Columns
	for i, pos := range ip.targets {
		if cols[pos].Identity != "a" || ip.userValue {
			continue
		}
		given := ip.src != nil
		for _, row := range ip.rows {
			given = given || row[i] != nil
		}
		if given {
			e := pgcode.New(sqlerr.GeneratedAlways, "cannot insert a non-DEFAULT value into column %q", cols[pos].Name)
			e.Detail = fmt.Sprintf("Column %q is an identity column defined as GENERATED ALWAYS.", cols[pos].Name)
			e.Hint = "Use OVERRIDING SYSTEM VALUE to override."
			return e
		}
	}
	return nil
}

// buildRow fills a full row from the given values and the defaults.
func (ip *insertPlan) buildRow(c *Ctx, vals []*types.Datum) (sem.Row, error) {
	row := make(sem.Row, len(ip.w.desc.Table.Columns))
	given := make([]bool, len(row))
	cols := ip.w.desc.Table.Columns
	for i, v := range vals {
		if v != nil && !(ip.userValue && cols[ip.targets[i]].Identity != "") {
			row[ip.targets[i]] = *v
			given[ip.targets[i]] = true
		}
	}
	for i := range row {
		if given[i] || ip.w.defaults[i] == nil {
			continue
		}
		v, err := ip.w.defaults[i].Eval(c.Eval, nil)
		if err != nil {
			return nil, err
		}
		row[i] = v
	}
	return row, nil
}

// maybeConflict handles ON CONFLICT: it reports whether the row was dealt
// with (skipped or turned into an update).
func (ip *insertPlan) maybeConflict(c *Ctx, res *Result, row sem.Row, n *int) (bool, error) {
	oc := ip.onConf
	if oc == nil {
		return false, nil
	}
	arbiters := oc.arbiters
	if arbiters == nil {
		for _, idx := range ip.w.desc.Table.AllIndexes() {
			if idx.Unique {
				arbiters = append(arbiters, idx)
			}
		}
	}
	for _, idx := range arbiters {
		existing, err := ip.findExisting(c, idx, row)
		if err != nil {
			return false, err
		}
		if existing == nil {
			continue
		}
		if !oc.update {
			return true, nil
		}
		return true, ip.doUpdate(c, res, existing, row, n)
	}
	return false, nil
}

// findExisting returns the row that conflicts with row on idx, locking it.
func (ip *insertPlan) findExisting(c *Ctx, idx *catalog.Index, row sem.Row) (sem.Row, error) {
	codec := ip.w.codec
	pk := codec.PrimaryKey(row)
	if idx.ID != catalog.PrimaryIndexID {
		k, _, unique := codec.IndexEntry(idx, row)
		if !unique {
			return nil, nil
		}
		v, found, err := c.kv().Get(c.Context, k, kvapi.LockExclusive)
		if err != nil || !found {
			return nil, err
		}
		pk = codec.PrimaryKeyFromSuffix(v)
	}
	v, found, err := c.kv().Get(c.Context, pk, kvapi.LockExclusive)
	if err != nil || !found {
		return nil, err
	}
	return codec.DecodeRow(pk, v)
}

func (ip *insertPlan) doUpdate(c *Ctx, res *Result, old, excluded sem.Row, n *int) error {
	oc := ip.onConf
	full := append(append(sem.Row{}, old...), excluded...)
	if oc.where != nil {
		ok, err := sem.IsTrue(c.Eval, oc.where, full)
		if err != nil || !ok {
			return err
		}
	}
	newRow := append(sem.Row{}, old...)
	for _, s := range oc.set {
		v, err := ip.setValue(c, s, full)
		if err != nil {
			return err
		}
		newRow[s.col] = v
	}
	if err := ip.w.update(c, old, newRow); err != nil {
		return err
	}
	*n++
	return ip.ret.add(c, res, newRow)
}

func (ip *insertPlan) setValue(c *Ctx, s setClause, row sem.Row) (types.Datum, error) {
	if s.e == nil {
		if d := ip.w.defaults[s.col]; d != nil {
			return d.Eval(c.Eval, nil)
		}
		return nil, nil
	}
	return s.e.Eval(c.Eval, row)
}

// mutatePlan is a planned UPDATE or DELETE. With UPDATE ... FROM or
// DELETE ... USING, the target's rows are joined with the other FROM
// items (src, filtered by where) and each target row is changed once,
// for the first joined row it appears in; SET and RETURNING see the
// whole joined row.
type mutatePlan struct {
	w      *writer
	deps   []Dep
	scan   *scanNode
	src    node
	set    []setClause
	ret    *returning
	delete bool
}

func (mp *mutatePlan) Columns() []ResultCol { return mp.ret.columns() }
func (mp *mutatePlan) Deps() []Dep          { return mp.deps }

func (p *Planner) planMutate(rv *pg.RangeVar, from []*pg.Node, where *pg.Node, ret []*pg.Node) (*mutatePlan, sem.Scope, error) {
	d, err := p.resolveTable(rv)
	if err != nil {
		return nil, nil, err
	}
	w, err := p.newWriter(d)
	if err != nil {
		return nil, nil, err
	}
	scope := tableScope(d, aliasOf(rv))
	mp := &mutatePlan{w: w, scan: newScan(d, kvapi.LockExclusive)}
	if len(from) > 0 {
		others, os, err := p.planFrom(from, kvapi.LockShared)
		if err != nil {
			return nil, nil, err
		}
		mp.src, scope, _ = p.joinOn(pg.JoinType_JOIN_INNER, mp.scan, scope, others, os, nil)
	}
	if where != nil {
		b := p.builder(scope)
		e, err := b.Build(where)
		if err != nil {
			return nil, nil, err
		}
		if e, err = b.Predicate(e); err != nil {
			return nil, nil, err
		}
		if mp.src != nil {
			mp.src.(*joinNode).on = e
			mp.src.(*joinNode).findHashKeys()
		} else {
			mp.scan.setFilter(e)
		}
	}
	mp.ret, err = p.planReturning(ret, scope)
	return mp, scope, err
}

func (p *Planner) planUpdate(s *pg.UpdateStmt) (Plan, error) {
	if s.WithClause != nil {
		pop, err := p.pushWith(s.WithClause)
		if err != nil {
			return nil, err
		}
		defer pop()
	}
	if err := p.refuseViewWrite(s.Relation, "update"); err != nil {
		return nil, err
	}
	mp, scope, err := p.planMutate(s.Relation, s.FromClause, s.WhereClause, s.ReturningList)
	if err != nil {
		return nil, err
	}
	b := p.builder(scope)
	b.Context = "UPDATE"
	for _, n := range s.TargetList {
		sc, err := setTarget(b, mp.w.desc, n.GetResTarget())
		if err != nil {
			return nil, err
		}
		mp.set = append(mp.set, sc)
	}
	mp.deps = p.deps
	return mp, nil
}

func (p *Planner) planDelete(s *pg.DeleteStmt) (Plan, error) {
	if s.WithClause != nil {
		pop, err := p.pushWith(s.WithClause)
		if err != nil {
			return nil, err
		}
		defer pop()
	}
	if err := p.refuseViewWrite(s.Relation, "delete from"); err != nil {
		return nil, err
	}
	mp, _, err := p.planMutate(s.Relation, s.UsingClause, s.WhereClause, s.ReturningList)
	if err != nil {
		return nil, err
	}
	mp.delete = true
	mp.deps = p.deps
	return mp, nil
}

// Exec runs the UPDATE or DELETE.
func (mp *mutatePlan) Exec(c *Ctx) (*Result, error) {
	mp.w.pending = fkPending{} // left over by a failed execution
	rows, err := mp.targetRows(c)
	if err != nil {
		return nil, err
	}
	width := len(mp.w.desc.Table.Columns)
	// Every new row is computed before the first write, so SET
	// expressions (subqueries among them) see the table as the statement
	// found it, as in PostgreSQL.
	news := make([]sem.Row, len(rows))
	for i, full := range rows {
		if news[i], err = mp.newRow(c, full[:width], full); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	for i, full := range rows {
		if err := mp.write(c, full[:width], news[i]); err != nil {
			return nil, err
		}
	}
	if err := mp.w.finishFK(c); err != nil {
		return nil, err
	}
	for i, full := range rows {
		if err := mp.ret.add(c, res, append(append(sem.Row{}, news[i]...), full[width:]...)); err != nil {
			return nil, err
		}
	}
	verb := "UPDATE"
	if mp.delete {
		verb = "DELETE"
	}
	res.Tag = fmt.Sprintf("%s %d", verb, len(rows))
	return res, nil
}

// targetRows returns the rows to change: the target's rows, or with FROM
// the joined rows, one per target row.
func (mp *mutatePlan) targetRows(c *Ctx) ([]sem.Row, error) {
	if mp.src == nil {
		return runNode(c, mp.scan)
	}
	rows, err := runNode(c, mp.src)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	out := rows[:0]
	for _, r := range rows {
		k := string(mp.w.codec.PrimaryKey(r))
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// newRow computes a target row's new values (the row itself for DELETE);
// full is the row SET expressions see.
func (mp *mutatePlan) newRow(c *Ctx, row, full sem.Row) (sem.Row, error) {
	if mp.delete {
		return row, nil
	}
	newRow := append(sem.Row{}, row...)
	for _, s := range mp.set {
		var v types.Datum
		var err error
		if s.e != nil {
			v, err = s.e.Eval(c.Eval, full)
		} else if d := mp.w.defaults[s.col]; d != nil {
			v, err = d.Eval(c.Eval, nil)
		}
		if err != nil {
			return nil, err
		}
		newRow[s.col] = v
	}
	return newRow, nil
}

// write deletes or updates one target row.
func (mp *mutatePlan) write(c *Ctx, row, newRow sem.Row) error {
	if mp.delete {
		return mp.w.delete(c, row)
	}
	return mp.w.update(c, row, newRow)
}
