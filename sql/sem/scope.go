package sem

import (
	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// ScopeCol is one input column visible to expressions.
type ScopeCol struct {
	Table  string // alias or table name; "" for derived columns
	Name   string
	T      types.T
	Hidden bool // not expanded by *
	// QualifiedOnly columns are the inputs of a USING or NATURAL join's
	// merged column: only table.name reaches them, and only table.*
	// expands them.
	QualifiedOnly bool
	// TableOID and Attr describe the source column for RowDescription.
	TableOID uint32
	Attr     uint16
}

// Scope is the list of input columns; a row has one value per column.
type Scope []ScopeCol

// Resolve finds a column by optional table and name.
func (s Scope) Resolve(table, name string, pos int32) (int, error) {
	found := -1
	for i, c := range s {
		if c.Name != name || (table != "" && c.Table != table) || (table == "" && c.QualifiedOnly) {
			continue
		}
		if found >= 0 {
			e := pgcode.New(sqlerr.AmbiguousColumn, "column reference %q is ambiguous", name)
			e.Position = pos
			return 0, e
		}
		found = i
	}
	if found >= 0 {
		return found, nil
	}
	if table != "" && !s.hasTable(table) {
		e := pgcode.New(pgcode.UndefinedTable, "missing FROM-clause entry for table %q", table)
		e.Position = pos
		return 0, e
	}
	var e *pgcode.Error
	if table != "" {
		e = pgcode.New(sqlerr.UndefinedColumn, "column %s.%s does not exist", table, name)
	} else {
		e = pgcode.New(sqlerr.UndefinedColumn, "column %q does not exist", name)
	}
	e.Position = pos
	return 0, e
}

func (s Scope) hasTable(t string) bool {
	for _, c := range s {
		if c.Table == t {
			return true
		}
	}
	return false
}
