package sem

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/types"
)

// Relations is how the reg* conversions resolve relations; the executor
// sets it (its catalog is out of sem's reach). Name returns ok false for
// an OID that names no relation.
var Relations interface {
	RelationName(c *Ctx, oid int64) (name string, ok bool, err error)
	RelationOID(c *Ctx, name string) (oid int64, ok bool, err error)
}

// Fixed namespace OIDs of PostgreSQL 15, as pg_namespace reports them.
var namespaceOIDs = map[string]int64{"pg_catalog": 11, "public": 2200, "information_schema": 13000}

// regName is oid::regclass (regtype, ...): the object's name, or the
// number when no object has the OID, as PostgreSQL prints it.
func regName(t types.T) func(c *Ctx, a []types.Datum) (types.Datum, error) {
	return func(c *Ctx, a []types.Datum) (types.Datum, error) {
		oid := a[0].(int64)
		switch t.OID {
		case types.RegClass.OID:
			if Relations != nil {
				if n, ok, err := Relations.RelationName(c, oid); ok || err != nil {
					return n, err
				}
			}
		case types.RegType.OID:
			if tt, ok := types.FromOID(uint32(oid)); ok {
				return tt.Name(), nil
			}
		case types.RegNamespace.OID:
			for n, o := range namespaceOIDs {
				if o == oid {
					return n, nil
				}
			}
		case types.RegRole.OID:
			return userByID(c, a)
		}
		return fmt.Sprint(oid), nil
	}
}

// numericRegLiteral is '16384'::regclass (and the other reg* types): a
// literal number is an OID, as PostgreSQL's input functions take it (psql
// writes such literals); the value is the object's name, as oid::regclass.
// A text value cast at run time stays a name, as in PostgreSQL.
func numericRegLiteral(t types.T, arg Expr) (Expr, bool) {
	k, ok := arg.(*Const)
	if !ok || k.T.Family != types.UnknownFamily || !isRegType(t) {
		return nil, false
	}
	s, _ := k.V.(string)
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return nil, false
	}
	return &Func{Name: t.Name(), Args: []Expr{&Const{T: types.Oid, V: int64(n)}}, T: t, Strict: true, Fn: regName(t)}, true
}

func isRegType(t types.T) bool {
	switch t.OID {
	case types.RegClass.OID, types.RegType.OID, types.RegNamespace.OID, types.RegRole.OID:
		return true
	}
	return false
}

// regOID is the reverse: the OID of a named object, an error (as
// PostgreSQL's input functions) when there is none.
func regOID(t types.T) func(c *Ctx, a []types.Datum) (types.Datum, error) {
	return func(c *Ctx, a []types.Datum) (types.Datum, error) {
		name := a[0].(string)
		switch t.OID {
		case types.RegClass.OID:
			if Relations != nil {
				oid, ok, err := Relations.RelationOID(c, name)
				if ok || err != nil {
					return oid, err
				}
			}
			return nil, pgcode.New("42P01", "relation %q does not exist", name)
		case types.RegType.OID:
			if tt, ok := types.Lookup(strings.TrimPrefix(name, "pg_catalog.")); ok {
				return int64(tt.OID), nil
			}
			return nil, pgcode.New("42704", "type %q does not exist", name)
		case types.RegNamespace.OID:
			if oid, ok := namespaceOIDs[name]; ok {
				return oid, nil
			}
			return nil, pgcode.New("3F000", "schema %q does not exist", name)
		}
		return nil, pgcode.New("42704", "role %q does not exist", name)
	}
}

// buildRegCast is an oid or integer cast to a reg* type, or a reg* value
// cast to oid or an integer type; otherwise nil.
func buildRegCast(t types.T, arg Expr) Expr {
	if arg.Type().IsReg() && (t.Family == types.OidFamily || t.Family == types.IntFamily) {
		return castTo(regAsOID(arg), t) // 'users'::regclass::oid
	}
	if !t.IsReg() || (arg.Type().Family != types.OidFamily && arg.Type().Family != types.IntFamily) {
		return nil
	}
	return &Func{Name: t.Name(), Args: []Expr{castTo(arg, types.Int8)}, T: t, Strict: true, Fn: regName(t)}
}

// regAsOID turns a reg* value compared with an oid into that OID.
func regAsOID(e Expr) Expr {
	return &Func{Name: "oid", Args: []Expr{e}, T: types.Oid, Strict: true, Fn: regOID(e.Type())}
}
