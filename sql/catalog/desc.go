package catalog

import (
	"strings"

	"github.com/ordodb/ordo/sql/types"
)

// Kind is the kind of a descriptor.
type Kind string

// Descriptor kinds.
const (
	KindDatabase Kind = "database"
	KindSchema   Kind = "schema"
	KindTable    Kind = "table"
	KindSequence Kind = "sequence"
	KindView     Kind = "view"
)

// Descriptor describes one named catalog object.
type Descriptor struct {
	ID       uint64 `json:"id"`
	Kind     Kind   `json:"kind"`
	Name     string `json:"name"`
	ParentID uint64 `json:"parent_id"` // database of a schema, schema of a table
	Version  uint64 `json:"version"`
	// Owner is the role that owns a schema made by CREATE SCHEMA ("" for
	// the public schema made at bootstrap).
	Owner    string    `json:"owner,omitempty"`
	Table    *Table    `json:"table,omitempty"`
	Sequence *Sequence `json:"sequence,omitempty"`
	View     *View     `json:"view,omitempty"`
	// Dependents are the views whose definitions name this table or
	// view (PostgreSQL's pg_depend entries of their _RETURN rules), so
	// DROP finds them (2BP01, or dropped too under CASCADE).
	Dependents []uint64 `json:"dependents,omitempty"`
}

// Table is a table's schema.
type Table struct {
	Columns      []Column `json:"columns"`
	NextColumnID uint32   `json:"next_column_id"`
	Primary      Index    `json:"primary"` // ID 1
	Indexes      []Index  `json:"indexes,omitempty"`
	NextIndexID  uint32   `json:"next_index_id"`
	Checks       []Check  `json:"checks,omitempty"`
	// ForeignKeys are the table's FOREIGN KEY constraints (it is the child).
	ForeignKeys []ForeignKey `json:"foreign_keys,omitempty"`
	// ReferencedBy lists the tables with a FOREIGN KEY to this one (it
	// is the parent), so its writers find the constraints to enforce.
	ReferencedBy []uint64 `json:"referenced_by,omitempty"`
}

// ForeignKey is a FOREIGN KEY constraint: Columns of this table reference
// RefColumns of the table RefTable, which form its primary key or a
// unique constraint. Only NO ACTION and RESTRICT are supported.
type ForeignKey struct {
	Name       string   `json:"name"`
	Columns    []uint32 `json:"columns"`
	RefTable   uint64   `json:"ref_table"`
	RefColumns []uint32 `json:"ref_columns"`
	// OnUpdate and OnDelete are PostgreSQL's action codes: "a" NO ACTION
	// (the default), "r" RESTRICT, "c" CASCADE, "n" SET NULL, "d" SET
	// DEFAULT.
	OnUpdate string `json:"on_update,omitempty"`
	OnDelete string `json:"on_delete,omitempty"`
	// DeleteSetColumns are the columns ON DELETE SET NULL (...) or SET
	// DEFAULT (...) sets (PostgreSQL's confdelsetcols); empty: all of
	// Columns.
	DeleteSetColumns []uint32 `json:"delete_set_columns,omitempty"`
}

// Action returns a FOREIGN KEY action code, NO ACTION when unset.
func Action(code string) string {
	if code == "" {
		return "a"
	}
	return code
}

// Column is one column.
type Column struct {
	ID      uint32  `json:"id"`
	Name    string  `json:"name"`
	Type    types.T `json:"type"`
	NotNull bool    `json:"not_null,omitempty"`
	Default string  `json:"default,omitempty"` // SQL expression text; "" = NULL
	Hidden  bool    `json:"hidden,omitempty"`  // the implicit rowid
	// Sequence is the ID of the sequence a SERIAL column owns.
	Sequence uint64 `json:"sequence,omitempty"`
	// Identity is "a" for GENERATED ALWAYS AS IDENTITY, "d" for GENERATED
	// BY DEFAULT AS IDENTITY, "" otherwise (pg_attribute.attidentity).
	Identity string `json:"identity,omitempty"`
}

// Index is the primary index or a secondary one.
type Index struct {
	ID      uint32   `json:"id"`
	Name    string   `json:"name"`
	Unique  bool     `json:"unique,omitempty"`
	Columns []uint32 `json:"columns"` // column IDs
	// Constraint is set for indexes that back a PRIMARY KEY or UNIQUE
	// constraint (as opposed to CREATE INDEX).
	Constraint bool `json:"constraint,omitempty"`
	// State is IndexPublic ("") or IndexWriteOnly: an index being built
	// online, maintained by every write but never read (docs/catalog.md).
	State string `json:"state,omitempty"`
}

// Index states.
const (
	IndexPublic    = ""
	IndexWriteOnly = "write_only"
)

// Public reports whether reads may use the index.
func (i *Index) Public() bool { return i.State == IndexPublic }

// IndexByID returns the position of the secondary index with the ID.
func (t *Table) IndexByID(id uint32) (int, bool) {
	for i := range t.Indexes {
		if t.Indexes[i].ID == id {
			return i, true
		}
	}
	return 0, false
}

// Check is a CHECK constraint.
type Check struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// Sequence is a sequence's parameters.
type Sequence struct {
	Start     int64  `json:"start"`
	Increment int64  `json:"increment"`
	Min       int64  `json:"min"`
	Max       int64  `json:"max"`
	OwnedBy   uint64 `json:"owned_by,omitempty"` // table ID
	Cache     int64  `json:"cache,omitempty"`
	Cycle     bool   `json:"cycle,omitempty"`
	// Type is the sequence's AS type (int2, int4 or int8); zero is int8.
	Type types.T `json:"type,omitempty"`
}

// PrimaryIndexID is the ID of every table's primary index.
const PrimaryIndexID = 1

// ColumnIndex returns the position of the column named name, or -1.
func (t *Table) ColumnIndex(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// ColumnByID returns the position of the column with the ID, or -1.
func (t *Table) ColumnByID(id uint32) int {
	for i := range t.Columns {
		if t.Columns[i].ID == id {
			return i
		}
	}
	return -1
}

// AllIndexes returns the primary index followed by the secondary ones.
func (t *Table) AllIndexes() []*Index {
	out := []*Index{&t.Primary}
	for i := range t.Indexes {
		out = append(out, &t.Indexes[i])
	}
	return out
}

// IndexByName returns the secondary index named name.
func (t *Table) IndexByName(name string) (int, bool) {
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// ColumnNames returns the names of the column IDs, comma-separated, as in
// PostgreSQL's "Key (a, b)=..." details.
func (t *Table) ColumnNames(ids []uint32) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = t.Columns[t.ColumnByID(id)].Name
	}
	return strings.Join(names, ", ")
}
