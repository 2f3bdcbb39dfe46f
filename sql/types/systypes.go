package types

import "github.com/ordodb/ordo/pgwire/pgtype"

// xid and inet exist for the system views (pg_locks.transactionid,
// pg_stat_activity.client_addr, pg_prepared_xacts.transaction). An xid is
// an oid-like 32-bit integer (an int64 Datum); an inet is its text form, a
// string ("127.0.0.1", "10.1.2.3/8"), validated when parsed.
var (
	Xid  = T{Family: OidFamily, OID: pgtype.XIDOID}
	Inet = T{Family: StringFamily, OID: pgtype.InetOID}
)

func init() {
	for _, r := range []struct {
		t    T
		name string
	}{{Xid, "xid"}, {Inet, "inet"}} {
		byOID[r.t.OID] = r.t
		byName[r.name] = r.t
		names[r.t.OID] = r.name
		typnames[r.t.OID] = r.name
	}
}
