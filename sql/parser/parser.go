package parser

import (
	"errors"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/ordodb/ordo/pgwire/pgcode"
)

// Stmt is one parsed statement and its text.
type Stmt struct {
	AST *pg_query.Node
	SQL string // the statement's own text, without the trailing ';'
}

// Parse splits and parses a query string. An empty string (or one holding
// only comments and semicolons) gives no statements.
func Parse(sql string) ([]Stmt, error) {
	if rewritten, ok := rewriteClusterSetting(sql); ok {
		res, err := pg_query.Parse(rewritten)
		if err != nil {
			return nil, syntaxError(err)
		}
		if len(res.Stmts) != 1 {
			return nil, pgcode.New(pgcode.SyntaxError, "syntax error in a cluster setting statement")
		}
		return []Stmt{{AST: res.Stmts[0].Stmt, SQL: strings.TrimSpace(strings.TrimRight(strings.TrimSpace(sql), ";"))}}, nil
	}
	res, err := pg_query.Parse(sql)
	if err != nil {
		return nil, syntaxError(err)
	}
	out := make([]Stmt, 0, len(res.Stmts))
	for _, rs := range res.Stmts {
		out = append(out, Stmt{AST: rs.Stmt, SQL: stmtText(sql, rs)})
	}
	return out, nil
}

func stmtText(sql string, rs *pg_query.RawStmt) string {
	start := int(rs.StmtLocation)
	end := len(sql)
	if rs.StmtLen > 0 {
		end = start + int(rs.StmtLen)
	}
	if start > len(sql) || end > len(sql) || start > end {
		return sql
	}
	return strings.TrimSpace(sql[start:end])
}

// syntaxError maps the parser's error to 42601 with PostgreSQL's message and
// a 1-based character position.
func syntaxError(err error) error {
	var pe *pgparser.Error
	if !errors.As(err, &pe) {
		return pgcode.Wrap(err, pgcode.SyntaxError, "%s", err.Error())
	}
	e := pgcode.Wrap(err, pgcode.SyntaxError, "%s", pe.Message)
	e.Position = int32(pe.Cursorpos)
	return e
}
