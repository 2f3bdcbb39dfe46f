package pgwire

import (
	"sort"
	"time"

	"github.com/ordodb/ordo/pgwire/pgwirebase"
)

// activity is what pg_stat_activity shows of a connection. The
// connection's goroutine writes it and Server.Sessions reads it, both
// under conn.mu.
type activity struct {
	appName      string
	backendStart time.Time
	xactStart    time.Time
	queryStart   time.Time
	stateChange  time.Time
	state        string
	query        string
}

// PostgreSQL's pg_stat_activity.state values.
const (
	stateActive      = "active"
	stateIdle        = "idle"
	stateIdleInTxn   = "idle in transaction"
	stateIdleAborted = "idle in transaction (aborted)"
)

func idleState(s pgwirebase.TxnStatus) string {
	switch s {
	case pgwirebase.TxnInBlock:
		return stateIdleInTxn
	case pgwirebase.TxnFailed:
		return stateIdleAborted
	}
	return stateIdle
}

// markActive records that the statement text sql starts running. A
// statement starting outside a transaction starts one (xact_start), as in
// PostgreSQL.
func (c *conn) markActive(sql string) {
	now := c.srv.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &c.mu.act
	if a.xactStart.IsZero() {
		a.xactStart = now
	}
	a.queryStart, a.stateChange, a.state, a.query = now, now, stateActive, sql
}

// markReady records the state reported by a ReadyForQuery.
func (c *conn) markReady(s pgwirebase.TxnStatus) {
	now := c.srv.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &c.mu.act
	if st := idleState(s); st != a.state {
		a.state, a.stateChange = st, now
	}
	if s == pgwirebase.TxnIdle {
		a.xactStart = time.Time{}
	}
}

// setAppName records a new application_name.
func (c *conn) setAppName(v string) {
	c.mu.Lock()
	c.mu.act.appName = v
	c.mu.Unlock()
}

func (c *conn) status() pgwirebase.SessionStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.mu.act
	return pgwirebase.SessionStatus{
		ProcessID: c.pid, User: c.user, Database: c.database, ApplicationName: a.appName,
		ClientAddr: c.raw.RemoteAddr(), BackendStart: a.backendStart, XactStart: a.xactStart,
		QueryStart: a.queryStart, StateChange: a.stateChange, State: a.state, Query: a.query,
		Session: c.mu.sess,
	}
}

// Sessions lists the server's client sessions (the connections that
// finished startup), by process ID: pg_stat_activity's rows.
func (s *Server) Sessions() []pgwirebase.SessionStatus {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.mu.byPID))
	for _, c := range s.mu.byPID {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	out := make([]pgwirebase.SessionStatus, 0, len(conns))
	for _, c := range conns {
		if st := c.status(); st.Session != nil {
			out = append(out, st)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProcessID < out[j].ProcessID })
	return out
}

// startActivity records a new session: idle, with the application_name
// it reports.
func (c *conn) startActivity(sess Session) {
	now := c.srv.cfg.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.sess = sess
	c.mu.act.state, c.mu.act.stateChange = stateIdle, now
	for _, p := range sess.Params() {
		if p.Name == "application_name" {
			c.mu.act.appName = p.Value
		}
	}
}
