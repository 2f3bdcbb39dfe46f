package sem

import (
	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/sqlerr"
)

// Row constructors, (a, b, ...), exist only in the places that take them
// apart: IS [NOT] NULL, comparisons between two rows, and (a, b) IN
// (SELECT x, y ...). They are rewritten into scalar expressions.

func (b *Builder) buildRowItems(r *pg.RowExpr) ([]Expr, error) {
	out := make([]Expr, len(r.Args))
	for i, n := range r.Args {
		e, err := b.Build(n)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// buildRowNullTest is row IS [NOT] NULL: true when every field is (is
// not) NULL.
func (b *Builder) buildRowNullTest(r *pg.RowExpr, not bool) (Expr, error) {
	items, err := b.buildRowItems(r)
	if err != nil {
		return nil, err
	}
	var out Expr
	for _, e := range items {
		var t Expr = &IsNull{Arg: e, Not: not}
		if out == nil {
			out = t
		} else {
			out = &And{L: out, R: t}
		}
	}
	return out, nil
}

// buildRowCompare is (a1, a2, ...) op (b1, b2, ...): = and <> pairwise,
// ordering comparisons lexicographically.
func (b *Builder) buildRowCompare(op string, l, r *pg.RowExpr, loc int32) (Expr, error) {
	ls, err := b.buildRowItems(l)
	if err != nil {
		return nil, err
	}
	rs, err := b.buildRowItems(r)
	if err != nil {
		return nil, err
	}
	if len(ls) != len(rs) {
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "unequal number of entries in row expressions"), loc)
	}
	if op == "!=" {
		op = "<>"
	}
	if _, ok := cmpNames[op]; !ok {
		return nil, posErr(sqlerr.Unsupported("operator %s on rows is not supported", op), loc)
	}
	cmp := func(o string, i int) (Expr, error) {
		e, err := b.Compare(o, ls[i], rs[i])
		return e, withPos(err, loc)
	}
	switch op {
	case "=", "<>":
		var out Expr
		for i := range ls {
			c, err := cmp(op, i)
			if err != nil {
				return nil, err
			}
			switch {
			case out == nil:
				out = c
			case op == "=":
				out = &And{L: out, R: c}
			default:
				out = &Or{L: out, R: c}
			}
		}
		return out, nil
	}
	// a < b: a1 < b1 OR (a1 = b1 AND (rest)); the last pair uses op itself.
	strict := op[:1]
	var out Expr
	for i := len(ls) - 1; i >= 0; i-- {
		o := strict
		if i == len(ls)-1 {
			o = op
		}
		c, err := cmp(o, i)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = c
			continue
		}
		eq, err := cmp("=", i)
		if err != nil {
			return nil, err
		}
		out = &Or{L: c, R: &And{L: eq, R: out}}
	}
	return out, nil
}
