package exec

import (
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// The role views of pg_catalog, computed from the catalog's users:
// pg_roles and pg_user (passwords shown as ********, as PostgreSQL does for
// everyone) and pg_auth_members (empty: ordo has no role membership).
// pg_authid, which holds the verifiers, is not served: ordo has no
// privilege check here to keep it to superusers. They are registered in
// vtables (built by pgcatalog.go's init, which runs first: files are
// initialised in name order).
func init() {
	txt, oid, b, i4, nm, tstz := types.Text, types.Oid, types.Bool, types.Int4, types.Name, types.TimestampTZ
	vtables["pg_roles"] = &vtable{cols: []vcol{{"rolname", nm}, {"rolsuper", b}, {"rolinherit", b},
		{"rolcreaterole", b}, {"rolcreatedb", b}, {"rolcanlogin", b}, {"rolreplication", b},
		{"rolconnlimit", i4}, {"rolpassword", txt}, {"rolvaliduntil", tstz}, {"rolbypassrls", b},
		{"rolconfig", textArray}, {"oid", oid}}, rows: roleRows}
	vtables["pg_user"] = &vtable{cols: []vcol{{"usename", nm}, {"usesysid", oid}, {"usecreatedb", b},
		{"usesuper", b}, {"userepl", b}, {"usebypassrls", b}, {"passwd", txt}, {"valuntil", tstz},
		{"useconfig", textArray}}, rows: userRows}
	vtables["pg_auth_members"] = &vtable{cols: []vcol{{"roleid", oid}, {"member", oid}, {"grantor", oid},
		{"admin_option", b}}, rows: func(*Ctx) ([]sem.Row, error) { return nil, nil }}
}

// maskedPassword is what pg_roles and pg_user show for a role with a
// password.
func maskedPassword(verifier string) any {
	if verifier == "" {
		return nil
	}
	return "********"
}

func roleRows(c *Ctx) ([]sem.Row, error) {
	users, err := c.Cat.ListUsers(c.Context, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	out := make([]sem.Row, 0, len(users))
	for _, u := range users {
		out = append(out, sem.Row{u.Name, u.Superuser, true, u.Superuser, u.Superuser, u.CanLogin, false,
			int64(-1), maskedPassword(u.Verifier), nil, false, nil, int64(u.OID)})
	}
	return out, nil
}

func userRows(c *Ctx) ([]sem.Row, error) {
	users, err := c.Cat.ListUsers(c.Context, kvapi.LockShared)
	if err != nil {
		return nil, err
	}
	var out []sem.Row
	for _, u := range users {
		if u.CanLogin {
			out = append(out, sem.Row{u.Name, int64(u.OID), u.Superuser, u.Superuser, false, false,
				maskedPassword(u.Verifier), nil, nil})
		}
	}
	return out, nil
}
