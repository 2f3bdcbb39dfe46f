package sql

import (
	"fmt"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/prometheus/client_golang/prometheus"
)

// Statement types, the values of the type label of the statement metrics.
const (
	StmtSelect      = "select"
	StmtInsert      = "insert"
	StmtUpdate      = "update"
	StmtDelete      = "delete"
	StmtDDL         = "ddl"         // CREATE, ALTER, DROP, TRUNCATE, GRANT, COMMENT ...
	StmtTransaction = "transaction" // BEGIN, COMMIT, ROLLBACK, SAVEPOINT ...
	StmtCopy        = "copy"
	StmtOther       = "other" // SET, SHOW, EXPLAIN, VACUUM ...
)

// Metrics are an Executor's statement metrics, shared by its sessions.
type Metrics struct {
	// Statements counts statements run, by type (failed ones included).
	Statements *prometheus.CounterVec
	// Latency is how long statements ran, by type: parsing excluded,
	// planning, execution, retries and an autocommit included.
	Latency *prometheus.HistogramVec
	// Errors counts errors returned to clients, by SQLSTATE: one per
	// ErrorResponse the session causes (a syntax error included).
	Errors *prometheus.CounterVec
}

// NewMetrics returns an unregistered set of SQL metrics.
func NewMetrics() *Metrics {
	m := &Metrics{
		Statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordo_sql_statements_total",
			Help: "SQL statements run on this node, by type.",
		}, []string{"type"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ordo_sql_statement_duration_seconds",
			Help:    "Time to plan and run a SQL statement (with its retries), by type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"type"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordo_sql_errors_total",
			Help: "Errors sent to SQL clients, by SQLSTATE.",
		}, []string{"sqlstate"}),
	}
	for _, t := range []string{StmtSelect, StmtInsert, StmtUpdate, StmtDelete, StmtDDL, StmtTransaction, StmtCopy, StmtOther} {
		m.Statements.WithLabelValues(t)
	}
	return m
}

// Collectors returns the metrics, to register.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.Statements, m.Latency, m.Errors}
}

// statement records one statement of type typ that ran for d.
func (m *Metrics) statement(typ string, d time.Duration) {
	m.Statements.WithLabelValues(typ).Inc()
	m.Latency.WithLabelValues(typ).Observe(d.Seconds())
}

// failed counts err, if any, under its SQLSTATE.
func (m *Metrics) failed(err error) {
	if err != nil {
		m.Errors.WithLabelValues(string(pgcode.Of(err))).Inc()
	}
}

// StatementType classifies a parsed statement for the metrics.
func StatementType(n *pg.Node) string {
	switch n.GetNode().(type) {
	case *pg.Node_SelectStmt:
		return StmtSelect
	case *pg.Node_InsertStmt:
		return StmtInsert
	case *pg.Node_UpdateStmt:
		return StmtUpdate
	case *pg.Node_DeleteStmt:
		return StmtDelete
	case *pg.Node_TransactionStmt:
		return StmtTransaction
	case *pg.Node_CopyStmt:
		return StmtCopy
	case *pg.Node_TruncateStmt, *pg.Node_IndexStmt, *pg.Node_RenameStmt, *pg.Node_ViewStmt,
		*pg.Node_CommentStmt, *pg.Node_GrantStmt, *pg.Node_GrantRoleStmt, *pg.Node_DefineStmt,
		*pg.Node_CompositeTypeStmt, *pg.Node_ReindexStmt, *pg.Node_RuleStmt:
		return StmtDDL
	}
	name := strings.TrimPrefix(fmt.Sprintf("%T", n.GetNode()), "*pg_query.Node_")
	for _, p := range []string{"Create", "Alter", "Drop"} {
		if strings.HasPrefix(name, p) && strings.HasSuffix(name, "Stmt") {
			return StmtDDL
		}
	}
	return StmtOther
}

// timeStatement runs fn, one statement, and records it.
func (s *Session) timeStatement(n *pg.Node, fn func() error) error {
	start := s.exec.cfg.Now()
	err := fn()
	s.exec.cfg.Metrics.statement(StatementType(n), s.exec.cfg.Now().Sub(start))
	return err
}
