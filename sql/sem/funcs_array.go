package sem

import (
	"fmt"
	"strings"

	"github.com/ordodb/ordo/sql/types"
)

// The array functions (see array.go), registered after funcs.go's init.
func init() {
	for name, d := range map[string]funcDef{
		"array_to_string": {args: []types.T{anyArray, types.Text, types.Text}, minArg: 2, ret: retT(types.Text), fn: arrayToString},
		"array_upper":     {args: []types.T{anyArray, types.Int4}, strict: true, ret: retT(types.Int4), fn: arrayUpper},
		"array_lower":     {args: []types.T{anyArray, types.Int4}, strict: true, ret: retT(types.Int4), fn: arrayLower},
		"array_length":    {args: []types.T{anyArray, types.Int4}, strict: true, ret: retT(types.Int4), fn: arrayUpper},
		"cardinality":     {args: []types.T{anyArray}, strict: true, ret: retT(types.Int4), fn: cardinality},
	} {
		funcs[name] = d
	}
}

// arrayToString is array_to_string(array, delimiter [, null_string]).
func arrayToString(c *Ctx, a []types.Datum) (types.Datum, error) {
	if a[0] == nil || a[1] == nil {
		return nil, nil
	}
	var parts []string
	for _, e := range a[0].([]types.Datum) {
		switch {
		case e != nil:
			parts = append(parts, datumText(e))
		case len(a) > 2 && a[2] != nil:
			parts = append(parts, a[2].(string))
		}
	}
	return strings.Join(parts, a[1].(string)), nil
}

// datumText is the text form of an array element of the types the
// catalog's arrays hold.
func datumText(d types.Datum) string {
	if s, ok := d.(string); ok {
		return s
	}
	return fmt.Sprint(d)
}

func arrayUpper(_ *Ctx, a []types.Datum) (types.Datum, error) {
	n := len(a[0].([]types.Datum))
	if a[1].(int64) != 1 || n == 0 {
		return nil, nil
	}
	return int64(n), nil
}

func arrayLower(_ *Ctx, a []types.Datum) (types.Datum, error) {
	if a[1].(int64) != 1 || len(a[0].([]types.Datum)) == 0 {
		return nil, nil
	}
	return int64(1), nil
}

func cardinality(_ *Ctx, a []types.Datum) (types.Datum, error) {
	return int64(len(a[0].([]types.Datum))), nil
}
