package sem

import (
	"fmt"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

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
		t = withTypMod(t, int32(mod))
	}
	return t.SQLString(), nil
}

// withTypMod applies an atttypmod to t (an array's is its element's).
func withTypMod(t types.T, mod int32) types.T {
	f := t.Family
	if f == types.ArrayFamily {
		f = t.Elem().Family
	}
	switch f {
	case types.StringFamily:
		t = t.WithWidth(mod - 4)
	case types.DecimalFamily:
		m := mod - 4
		t = t.WithPrecision(m>>16, m&0xffff)
	}
	return t
}

// RegisterFunc adds a strict function implemented outside sem: the
// catalog functions the executor computes from descriptors
// (pg_get_indexdef, pg_get_constraintdef, ...). It must be called from an
// init function.
func RegisterFunc(name string, args []types.T, minArg int, ret types.T, fn func(*Ctx, []types.Datum) (types.Datum, error)) {
	funcs[name] = funcDef{args: args, minArg: minArg, strict: true, ret: retT(ret), fn: fn}
}

// FuncNames returns the names of the built-in functions and aggregates,
// sorted, for pg_proc; aggregate says which are aggregates.
func FuncNames() (names []string, aggregate map[string]bool) {
	for n := range funcs {
		names = append(names, n)
	}
	for n := range aggNames {
		if _, ok := funcs[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, aggNames
}

// catalogRelOIDs are the fixed OIDs of the pg_catalog relations that
// psql names in 'pg_catalog.X'::regclass.
var catalogRelOIDs = map[string]int64{
	"pg_class": 1259, "pg_type": 1247, "pg_proc": 1255, "pg_attribute": 1249, "pg_namespace": 2615,
	"pg_constraint": 2606, "pg_extension": 3079, "pg_database": 1262, "pg_index": 2610,
	"pg_description": 2609, "pg_am": 2601, "pg_collation": 3456, "pg_trigger": 2620,
}

// foldCatalogRegclass turns 'pg_catalog.pg_class'::regclass into the
// relation's fixed OID. Other regclass literals stay names (see
// types.Lookup).
func foldCatalogRegclass(tn *pg.TypeName, arg Expr) (Expr, bool) {
	k, ok := arg.(*Const)
	if !ok || k.T.Family != types.UnknownFamily || len(tn.Names) == 0 || tn.Names[len(tn.Names)-1].GetString_().GetSval() != "regclass" {
		return nil, false
	}
	s, _ := k.V.(string)
	oid, ok := catalogRelOIDs[strings.TrimPrefix(s, "pg_catalog.")]
	if !ok {
		return nil, false
	}
	return &Const{T: types.Oid, V: oid}, true
}

// CatalogRelOIDs returns the fixed OIDs of the pg_catalog relations that
// have one here, by name.
func CatalogRelOIDs() map[string]int64 { return catalogRelOIDs }
