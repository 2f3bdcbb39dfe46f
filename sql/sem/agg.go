package sem

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// AggSpec is one aggregate call of a query.
type AggSpec struct {
	Name     string
	Arg      Expr // nil for count(*)
	Sep      Expr // string_agg's separator
	Filter   Expr // FILTER (WHERE ...): only rows where it is true count
	Distinct bool
	T        types.T
}

// String identifies the aggregate (equal calls share one result).
func (a *AggSpec) String() string {
	return fmt.Sprintf("%s(%v %v %v %v)", a.Name, a.Distinct, a.Arg, a.Sep, a.Filter)
}

var aggNames = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"bool_and": true, "bool_or": true, "every": true, "string_agg": true, "array_agg": true}

// IsAggregate reports whether name is an aggregate function.
func IsAggregate(name string) bool { return aggNames[name] }

func aggType(name string, arg Expr) types.T {
	switch name {
	case "count":
		return types.Int8
	case "bool_and", "bool_or", "every":
		return types.Bool
	case "string_agg":
		return types.Text
	case "array_agg":
		t, _ := types.ArrayOfMod(arg.Type())
		return t
	case "min", "max":
		return arg.Type()
	}
	t := arg.Type()
	switch {
	case t.Family == types.FloatFamily:
		return types.Float8
	case name == "sum" && t.Family == types.IntFamily && t.OID != types.Int8.OID:
		return types.Int8
	case t.Family == types.IntervalFamily:
		return types.Interval
	}
	return types.Numeric
}

// Acc accumulates one aggregate over one group.
type Acc struct {
	spec  *AggSpec
	n     int64
	sumI  int64
	sumF  float64
	sumD  *apd.Decimal
	sumIv pgtype.Interval
	best  types.Datum
	b     types.Datum
	parts []string
	elems []types.Datum // array_agg's
	seen  map[string]bool
}

// NewAcc starts an accumulator.
func (a *AggSpec) NewAcc() *Acc {
	acc := &Acc{spec: a}
	if a.Distinct {
		acc.seen = map[string]bool{}
	}
	return acc
}

// Add feeds one input row's argument value (v is ignored for count(*)).
func (acc *Acc) Add(v, sep types.Datum) error {
	s := acc.spec
	if s.Arg == nil {
		acc.n++
		return nil
	}
	if v == nil && s.Name != "array_agg" { // array_agg keeps NULLs
		return nil
	}
	if acc.seen != nil {
		k := string(appendKey(nil, v))
		if acc.seen[k] {
			return nil
		}
		acc.seen[k] = true
	}
	acc.n++
	return acc.add(v, sep)
}

func appendKey(b []byte, v types.Datum) []byte {
	switch x := v.(type) {
	case int64:
		return encoding.AppendInt(b, x, encoding.Ascending)
	case *apd.Decimal:
		return encoding.AppendDecimal(b, x, encoding.Ascending)
	case []types.Datum:
		b = append(b, "array:"...)
		for _, e := range x {
			k := appendKey(nil, e)
			b = append(encoding.EncodeUvarintAscending(b, uint64(len(k))), k...)
		}
		return b
	}
	return fmt.Appendf(b, "%T:%v", v, v)
}

func (acc *Acc) add(v, sep types.Datum) error {
	switch acc.spec.Name {
	case "count":
		return nil
	case "min", "max":
		if acc.best == nil || (types.Compare(v, acc.best) < 0) == (acc.spec.Name == "min") {
			acc.best = v
		}
	case "bool_and", "every":
		acc.b = acc.b != false && v.(bool)
	case "bool_or":
		acc.b = acc.b == true || v.(bool)
	case "string_agg":
		if len(acc.parts) > 0 && sep != nil {
			acc.parts = append(acc.parts, sep.(string))
		}
		acc.parts = append(acc.parts, v.(string))
	case "array_agg":
		acc.elems = append(acc.elems, v)
	default:
		return acc.addSum(v)
	}
	return nil
}

func (acc *Acc) addSum(v types.Datum) error {
	switch x := v.(type) {
	case float64:
		acc.sumF += x
		return nil
	case int64:
		if acc.spec.T.Family == types.IntFamily {
			r, err := intArith('+', acc.sumI, x, types.Int8)
			if err == nil {
				acc.sumI = r.(int64)
			}
			return err
		}
		return acc.addDec(apd.New(x, 0))
	case *apd.Decimal:
		return acc.addDec(x)
	case pgtype.Interval:
		acc.sumIv.Months += x.Months
		acc.sumIv.Days += x.Days
		acc.sumIv.Micros += x.Micros
		return nil
	}
	return fmt.Errorf("sem: cannot sum %T", v)
}

func (acc *Acc) addDec(x *apd.Decimal) error {
	if acc.sumD == nil {
		acc.sumD = new(apd.Decimal)
	}
	_, err := types.DecimalCtx.Add(acc.sumD, acc.sumD, x)
	return err
}

// Result returns the aggregate's value.
func (acc *Acc) Result() (types.Datum, error) {
	s := acc.spec
	if s.Name == "count" {
		return acc.n, nil
	}
	if acc.n == 0 {
		return nil, nil
	}
	switch s.Name {
	case "min", "max":
		return acc.best, nil
	case "bool_and", "bool_or", "every":
		return acc.b, nil
	case "string_agg":
		return strings.Join(acc.parts, ""), nil
	case "array_agg":
		return acc.elems, nil
	case "avg":
		return acc.avg()
	}
	switch s.T.Family {
	case types.IntervalFamily:
		return acc.sumIv, nil
	case types.FloatFamily:
		return acc.sumF, nil
	case types.IntFamily:
		return acc.sumI, nil
	}
	return acc.sumD, nil
}

func (acc *Acc) avg() (types.Datum, error) {
	if acc.spec.T.Family == types.IntervalFamily {
		return nil, sqlerr.Unsupported("avg(interval) is not supported yet")
	}
	if acc.spec.T.Family == types.FloatFamily {
		return acc.sumF / float64(acc.n), nil
	}
	return DecimalDiv(acc.sumD, apd.New(acc.n, 0))
}
