package exec

import (
	"context"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/pgwire/pgwirebase"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// The statistics views pg_stat_activity and pg_locks show what the node's
// sessions do and what the cluster's lock table holds. Their source is a
// Monitor, which the session's Env implements (the sql package combines
// pgwire's session registry with the server's lock table); without one
// they are empty. pg_prepared_xacts is always empty: ordo has no PREPARE
// TRANSACTION. See docs/catalog.md, "Activity and locks".

// Monitor is the source of pg_stat_activity and pg_locks.
type Monitor interface {
	// Sessions lists the node's client sessions.
	Sessions() []SessionActivity
	// Locks reports the locks held and waited for at the leaseholders.
	Locks(ctx context.Context) (LockTable, error)
}

// SessionActivity is one client session: what pgwire knows of it, with
// its database and the id of its open KV transaction (0 if none).
type SessionActivity struct {
	pgwirebase.SessionStatus
	DatabaseID   uint64
	DatabaseName string
	TxnID        uint64
}

// LockTable is a snapshot of the lock tables of the cluster's
// leaseholders.
type LockTable struct {
	Held  []HeldLock
	Waits []LockWait
}

// HeldLock is a lock transaction TxnID holds on Key (or the span [Key,
// EndKey) when EndKey is set).
type HeldLock struct {
	TxnID       uint64
	Key, EndKey []byte
	Exclusive   bool
}

// LockWait is a request of TxnID waiting, since Start, for a lock on Key
// (or [Key, EndKey)) held by the transactions WaitingOn.
type LockWait struct {
	TxnID       uint64
	Key, EndKey []byte
	Exclusive   bool
	WaitingOn   []uint64
	Start       time.Time
}

func init() {
	txt, oid, b, i4, i2, nm, ts, xid := types.Text, types.Oid, types.Bool, types.Int4, types.Int2, types.Name, types.TimestampTZ, types.Xid
	vtables["pg_stat_activity"] = &vtable{cols: []vcol{{"datid", oid}, {"datname", nm}, {"pid", i4},
		{"leader_pid", i4}, {"usesysid", oid}, {"usename", nm}, {"application_name", txt},
		{"client_addr", types.Inet}, {"client_hostname", txt}, {"client_port", i4}, {"backend_start", ts},
		{"xact_start", ts}, {"query_start", ts}, {"state_change", ts}, {"wait_event_type", txt},
		{"wait_event", txt}, {"state", txt}, {"backend_xid", xid}, {"backend_xmin", xid},
		{"query_id", types.Int8}, {"query", txt}, {"backend_type", txt}}, rows: activityRows}
	vtables["pg_locks"] = &vtable{cols: []vcol{{"locktype", txt}, {"database", oid}, {"relation", oid},
		{"page", i4}, {"tuple", i2}, {"virtualxid", txt}, {"transactionid", xid}, {"classid", oid},
		{"objid", oid}, {"objsubid", i2}, {"virtualtransaction", txt}, {"pid", i4}, {"mode", txt},
		{"granted", b}, {"fastpath", b}, {"waitstart", ts}}, rows: lockRows}
	vtables["pg_prepared_xacts"] = &vtable{cols: []vcol{{"transaction", xid}, {"gid", txt},
		{"prepared", ts}, {"owner", nm}, {"database", nm}}, rows: func(*Ctx) ([]sem.Row, error) { return nil, nil }}
}

func monitorOf(c *Ctx) (Monitor, bool) {
	m, ok := c.Eval.Env.(Monitor)
	return m, ok
}

// activityRows lists the node's client sessions. A session whose
// transaction waits for a lock shows wait event Lock/transactionid, as a
// PostgreSQL backend waiting for a row lock does.
func activityRows(c *Ctx) ([]sem.Row, error) {
	m, ok := monitorOf(c)
	if !ok {
		return nil, nil
	}
	sessions := m.Sessions()
	waiting := waitingTxns(c, m, sessions)
	users := map[string]any{}
	out := make([]sem.Row, 0, len(sessions))
	for _, s := range sessions {
		out = append(out, activityRow(s, userOID(c, users, s.User), waiting[s.TxnID]))
	}
	return out, nil
}

func activityRow(s SessionActivity, usesysid any, waiting bool) sem.Row {
	addr, port := clientAddr(s.ClientAddr)
	var waitType, waitEvent any
	if waiting && s.State == "active" {
		waitType, waitEvent = "Lock", "transactionid"
	}
	return sem.Row{int64(s.DatabaseID), s.DatabaseName, int64(s.ProcessID), nil, usesysid, s.User,
		s.ApplicationName, addr, nil, port, tsOrNull(s.BackendStart), tsOrNull(s.XactStart),
		tsOrNull(s.QueryStart), tsOrNull(s.StateChange), waitType, waitEvent, s.State, nil, nil, nil,
		s.Query, "client backend"}
}

// waitingTxns returns the KV transactions of the sessions that wait for a
// lock. It asks for the lock table only when a session other than this
// one is running a statement in a transaction; a failure leaves the wait
// events empty (catalog rows carry no errors).
func waitingTxns(c *Ctx, m Monitor, sessions []SessionActivity) map[uint64]bool {
	self := selfTxnID(c)
	ask := false
	for _, s := range sessions {
		ask = ask || (s.State == "active" && s.TxnID != 0 && s.TxnID != self)
	}
	if !ask {
		return nil
	}
	lt, err := m.Locks(c.Context)
	if err != nil {
		return nil
	}
	out := map[uint64]bool{}
	for _, w := range lt.Waits {
		out[w.TxnID] = true
	}
	return out
}

// selfTxnID is the id of the statement's own KV transaction (0 if the
// KV layer does not say).
func selfTxnID(c *Ctx) uint64 {
	if c.Cat == nil {
		return 0
	}
	if id, ok := c.Cat.KV.(kvapi.Identifier); ok {
		return id.ID()
	}
	return 0
}

// userOID returns a role's OID (NULL if it cannot be read), memoized.
func userOID(c *Ctx, memo map[string]any, name string) any {
	if v, ok := memo[name]; ok {
		return v
	}
	var v any
	if u, err := c.Cat.GetUser(c.Context, name, kvapi.LockNone); err == nil && u != nil {
		v = int64(u.OID)
	}
	memo[name] = v
	return v
}

// clientAddr is client_addr and client_port: the peer's IP and port, or
// NULL and -1 for a connection that is not TCP (as PostgreSQL's Unix
// sockets).
func clientAddr(a interface{ String() string }) (any, any) {
	if a == nil {
		return nil, int64(-1)
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return nil, int64(-1)
	}
	return ap.Addr().Unmap().WithZone("").String(), int64(ap.Port())
}

func tsOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// lockRows lists the lock table as PostgreSQL's pg_locks would show it:
// each transaction in the table holds an ExclusiveLock on its own
// transactionid; each held key lock is a granted tuple (a key) or
// relation (a span) lock on its table, or an object lock on a non-table
// key; each wait is a not-granted ShareLock on the transactionid of a
// holder it waits for, which is how PostgreSQL shows a backend waiting
// for a row lock. So the PostgreSQL wiki's "who blocks whom" join works.
func lockRows(c *Ctx) ([]sem.Row, error) {
	m, ok := monitorOf(c)
	if !ok {
		return nil, nil
	}
	lt, err := m.Locks(c.Context)
	if err != nil {
		return nil, err
	}
	pids := map[uint64]int64{}
	for _, s := range m.Sessions() {
		if s.TxnID != 0 {
			pids[s.TxnID] = int64(s.ProcessID)
		}
	}
	r := lockRowBuilder{c: c, pids: pids, dbOf: map[uint64]any{}}
	return r.rows(lt), nil
}

type lockRowBuilder struct {
	c    *Ctx
	pids map[uint64]int64
	dbOf map[uint64]any // table ID -> database OID (NULL if unknown)
}

func (r *lockRowBuilder) rows(lt LockTable) []sem.Row {
	var out []sem.Row
	txns := map[uint64]bool{}
	for _, h := range lt.Held {
		txns[h.TxnID] = true
		out = append(out, r.keyRow(h.TxnID, h.Key, h.EndKey, h.Exclusive, true, nil))
	}
	for _, w := range lt.Waits {
		txns[w.TxnID] = true
		start := tsOrNull(w.Start)
		if len(w.WaitingOn) == 0 {
			out = append(out, r.keyRow(w.TxnID, w.Key, w.EndKey, w.Exclusive, false, start))
		}
		for _, h := range w.WaitingOn {
			out = append(out, r.xidRow(w.TxnID, h, "ShareLock", false, start))
		}
	}
	ids := make([]uint64, 0, len(txns))
	for id := range txns {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		out = append(out, r.xidRow(id, id, "ExclusiveLock", true, nil))
	}
	return out
}

// xidRow is a transactionid lock of txn on the transaction on.
func (r *lockRowBuilder) xidRow(txn, on uint64, mode string, granted bool, waitStart any) sem.Row {
	return sem.Row{"transactionid", nil, nil, nil, nil, nil, txnXID(on), nil, nil, nil,
		strconv.FormatUint(txn, 10), r.pid(txn), mode, granted, false, waitStart}
}

// keyRow is a lock on a key or span: tuple or relation on a table's data,
// object elsewhere (catalog and system keys).
func (r *lockRowBuilder) keyRow(txn uint64, key, end []byte, excl, granted bool, waitStart any) sem.Row {
	mode := "ShareLock"
	if excl {
		mode = "ExclusiveLock"
	}
	locktype, db, rel := "object", any(nil), any(nil)
	if id, ok := keys.TableOf(key); ok {
		locktype, db, rel = "tuple", r.database(id), int64(id)
		if len(end) > 0 {
			locktype = "relation"
		}
	}
	return sem.Row{locktype, db, rel, nil, nil, nil, nil, nil, nil, nil,
		strconv.FormatUint(txn, 10), r.pid(txn), mode, granted, false, waitStart}
}

func (r *lockRowBuilder) pid(txn uint64) any {
	if p, ok := r.pids[txn]; ok {
		return p
	}
	return nil
}

// database returns the OID of the database of table id, read without
// locks (a lock view must not wait for the DDL it may be showing).
func (r *lockRowBuilder) database(id uint64) any {
	if v, ok := r.dbOf[id]; ok {
		return v
	}
	var v any
	if d, err := r.c.Cat.Get(r.c.Context, id, kvapi.LockNone); err == nil && d != nil {
		if s, err := r.c.Cat.Get(r.c.Context, d.ParentID, kvapi.LockNone); err == nil && s != nil {
			v = int64(s.ParentID)
		}
	}
	r.dbOf[id] = v
	return v
}

// txnXID is the xid shown for a KV transaction: the low 32 bits of its
// 64-bit id (never 0: ids are odd). virtualtransaction has the whole id.
func txnXID(id uint64) int64 { return int64(uint32(id)) }
