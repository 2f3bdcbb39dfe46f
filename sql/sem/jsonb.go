package sem

import (
	"fmt"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/types"
)

// JSONGet is jsonb -> key|index (jsonb) and ->> (text).
type JSONGet struct {
	L, R Expr
	Text bool
}

func (e *JSONGet) Type() types.T {
	if e.Text {
		return types.Text
	}
	return types.JSONB
}
func (e *JSONGet) String() string { return fmt.Sprintf("(%s ->%v %s)", e.L, e.Text, e.R) }

func (e *JSONGet) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == nil {
		return nil, err
	}
	k, err := e.R.Eval(c, r)
	if err != nil || k == nil {
		return nil, err
	}
	doc, err := types.DecodeJSON(l.(string))
	if err != nil {
		return nil, err
	}
	var v any
	var ok bool
	switch key := k.(type) {
	case string:
		m, isObj := doc.(map[string]any)
		if isObj {
			v, ok = m[key]
		}
	case int64:
		a, isArr := doc.([]any)
		if key < 0 {
			key += int64(len(a))
		}
		if isArr && key >= 0 && key < int64(len(a)) {
			v, ok = a[key], true
		}
	}
	if !ok {
		return nil, nil
	}
	if e.Text {
		switch x := v.(type) {
		case nil:
			return nil, nil
		case string:
			return x, nil
		}
	}
	return types.EncodeJSON(v), nil
}

// JSONContains is jsonb @> jsonb (and <@ with the operands swapped).
type JSONContains struct{ L, R Expr }

func (e *JSONContains) Type() types.T  { return types.Bool }
func (e *JSONContains) String() string { return fmt.Sprintf("(%s @> %s)", e.L, e.R) }
func (e *JSONContains) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == nil {
		return nil, err
	}
	rv, err := e.R.Eval(c, r)
	if err != nil || rv == nil {
		return nil, err
	}
	a, err := types.DecodeJSON(l.(string))
	if err != nil {
		return nil, err
	}
	b, err := types.DecodeJSON(rv.(string))
	if err != nil {
		return nil, err
	}
	return types.JSONContains(a, b), nil
}

// buildJSONOp builds -> ->> @> <@ when an operand is jsonb; ok is false
// otherwise.
func (b *Builder) buildJSONOp(op string, l, r Expr) (Expr, bool, error) {
	isJ := func(e Expr) bool { return e.Type().Family == types.JSONBFamily }
	switch op {
	case "->", "->>":
		if !isJ(l) {
			return nil, false, nil
		}
		var err error
		if r.Type().Family == types.UnknownFamily {
			r, err = b.Coerce(r, types.Text)
		} else if r.Type().Family == types.IntFamily {
			r, err = b.Coerce(r, types.Int8)
		} else if r.Type().Family != types.StringFamily {
			err = pgcode.New(pgcode.UndefinedFunction, "operator does not exist: jsonb %s %s", op, r.Type().Name())
		}
		return &JSONGet{L: l, R: r, Text: op == "->>"}, true, err
	case "@>", "<@":
		if !isJ(l) && !isJ(r) {
			return nil, false, nil
		}
		var err error
		if l, err = b.Coerce(l, types.JSONB); err == nil {
			r, err = b.Coerce(r, types.JSONB)
		}
		if op == "<@" {
			l, r = r, l
		}
		return &JSONContains{L: l, R: r}, true, err
	}
	return nil, false, nil
}
