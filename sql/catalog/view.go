package catalog

import "slices"

// View is a view's definition. The query is kept as SQL text with every
// relation name schema-qualified when the view was created, so it means
// the same under any search_path; its output columns (names and types)
// are fixed then too, as PostgreSQL fixes them. Renaming a relation the
// view names rewrites Query; dropping one is refused while the view
// exists (or drops the view, under CASCADE).
type View struct {
	// Query is the normalised SELECT (pg_query's deparsed form) that a
	// statement reading the view plans as a subquery.
	Query string `json:"query"`
	// Columns are the view's columns: ID is the attnum, Type fixed at
	// creation. CREATE OR REPLACE may only append.
	Columns []Column `json:"columns"`
	// Definition and Pretty are pg_get_viewdef(oid) and
	// pg_get_viewdef(oid, true): PostgreSQL's deparsed text.
	Definition string `json:"definition"`
	Pretty     string `json:"pretty"`
	// DependsOn are the tables and views the query names directly.
	DependsOn []uint64 `json:"depends_on,omitempty"`
}

// AddDependent records that the view id depends on d.
func (d *Descriptor) AddDependent(id uint64) {
	if !slices.Contains(d.Dependents, id) {
		d.Dependents = append(d.Dependents, id)
	}
}

// RemoveDependent forgets the view id.
func (d *Descriptor) RemoveDependent(id uint64) {
	d.Dependents = slices.DeleteFunc(d.Dependents, func(x uint64) bool { return x == id })
}
