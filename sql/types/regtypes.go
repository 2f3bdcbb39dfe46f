package types

// The object identifier types regclass, regtype, regnamespace and regrole
// are names: their values are the object's name (what PostgreSQL prints
// for them), so text functions take them as they are (nextval('s'::regclass)).
// The SQL layer converts them to and from OIDs where they meet an oid
// (c.oid::regclass, attrelid = 'users'::regclass), since only it can
// resolve names.
var (
	RegClass     = T{Family: StringFamily, OID: 2205}
	RegType      = T{Family: StringFamily, OID: 2206}
	RegNamespace = T{Family: StringFamily, OID: 4089}
	RegRole      = T{Family: StringFamily, OID: 4096}
)

func init() {
	for _, r := range []struct {
		t    T
		name string
	}{{RegClass, "regclass"}, {RegType, "regtype"}, {RegNamespace, "regnamespace"}, {RegRole, "regrole"}} {
		byOID[r.t.OID] = r.t
		names[r.t.OID] = r.name
		typnames[r.t.OID] = r.name
	}
}

// IsReg reports whether t is one of the reg* types.
func (t T) IsReg() bool {
	switch t.OID {
	case RegClass.OID, RegType.OID, RegNamespace.OID, RegRole.OID:
		return true
	}
	return false
}
