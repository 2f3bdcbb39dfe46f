package exec

import (
	"fmt"
	"slices"

	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// information_schema, computed from the same descriptors as pg_catalog,
// with PostgreSQL 15's column names and rules: table_constraints lists a
// column's NOT NULL as a CHECK constraint named
// <schema oid>_<table oid>_<attnum>_not_null; views is empty (ordo has no
// views); nulls_distinct is set for UNIQUE only, as in PostgreSQL 15.
var infoTables map[string]*vtable

// infoSchemaTable returns the information_schema view named name.
func infoSchemaTable(name string) (*vtable, bool) {
	v, ok := infoTables[name]
	return v, ok
}

func init() {
	id, cd, yn, card := types.Name, types.Varchar, types.Varchar, types.Int4
	cols := func(c ...vcol) []vcol { return c }
	infoTables = map[string]*vtable{
		"schemata": {rows: schemataRows, cols: cols(vcol{"catalog_name", id}, vcol{"schema_name", id},
			vcol{"schema_owner", id}, vcol{"default_character_set_catalog", id},
			vcol{"default_character_set_schema", id}, vcol{"default_character_set_name", id}, vcol{"sql_path", cd})},
		"tables": {rows: withViews(infoTablesRows, infoViewTablesRows), cols: cols(vcol{"table_catalog", id}, vcol{"table_schema", id},
			vcol{"table_name", id}, vcol{"table_type", cd}, vcol{"self_referencing_column_name", id},
			vcol{"reference_generation", cd}, vcol{"user_defined_type_catalog", id},
			vcol{"user_defined_type_schema", id}, vcol{"user_defined_type_name", id},
			vcol{"is_insertable_into", yn}, vcol{"is_typed", yn}, vcol{"commit_action", cd})},
		"columns": {rows: withViews(infoColumnsRows, infoViewColumnsRows), cols: cols(vcol{"table_catalog", id}, vcol{"table_schema", id},
			vcol{"table_name", id}, vcol{"column_name", id}, vcol{"ordinal_position", card},
			vcol{"column_default", cd}, vcol{"is_nullable", yn}, vcol{"data_type", cd},
			vcol{"character_maximum_length", card}, vcol{"character_octet_length", card},
			vcol{"numeric_precision", card}, vcol{"numeric_precision_radix", card}, vcol{"numeric_scale", card},
			vcol{"datetime_precision", card}, vcol{"interval_type", cd}, vcol{"udt_catalog", id},
			vcol{"udt_schema", id}, vcol{"udt_name", id}, vcol{"dtd_identifier", id},
			vcol{"is_identity", yn}, vcol{"is_generated", cd}, vcol{"is_updatable", yn})},
		"table_constraints": {rows: infoTableConstraintsRows, cols: cols(vcol{"constraint_catalog", id},
			vcol{"constraint_schema", id}, vcol{"constraint_name", id}, vcol{"table_catalog", id},
			vcol{"table_schema", id}, vcol{"table_name", id}, vcol{"constraint_type", cd},
			vcol{"is_deferrable", yn}, vcol{"initially_deferred", yn}, vcol{"enforced", yn}, vcol{"nulls_distinct", yn})},
		"key_column_usage": {rows: infoKeyColumnRows, cols: cols(vcol{"constraint_catalog", id},
			vcol{"constraint_schema", id}, vcol{"constraint_name", id}, vcol{"table_catalog", id},
			vcol{"table_schema", id}, vcol{"table_name", id}, vcol{"column_name", id},
			vcol{"ordinal_position", card}, vcol{"position_in_unique_constraint", card})},
		"referential_constraints": {rows: infoReferentialRows, cols: cols(vcol{"constraint_catalog", id},
			vcol{"constraint_schema", id}, vcol{"constraint_name", id}, vcol{"unique_constraint_catalog", id},
			vcol{"unique_constraint_schema", id}, vcol{"unique_constraint_name", id}, vcol{"match_option", cd},
			vcol{"update_rule", cd}, vcol{"delete_rule", cd})},
		"sequences": {rows: infoSequencesRows, cols: cols(vcol{"sequence_catalog", id}, vcol{"sequence_schema", id},
			vcol{"sequence_name", id}, vcol{"data_type", cd}, vcol{"numeric_precision", card},
			vcol{"numeric_precision_radix", card}, vcol{"numeric_scale", card}, vcol{"start_value", cd},
			vcol{"minimum_value", cd}, vcol{"maximum_value", cd}, vcol{"increment", cd}, vcol{"cycle_option", yn})},
		"views": {rows: infoViewsRows, cols: cols(vcol{"table_catalog", id}, vcol{"table_schema", id},
			vcol{"table_name", id}, vcol{"view_definition", cd}, vcol{"check_option", cd}, vcol{"is_updatable", yn},
			vcol{"is_insertable_into", yn}, vcol{"is_trigger_updatable", yn}, vcol{"is_trigger_deletable", yn},
			vcol{"is_trigger_insertable_into", yn})},
	}
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

func schemataRows(c *Ctx) ([]sem.Row, error) {
	db, user := c.Eval.Env.Database(), c.Eval.Env.User()
	var out []sem.Row
	for _, s := range []string{"information_schema", "pg_catalog"} {
		out = append(out, sem.Row{db, s, user, nil, nil, nil, nil})
	}
	schemas, err := schemaList(c)
	for _, d := range schemas {
		owner := d.Owner
		if owner == "" {
			owner = "pg_database_owner"
		}
		out = append(out, sem.Row{db, d.Name, owner, nil, nil, nil, nil})
	}
	return out, err
}

func infoTablesRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		out = append(out, sem.Row{db, schemaOf(c, d), d.Name, "BASE TABLE", nil, nil, nil, nil, nil,
			"YES", "NO", nil})
	}
	return out, err
}

func infoColumnsRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		for _, col := range d.Table.Columns {
			if col.Hidden {
				continue
			}
			n := attnum(d.Table, col.ID)
			var def any
			if col.Default != "" && col.Identity == "" {
				def = col.Default
			}
			row := sem.Row{db, schemaOf(c, d), d.Name, col.Name, int64(n), def, yesNo(!col.NotNull),
				infoDataType(col.Type)}
			row = append(row, typeMetrics(col.Type)...)
			row = append(row, db, "pg_catalog", col.Type.TypName(), fmt.Sprint(n), yesNo(col.Identity != ""), "NEVER", "YES")
			out = append(out, row)
		}
	}
	return out, err
}

// infoDataType is information_schema's data_type: the type's name, or
// ARRAY for an array.
func infoDataType(t types.T) string {
	if t.Family == types.ArrayFamily {
		return "ARRAY"
	}
	return t.Name()
}

// typeMetrics are columns' character_maximum_length through
// interval_type, as PostgreSQL's information_schema computes them.
func typeMetrics(t types.T) []any {
	var maxLen, octets, prec, radix, scale, dtPrec, ivType any
	switch t.Family {
	case types.StringFamily:
		if t.OID != types.Name.OID {
			octets = int64(1073741824)
			if t.Width > 0 {
				maxLen, octets = int64(t.Width), int64(t.Width)*4
			}
		}
	case types.IntFamily:
		prec, radix, scale = int64(t.Size())*8, int64(2), int64(0)
	case types.FloatFamily:
		prec, radix = int64(24), int64(2)
		if t.Size() == 8 {
			prec = int64(53)
		}
	case types.DecimalFamily:
		radix = int64(10)
		if t.Prec > 0 {
			prec, scale = int64(t.Prec), int64(t.Scale)
		}
	case types.DateFamily:
		dtPrec = int64(0)
	case types.TimestampFamily, types.TimestampTZFamily, types.IntervalFamily:
		dtPrec = int64(6)
	}
	return []any{maxLen, octets, prec, radix, scale, dtPrec, ivType}
}

func infoTableConstraintsRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		sch := schemaOf(c, d)
		row := func(name, table, typ string, nullsDistinct any) sem.Row {
			return sem.Row{db, sch, name, db, sch, table, typ, "NO", "NO", "YES", nullsDistinct}
		}
		for _, con := range tableConstraints(d) {
			switch con.typ {
			case "p":
				out = append(out, row(con.name, d.Name, "PRIMARY KEY", nil))
			case "u":
				out = append(out, row(con.name, d.Name, "UNIQUE", "YES"))
			case "f":
				out = append(out, row(con.name, d.Name, "FOREIGN KEY", nil))
			default:
				out = append(out, row(con.name, d.Name, "CHECK", nil))
			}
		}
		for _, col := range d.Table.Columns {
			if col.NotNull && !col.Hidden {
				name := fmt.Sprintf("%d_%d_%d_not_null", nspOf(c, d), d.ID, attnum(d.Table, col.ID))
				out = append(out, row(name, d.Name, "CHECK", nil))
			}
		}
	}
	return out, err
}

func infoKeyColumnRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		for _, con := range tableConstraints(d) {
			var cols []uint32
			switch {
			case con.index != nil:
				cols = con.index.Columns
			case con.fk != nil:
				cols = con.fk.Columns
			}
			for i, id := range cols {
				col := d.Table.Columns[d.Table.ColumnByID(id)]
				var pos any
				if con.fk != nil {
					pos = int64(fkUniquePosition(c, con.fk, i))
				}
				out = append(out, sem.Row{db, schemaOf(c, d), con.name, db, schemaOf(c, d), d.Name,
					col.Name, int64(i + 1), pos})
			}
		}
	}
	return out, err
}

// fkUniquePosition is the position of a FOREIGN KEY's i-th referenced
// column in the parent's unique constraint.
func fkUniquePosition(c *Ctx, fk *catalog.ForeignKey, i int) int {
	_, idx, err := fkParentOf(c, fk)
	if err != nil || idx == nil {
		return i + 1
	}
	return slices.Index(idx.Columns, fk.RefColumns[i]) + 1
}

func infoReferentialRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaTables(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		for _, fk := range d.Table.ForeignKeys {
			p, idx, err := fkParentOf(c, &fk)
			if err != nil || idx == nil {
				return nil, err
			}
			out = append(out, sem.Row{db, schemaOf(c, d), fk.Name, db, schemaOf(c, p), idx.Name,
				"NONE", fkActionRule(fk.OnUpdate), fkActionRule(fk.OnDelete)})
		}
	}
	return out, err
}

func infoSequencesRows(c *Ctx) ([]sem.Row, error) {
	ds, err := schemaDescs(c)
	db := c.Eval.Env.Database()
	var out []sem.Row
	for _, d := range ds {
		s := d.Sequence
		if d.Kind != catalog.KindSequence || s == nil {
			continue
		}
		if _, col := sequenceOwner(c, d); col != nil && col.Identity != "" {
			continue // identity sequences are internal, as in PostgreSQL
		}
		t := sequenceType(c, d)
		out = append(out, sem.Row{db, schemaOf(c, d), d.Name, t.Name(), int64(t.Size()) * 8, int64(2), int64(0),
			fmt.Sprint(s.Start), fmt.Sprint(s.Min), fmt.Sprint(s.Max), fmt.Sprint(s.Increment), yesNo(s.Cycle)})
	}
	return out, err
}
