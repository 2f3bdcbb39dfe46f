package sem

import (
	"fmt"

	"github.com/ordodb/ordo/sql/types"
)

// Well-known role OIDs of PostgreSQL 15: the bootstrap superuser (which
// ordo reports as the session's user) and pg_database_owner (owner of the
// public schema).
const (
	BootstrapRoleOID     = 10
	DatabaseOwnerRoleOID = 6171
)

// The functions psql's catalog queries call.
func init() {
	oid := []types.T{types.Oid}
	always := func(*Ctx, []types.Datum) (types.Datum, error) { return true, nil }
	for name, d := range map[string]funcDef{
		"pg_table_is_visible":    {args: oid, strict: true, ret: retT(types.Bool), fn: always},
		"pg_type_is_visible":     {args: oid, strict: true, ret: retT(types.Bool), fn: always},
		"pg_function_is_visible": {args: oid, strict: true, ret: retT(types.Bool), fn: always},
		"pg_get_userbyid":        {args: oid, strict: true, ret: retT(types.Name), fn: userByID},
		"pg_encoding_to_char":    {args: []types.T{types.Int4}, strict: true, ret: retT(types.Name), fn: encodingName},
		"obj_description":        {args: []types.T{types.Oid, types.Text}, minArg: 1, ret: retT(types.Text), fn: null},
		"col_description":        {args: []types.T{types.Oid, types.Int4}, ret: retT(types.Text), fn: null},
		"format_type":            {args: []types.T{types.Oid, types.Int4}, ret: retT(types.Text), fn: formatType},
	} {
		funcs[name] = d
	}
}

func null(*Ctx, []types.Datum) (types.Datum, error) { return nil, nil }

func userByID(c *Ctx, a []types.Datum) (types.Datum, error) {
	switch a[0].(int64) {
	case BootstrapRoleOID:
		return c.Env.User(), nil
	case DatabaseOwnerRoleOID:
		return "pg_database_owner", nil
	}
	return fmt.Sprintf("unknown (OID=%d)", a[0]), nil
}

func encodingName(_ *Ctx, a []types.Datum) (types.Datum, error) {
	if a[0].(int64) == 6 {
		return "UTF8", nil
	}
	return "", nil
}

// formatType is format_type(type_oid, typmod).
func formatType(_ *Ctx, a []types.Datum) (types.Datum, error) {
	if a[0] == nil {
		return nil, nil
	}
	t, ok := types.FromOID(uint32(a[0].(int64)))
	if !ok {
		return "???", nil
	}
	if mod, ok := a[1].(int64); ok && mod >= 0 {
		switch t.Family {
		case types.StringFamily:
			t = t.WithWidth(int32(mod - 4))
		case types.DecimalFamily:
			m := int32(mod - 4)
			t = t.WithPrecision(m>>16, m&0xffff)
		}
	}
	return t.SQLString(), nil
}
