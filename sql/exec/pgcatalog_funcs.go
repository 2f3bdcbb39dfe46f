package exec

import (
	"fmt"
	"strings"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// The catalog functions that need descriptors, computed as PostgreSQL 15
// prints them for the same objects.
func init() {
	oid, i4, b, txt := types.Oid, types.Int4, types.Bool, types.Text
	sem.RegisterFunc("pg_get_indexdef", []types.T{oid, i4, b}, 1, txt, getIndexDef)
	sem.RegisterFunc("pg_get_constraintdef", []types.T{oid, b}, 1, txt, getConstraintDef)
	sem.RegisterFunc("pg_get_expr", []types.T{txt, oid, b}, 2, txt, getExpr)
	sem.RegisterFunc("pg_relation_is_publishable", []types.T{oid}, 1, b, notPublishable)
	sem.RegisterFunc("quote_ident", []types.T{txt}, 1, txt, quoteIdentFn)
	sem.RegisterFunc("pg_size_pretty", []types.T{types.Int8}, 1, txt, sizePretty)
}

func execCtx(c *sem.Ctx) (*Ctx, error) {
	x, ok := c.Exec.(*Ctx)
	if !ok {
		return nil, fmt.Errorf("exec: catalog function outside a statement")
	}
	return x, nil
}

// tableOf returns the table a derived OID (index or constraint) belongs
// to and the number within it, or nil.
func tableOf(c *sem.Ctx, oid, base int64) (*catalog.Descriptor, int, error) {
	if oid < base {
		return nil, 0, nil
	}
	x, err := execCtx(c)
	if err != nil {
		return nil, 0, err
	}
	id, n := uint64(oid-base)/indexOIDsPerTab, int((oid-base)%indexOIDsPerTab)
	d, err := x.Cat.Get(x.Context, id, kvapi.LockShared)
	if err != nil || d == nil || d.Table == nil {
		return nil, 0, err
	}
	return d, n, nil
}

func getIndexDef(c *sem.Ctx, a []types.Datum) (types.Datum, error) {
	d, n, err := tableOf(c, a[0].(int64), indexOIDBase)
	if d == nil || err != nil {
		return nil, err
	}
	for _, idx := range visibleIndexes(d.Table) {
		if int(idx.ID) != n {
			continue
		}
		if len(a) > 1 && a[1].(int64) > 0 {
			col := a[1].(int64)
			if col > int64(len(idx.Columns)) {
				return nil, nil
			}
			return quoteIdent(d.Table.Columns[d.Table.ColumnByID(idx.Columns[col-1])].Name), nil
		}
		x, err := execCtx(c)
		if err != nil {
			return nil, err
		}
		return indexDef(schemaOf(x, d), d, idx), nil
	}
	return nil, nil
}

// indexDef is pg_get_indexdef's text: CREATE [UNIQUE] INDEX ... USING btree (...).
func indexDef(schema string, d *catalog.Descriptor, idx *catalog.Index) string {
	unique := ""
	if idx.Unique || idx.ID == catalog.PrimaryIndexID {
		unique = "UNIQUE "
	}
	return fmt.Sprintf("CREATE %sINDEX %s ON %s.%s USING btree (%s)", unique, quoteIdent(idx.Name),
		quoteIdent(schema), quoteIdent(d.Name), columnList(d.Table, idx.Columns))
}

func columnList(t *catalog.Table, ids []uint32) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = quoteIdent(t.Columns[t.ColumnByID(id)].Name)
	}
	return strings.Join(names, ", ")
}

// fkConstraintDef is pg_get_constraintdef of a FOREIGN KEY.
func fkConstraintDef(c *sem.Ctx, d *catalog.Descriptor, fk *catalog.ForeignKey) (types.Datum, error) {
	x, err := execCtx(c)
	if err != nil {
		return nil, err
	}
	p, _, err := fkParentOf(x, fk)
	if err != nil || p == nil {
		return nil, err
	}
	def := fmt.Sprintf("FOREIGN KEY (%s) REFERENCES %s(%s)", columnList(d.Table, fk.Columns), quoteIdent(p.Name), columnList(p.Table, fk.RefColumns))
	if a := catalog.Action(fk.OnUpdate); a != fkNoAction {
		def += " ON UPDATE " + fkActionRule(a)
	}
	if a := catalog.Action(fk.OnDelete); a != fkNoAction {
		def += " ON DELETE " + fkActionRule(a)
	}
	if len(fk.DeleteSetColumns) > 0 {
		def += " (" + columnList(d.Table, fk.DeleteSetColumns) + ")"
	}
	return def, nil
}

func getConstraintDef(c *sem.Ctx, a []types.Datum) (types.Datum, error) {
	d, _, err := tableOf(c, a[0].(int64), conOIDBase)
	if d == nil || err != nil {
		return nil, err
	}
	for _, con := range tableConstraints(d) {
		if con.oid != a[0].(int64) {
			continue
		}
		switch con.typ {
		case "p":
			return "PRIMARY KEY (" + columnList(d.Table, con.index.Columns) + ")", nil
		case "u":
			return "UNIQUE (" + columnList(d.Table, con.index.Columns) + ")", nil
		case "f":
			return fkConstraintDef(c, d, con.fk)
		}
		if pretty := len(a) > 1 && a[1] == true; !pretty {
			return "CHECK ((" + con.check.Expr + "))", nil
		}
		return "CHECK (" + con.check.Expr + ")", nil
	}
	return nil, nil
}

