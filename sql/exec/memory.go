package exec

import (
	"fmt"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// Memory accounting. The executor materialises: each operator returns all
// its rows, and they live until the statement ends. So that a statement
// cannot take the node's memory, the operators that hold rows or hash
// tables (a scan's rows, generate_series, a join's hash table and output,
// grouping and its growing aggregates, DISTINCT, set operations, a
// recursive CTE, the sorted or projected result) grow the statement's
// account, and past Ctx.MemBudget the statement fails with 53200. The
// account only grows, as the rows it counts are held to the end, except
// that a subquery's rows are released when the expression evaluating it
// has them (a correlated subquery is run again for each outer row).
// Sizes are estimates of the Go heap a row takes.

// grow adds n bytes held by operator op to the statement's account.
func (c *Ctx) grow(op string, n int64) error {
	c.memUsed += n
	if c.MemBudget > 0 && c.memUsed > c.MemBudget {
		return errOutOfMemory(op, c.MemBudget)
	}
	return nil
}

// growRows is grow by the size of rows.
func (c *Ctx) growRows(op string, rows ...sem.Row) error {
	var n int64
	for _, r := range rows {
		n += rowBytes(r)
	}
	return c.grow(op, n)
}

// errOutOfMemory is PostgreSQL's 53200, with a DETAIL naming the operator
// and the budget.
func errOutOfMemory(op string, budget int64) error {
	e := pgcode.New(pgcode.OutOfMemory, "out of memory")
	e.Detail = fmt.Sprintf("%s needs more memory than the statement's budget of %s (sql.query.memory_budget).",
		op, formatBytes(budget))
	return e
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// rowBytes estimates the heap a row takes: its slice, one interface per
// value and what the values point to.
func rowBytes(r sem.Row) int64 {
	n := int64(24 + 16*len(r))
	for _, d := range r {
		n += datumBytes(d)
	}
	return n
}

func datumBytes(d types.Datum) int64 {
	switch x := d.(type) {
	case nil:
		return 0
	case string:
		return 16 + int64(len(x))
	case []byte:
		return 24 + int64(len(x))
	case *apd.Decimal:
		return 64 + int64(len(x.Coeff.Bits()))*8
	case time.Time:
		return 24
	case []types.Datum:
		return rowBytes(x)
	}
	return 16
}

// release returns the account to used bytes: what was held since is gone.
func (c *Ctx) release(used int64) { c.memUsed = used }

// RowBytes estimates the memory a row takes (as the budget counts it).
func RowBytes(r sem.Row) int64 { return rowBytes(r) }
