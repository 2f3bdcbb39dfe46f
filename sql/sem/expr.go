package sem

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ordodb/ordo/sql/types"
)

// Row is one row of input values.
type Row = []types.Datum

// Env is what evaluation needs from the session.
type Env interface {
	Database() string
	User() string
	// Now is the transaction's start time.
	Now() time.Time
	Location() *time.Location
	NextVal(ctx context.Context, sequence string) (int64, error)
	// CurrVal and LastVal are the values nextval last returned in this
	// session (for the sequence; for any sequence).
	CurrVal(ctx context.Context, sequence string) (int64, error)
	LastVal() (int64, error)
	// SetVal sets the sequence's value; with called false the next
	// nextval returns v itself.
	SetVal(ctx context.Context, sequence string, v int64, called bool) error
	Setting(name string) (string, bool)
}

// Ctx is the evaluation context of one execution.
type Ctx struct {
	Context context.Context
	Params  []types.Datum
	Env     Env
	// Exec is the executor's context of this execution, for SubPlan.Run.
	Exec any
	// Outer holds the rows of the queries enclosing the subquery being
	// run, innermost last (see OuterRef).
	Outer    []Row
	subCache map[*Subquery][]Row
}

// Expr is a typed expression.
type Expr interface {
	Type() types.T
	Eval(c *Ctx, row Row) (types.Datum, error)
	// String is a canonical form: two expressions with the same String
	// compute the same value (used to match GROUP BY expressions).
	String() string
}

// Const is a constant.
type Const struct {
	T types.T
	V types.Datum
}

func (e *Const) Type() types.T                       { return e.T }
func (e *Const) Eval(*Ctx, Row) (types.Datum, error) { return e.V, nil }
func (e *Const) String() string {
	if e.V == nil {
		return "NULL"
	}
	return fmt.Sprintf("'%s'::%s", types.String(e.T, e.V), e.T.Name())
}

// ColRef reads a column of the input row.
type ColRef struct {
	Idx  int
	T    types.T
	Name string
}

func (e *ColRef) Type() types.T                           { return e.T }
func (e *ColRef) Eval(_ *Ctx, r Row) (types.Datum, error) { return r[e.Idx], nil }
func (e *ColRef) String() string                          { return fmt.Sprintf("@%d", e.Idx) }

// Param is a $n placeholder; its type is inferred while building.
type Param struct {
	Idx int // 0-based
	T   types.T
}

func (e *Param) Type() types.T { return e.T }
func (e *Param) Eval(c *Ctx, _ Row) (types.Datum, error) {
	if e.Idx >= len(c.Params) {
		return nil, fmt.Errorf("sem: no value for parameter $%d", e.Idx+1)
	}
	return c.Params[e.Idx], nil
}
func (e *Param) String() string { return fmt.Sprintf("$%d", e.Idx+1) }

// Cast converts its argument.
type Cast struct {
	Arg    Expr
	T      types.T
	Assign bool // assignment rules (length errors) rather than explicit
}

func (e *Cast) Type() types.T { return e.T }
func (e *Cast) Eval(c *Ctx, r Row) (types.Datum, error) {
	v, err := e.Arg.Eval(c, r)
	if err != nil || v == nil {
		return nil, err
	}
	if e.Assign {
		return types.AssignCast(v, e.Arg.Type(), e.T, c.Env.Location())
	}
	return types.Cast(v, e.Arg.Type(), e.T, c.Env.Location())
}
func (e *Cast) String() string { return fmt.Sprintf("(%s)::%s", e.Arg, e.T.SQLString()) }

// And, Or and Not implement three-valued logic.
type And struct{ L, R Expr }
type Or struct{ L, R Expr }
type Not struct{ Arg Expr }

func (e *And) Type() types.T { return types.Bool }
func (e *Or) Type() types.T  { return types.Bool }
func (e *Not) Type() types.T { return types.Bool }
func (e *And) String() string {
	return fmt.Sprintf("(%s AND %s)", e.L, e.R)
}
func (e *Or) String() string  { return fmt.Sprintf("(%s OR %s)", e.L, e.R) }
func (e *Not) String() string { return fmt.Sprintf("(NOT %s)", e.Arg) }

func (e *And) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == false {
		return l, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil || rv == false {
		return rv, err
	}
	if l == nil || rv == nil {
		return nil, nil
	}
	return true, nil
}