// getExpr is pg_get_expr: ordo keeps expressions (defaults, checks) as
// their SQL text, so the stored text is the answer.
func getExpr(_ *sem.Ctx, a []types.Datum) (types.Datum, error) { return a[0], nil }

func notPublishable(*sem.Ctx, []types.Datum) (types.Datum, error) { return false, nil }

func quoteIdentFn(_ *sem.Ctx, a []types.Datum) (types.Datum, error) {
	return quoteIdent(a[0].(string)), nil
}

// quoteIdent quotes an identifier unless it is a lower-case plain name.
func quoteIdent(s string) string {
	plain := s != "" && !(s[0] >= '0' && s[0] <= '9')
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			plain = false
		}
	}
	if plain && !reservedWords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// sizePretty is pg_size_pretty(bigint), PostgreSQL 15's algorithm: one
// extra bit is kept for rounding half away from zero.
func sizePretty(_ *sem.Ctx, a []types.Datum) (types.Datum, error) {
	n := a[0].(int64)
	if abs(n) < 10*1024 {
		return fmt.Sprintf("%d bytes", n), nil
	}
	n /= 1 << 9 // division, not a shift, so negative sizes round alike
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		if abs(n) < 20*1024-1 {
			return fmt.Sprintf("%d %s", halfRounded(n), unit), nil
		}
		n /= 1 << 10
	}
	return fmt.Sprintf("%d PB", halfRounded(n)), nil
}

func halfRounded(n int64) int64 {
	if n < 0 {
		return (n - 1) / 2
	}
	return (n + 1) / 2
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// reservedWords are PostgreSQL's reserved keywords, which quote_ident
// quotes.
var reservedWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization binary both case cast
		check collate collation column concurrently constraint create cross current_catalog current_date
		current_role current_schema current_time current_timestamp current_user default deferrable desc
		distinct do else end except false fetch for foreign freeze from full grant group having ilike in
		initially inner intersect into is isnull join lateral leading left like limit localtime
		localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
		references returning right select session_user similar some symmetric system_user table tablesample
		then to trailing true union unique user using variadic verbose when where window with`) {
		reservedWords[w] = true
	}
}

// relations resolves regclass values (sem.Relations) in the session's
// schema: tables, sequences, indexes and the pg_catalog relations with
// fixed OIDs.
type relations struct{}

func init() { sem.Relations = relations{} }

func (relations) RelationName(c *sem.Ctx, oid int64) (string, bool, error) {
	for name, o := range sem.CatalogRelOIDs() {
		if o == oid {
			return name, true, nil
		}
	}
	x, err := execCtx(c)
	if err != nil {
		return "", false, err
	}
	if oid >= indexOIDBase {
		d, n, err := tableOf(c, oid, indexOIDBase)
		if d == nil || err != nil {
			return "", false, err
		}
		for _, idx := range visibleIndexes(d.Table) {
			if int(idx.ID) == n {
				return quoteIdent(idx.Name), true, nil
			}
		}
		return "", false, nil
	}
	if oid <= 0 {
		return "", false, nil
	}
	d, err := x.Cat.Get(x.Context, uint64(oid), kvapi.LockShared)
	if err != nil || d == nil || (d.Kind != catalog.KindTable && d.Kind != catalog.KindSequence) {
		return "", false, err
	}
	name, err := visibleName(x, d, d.Name)
	return name, err == nil, err
}

// visibleName is how regclass prints a relation of d's schema: bare when
// the search path finds it, schema-qualified otherwise.
func visibleName(x *Ctx, d *catalog.Descriptor, name string) (string, error) {
	ok, err := x.names().Visible(x.Context, d.ParentID, name)
	if err != nil || ok {
		return quoteIdent(name), err
	}
	schema, _, err := relSchema(x, d)
	return quoteIdent(schema) + "." + quoteIdent(name), err
}

func (relations) RelationOID(c *sem.Ctx, name string) (int64, bool, error) {
	if rel, ok := strings.CutPrefix(name, "pg_catalog."); ok {
		oid, ok := sem.CatalogRelOIDs()[rel]
		return oid, ok, nil
	}
	schema, rel := SplitQualified(name)
	x, err := execCtx(c)
	if err != nil {
		return 0, false, err
	}
	_, id, found, err := x.names().Lookup(x.Context, schema, rel, kvapi.LockShared)
	if err != nil || found {
		return int64(id), found, err
	}
	if oid, found, err := indexOIDByName(x, schema, rel); err != nil || found {
		return oid, found, err
	}
	if schema == "" {
		if oid, ok := sem.CatalogRelOIDs()[rel]; ok {
			return oid, true, nil
		}
	}
	return 0, false, nil
}

// indexOIDByName finds an index (a primary key's too) of schema, or of
// the search path.
func indexOIDByName(x *Ctx, schema, name string) (int64, bool, error) {
	names, err := pathNames(x, schema)
	if err != nil {
		return 0, false, err
	}
	for _, id := range names {
		d, err := x.Cat.Get(x.Context, id, kvapi.LockShared)
		if err != nil {
			return 0, false, err
		}
		if d == nil || d.Table == nil {
			continue
		}
		for _, idx := range visibleIndexes(d.Table) {
			if idx.Name == name {
				return IndexOID(d.ID, idx.ID), true, nil
			}
		}
	}
	return 0, false, nil
}