func (e *Or) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == true {
		return l, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil || rv == true {
		return rv, err
	}
	if l == nil || rv == nil {
		return nil, nil
	}
	return false, nil
}

func (e *Not) Eval(c *Ctx, r Row) (types.Datum, error) {
	v, err := e.Arg.Eval(c, r)
	if err != nil || v == nil {
		return nil, err
	}
	return !v.(bool), nil
}

// IsNull is IS [NOT] NULL.
type IsNull struct {
	Arg Expr
	Not bool
}

func (e *IsNull) Type() types.T { return types.Bool }
func (e *IsNull) Eval(c *Ctx, r Row) (types.Datum, error) {
	v, err := e.Arg.Eval(c, r)
	if err != nil {
		return nil, err
	}
	return (v == nil) != e.Not, nil
}
func (e *IsNull) String() string { return fmt.Sprintf("(%s IS NULL %v)", e.Arg, e.Not) }

// BoolTest is IS [NOT] TRUE/FALSE/UNKNOWN.
type BoolTest struct {
	Arg  Expr
	Want types.Datum // true, false or nil (UNKNOWN)
	Not  bool
}

func (e *BoolTest) Type() types.T { return types.Bool }
func (e *BoolTest) Eval(c *Ctx, r Row) (types.Datum, error) {
	v, err := e.Arg.Eval(c, r)
	if err != nil {
		return nil, err
	}
	return (v == e.Want) != e.Not, nil
}
func (e *BoolTest) String() string { return fmt.Sprintf("(%s IS %v %v)", e.Arg, e.Want, e.Not) }

// Case is CASE WHEN ... THEN ... ELSE ... END (a simple CASE is rewritten
// to comparisons by the builder).
type Case struct {
	Whens []Expr
	Thens []Expr
	Else  Expr // nil = NULL
	T     types.T
}

func (e *Case) Type() types.T { return e.T }
func (e *Case) Eval(c *Ctx, r Row) (types.Datum, error) {
	for i, w := range e.Whens {
		v, err := w.Eval(c, r)
		if err != nil {
			return nil, err
		}
		if v == true {
			return e.Thens[i].Eval(c, r)
		}
	}
	if e.Else == nil {
		return nil, nil
	}
	return e.Else.Eval(c, r)
}
func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := range e.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", e.Whens[i], e.Thens[i])
	}
	fmt.Fprintf(&b, " ELSE %v END", e.Else)
	return b.String()
}

// Coalesce returns its first non-NULL argument.
type Coalesce struct {
	Args []Expr
	T    types.T
}

func (e *Coalesce) Type() types.T { return e.T }
func (e *Coalesce) Eval(c *Ctx, r Row) (types.Datum, error) {
	for _, a := range e.Args {
		v, err := a.Eval(c, r)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, nil
}
func (e *Coalesce) String() string { return fmt.Sprintf("COALESCE%v", e.Args) }

// In is x [NOT] IN (list).
type In struct {
	Arg  Expr
	List []Expr
	Not  bool
}

func (e *In) Type() types.T { return types.Bool }
func (e *In) Eval(c *Ctx, r Row) (types.Datum, error) {
	v, err := e.Arg.Eval(c, r)
	if err != nil || v == nil {
		return nil, err
	}
	sawNull := false
	for _, it := range e.List {
		w, err := it.Eval(c, r)
		if err != nil {
			return nil, err
		}
		if w == nil {
			sawNull = true
			continue
		}
		if types.Compare(v, w) == 0 {
			return !e.Not, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return e.Not, nil
}
func (e *In) String() string { return fmt.Sprintf("(%s IN %v %v)", e.Arg, e.List, e.Not) }

// AggRef reads the result of aggregate Idx, or group key Idx, from the
// post-aggregation row.
type AggRef struct {
	Idx int
	T   types.T
}

func (e *AggRef) Type() types.T                           { return e.T }
func (e *AggRef) Eval(_ *Ctx, r Row) (types.Datum, error) { return r[e.Idx], nil }
func (e *AggRef) String() string                          { return fmt.Sprintf("agg%d", e.Idx) }

// IsTrue evaluates a predicate: only true passes.
func IsTrue(c *Ctx, e Expr, r Row) (bool, error) {
	v, err := e.Eval(c, r)
	return v == true, err
}
