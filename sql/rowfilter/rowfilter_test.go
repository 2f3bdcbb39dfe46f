package rowfilter

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/rowenc"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

const tableID = 52

// testTable has a column of every pushable kind, an unpushable one (jsonb)
// and a two-column primary key.
func testTable() *catalog.Table {
	cols := []types.T{types.Int8, types.Text, types.Int4, types.Float8, types.Numeric, types.Text,
		types.Bool, types.TimestampTZ, types.UUID, types.Bytea, types.Interval, types.Date, types.Int2, types.JSONB}
	t := &catalog.Table{Primary: catalog.Index{ID: catalog.PrimaryIndexID, Columns: []uint32{1, 2}}}
	for i, typ := range cols {
		t.Columns = append(t.Columns, catalog.Column{ID: uint32(i + 1), Name: fmt.Sprintf("c%d", i), Type: typ})
	}
	return t
}

type testEnv struct{ sem.Env }

func (testEnv) Location() *time.Location { return time.UTC }

var gatewayCtx = &sem.Ctx{Context: context.Background(), Env: testEnv{}}

func col(t *catalog.Table, i int) *sem.ColRef {
	return &sem.ColRef{Idx: i, T: t.Columns[i].Type, Name: t.Columns[i].Name}
}

func cnst(t types.T, v types.Datum) *sem.Const { return &sem.Const{T: t, V: v} }

func dec(s string) *apd.Decimal {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		panic(err)
	}
	return d
}

// check encodes e, compiles it and compares Match with sem's evaluation of
// e on the decoded row, for each row.
func check(t *testing.T, tbl *catalog.Table, e sem.Expr, rows []sem.Row) {
	t.Helper()
	spec, pushed, err := Encode(gatewayCtx, tableID, tbl, []sem.Expr{e})
	if err != nil || len(pushed) != 1 {
		t.Fatalf("%s: not encoded (%v)", e, err)
	}
	f, err := Compile(spec)
	if err != nil {
		t.Fatalf("%s: compile: %v", e, err)
	}
	codec := rowenc.NewCodec(tableID, tbl)
	for _, row := range rows {
		key, val := codec.PrimaryKey(row), codec.Value(row)
		decoded, err := codec.DecodeRow(key, val)
		if err != nil {
			t.Fatal(err)
		}
		want, werr := sem.IsTrue(gatewayCtx, e, decoded)
		got, gerr := f.Match(key, val)
		if want != got || (werr == nil) != (gerr == nil) {
			t.Fatalf("%s on %v: pushed %v (%v), sem %v (%v)", e, row, got, gerr, want, werr)
		}
	}
}

var cmpOps = []sem.CmpOp{sem.EQ, sem.NE, sem.LT, sem.LE, sem.GT, sem.GE, sem.Distinct, sem.NotDistinct}

// TestEveryOperatorAndType compares every comparison operator on every
// pushable type, with NULLs, against sem.
func TestEveryOperatorAndType(t *testing.T) {
	tbl := testTable()
	ts := time.Date(2024, 2, 29, 12, 0, 0, 123456000, time.UTC)
	u1, u2 := pgtype.UUID{1}, pgtype.UUID{2}
	values := map[int][]types.Datum{
		2:  {nil, int64(-5), int64(0), int64(7)},
		3:  {nil, -math.MaxFloat64, math.Copysign(0, -1), 0.0, 1.5, math.Inf(1), math.Inf(-1), math.NaN()},
		4:  {nil, dec("-1.50"), dec("1.5"), dec("1.500"), dec("1e20"), dec("NaN")},
		5:  {nil, "", "a", "B", "ab", "é", "a\x00"},
		6:  {nil, true, false},
		7:  {nil, ts, ts.Add(time.Microsecond), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
		8:  {nil, u1, u2},
		9:  {nil, []byte{}, []byte{0}, []byte{1, 2}},
		10: {nil, pgtype.Interval{Days: 1}, pgtype.Interval{Micros: 86_400_000_000}, pgtype.Interval{Months: -1}},
		11: {nil, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
		12: {nil, int64(-32768), int64(3)},
	}
	for pos, vals := range values {
		var rows []sem.Row
		for i, v := range vals {
			row := make(sem.Row, len(tbl.Columns))
			row[0], row[1], row[pos] = int64(i), "k", v
			rows = append(rows, row)
		}
		typ := tbl.Columns[pos].Type
		for _, op := range cmpOps {
			for _, v := range vals {
				check(t, tbl, &sem.Cmp{Op: op, L: col(tbl, pos), R: cnst(typ, v)}, rows)
				check(t, tbl, &sem.Cmp{Op: op, L: cnst(typ, v), R: col(tbl, pos)}, rows)
			}
		}
		check(t, tbl, &sem.IsNull{Arg: col(tbl, pos)}, rows)
		check(t, tbl, &sem.IsNull{Arg: col(tbl, pos), Not: true}, rows)
		list := []sem.Expr{cnst(typ, vals[1]), cnst(typ, nil)}
		check(t, tbl, &sem.In{Arg: col(tbl, pos), List: list}, rows)
		check(t, tbl, &sem.In{Arg: col(tbl, pos), List: list[:1], Not: true}, rows)
	}
}

// TestLogicWithNulls checks AND, OR, NOT and IS [NOT] TRUE/FALSE/UNKNOWN
// over the three truth values.
func TestLogicWithNulls(t *testing.T) {
	tbl := testTable()
	var rows []sem.Row
	for i, v := range []types.Datum{nil, true, false} {
		for j, w := range []types.Datum{nil, int64(1), int64(2)} {
			row := make(sem.Row, len(tbl.Columns))
			row[0], row[1], row[6], row[2] = int64(i*3+j), "k", v, w
			rows = append(rows, row)
		}
	}
	b, eq := col(tbl, 6), &sem.Cmp{Op: sem.EQ, L: col(tbl, 2), R: cnst(types.Int4, int64(1))}
	for _, e := range []sem.Expr{
		b, &sem.Not{Arg: b}, &sem.And{L: b, R: eq}, &sem.Or{L: b, R: eq}, &sem.Not{Arg: &sem.Or{L: eq, R: b}},
		&sem.And{L: &sem.Not{Arg: eq}, R: &sem.Not{Arg: b}}, cnst(types.Bool, true), cnst(types.Bool, nil),
		&sem.BoolTest{Arg: b, Want: true}, &sem.BoolTest{Arg: eq, Want: false, Not: true}, &sem.BoolTest{Arg: b},
	} {
		check(t, tbl, e, rows)
	}
}

// TestPushable says what is sent and what stays on the gateway.
func TestPushable(t *testing.T) {
	tbl := testTable()
	n := len(tbl.Columns)
	i4 := col(tbl, 2)
	for _, tc := range []struct {
		e    sem.Expr
		want bool
	}{
		{&sem.Cmp{Op: sem.EQ, L: i4, R: cnst(types.Int4, int64(1))}, true},
		{&sem.Cmp{Op: sem.EQ, L: i4, R: &sem.Param{Idx: 0, T: types.Int4}}, true},
		{&sem.Cmp{Op: sem.EQ, L: &sem.Cast{Arg: i4, T: types.Numeric}, R: cnst(types.Numeric, dec("1.5"))}, true},
		{&sem.Cmp{Op: sem.EQ, L: &sem.Cast{Arg: col(tbl, 3), T: types.Int8}, R: cnst(types.Int8, int64(1))}, false},
		{&sem.Cmp{Op: sem.EQ, L: i4, R: col(tbl, 12)}, true},
		{&sem.Cmp{Op: sem.EQ, L: i4, R: cnst(types.Float8, 1.0)}, false},
		{&sem.Cmp{Op: sem.EQ, L: col(tbl, 13), R: cnst(types.JSONB, "{}")}, false},
		{&sem.Cmp{Op: sem.EQ, L: i4, R: &sem.Arith{Op: '+', L: i4, R: cnst(types.Int4, int64(1))}}, false},
		{&sem.IsNull{Arg: col(tbl, 13)}, false},
		{&sem.Or{L: col(tbl, 6), R: &sem.Cmp{Op: sem.LT, L: i4, R: cnst(types.Int4, int64(1))}}, true},
		{col(tbl, 2), false},
	} {
		if got := Pushable(tc.e, n); got != tc.want {
			t.Errorf("Pushable(%s) = %v, want %v", tc.e, got, tc.want)
		}
	}
}

// TestEncodeSplitsConjuncts: unpushable conjuncts and those whose value
// fails to evaluate stay out of the spec.
func TestEncodeSplitsConjuncts(t *testing.T) {
	tbl := testTable()
	ok := &sem.Cmp{Op: sem.EQ, L: col(tbl, 2), R: cnst(types.Int4, int64(1))}
	noParam := &sem.Cmp{Op: sem.EQ, L: col(tbl, 2), R: &sem.Param{Idx: 3, T: types.Int4}}
	arith := &sem.Cmp{Op: sem.EQ, L: col(tbl, 2), R: &sem.Arith{Op: '+', L: col(tbl, 2), R: cnst(types.Int4, int64(1))}}
	spec, pushed, err := Encode(gatewayCtx, tableID, tbl, []sem.Expr{ok, noParam, arith, ok})
	if err != nil || len(pushed) != 2 || pushed[0] != ok || pushed[1] != ok {
		t.Fatalf("pushed %v, %v", pushed, err)
	}
	f, err := Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "((@2 0 '1'::integer) AND (@2 0 '1'::integer))" {
		t.Fatalf("compiled %s", got)
	}
	if spec, _, _ := Encode(gatewayCtx, tableID, tbl, []sem.Expr{arith}); spec != nil {
		t.Fatal("a spec without a pushed conjunct")
	}
}

// TestPushedMatchesSem is the property test: random predicates over random
// rows evaluate alike pushed and in sem.
func TestPushedMatchesSem(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	tbl := testTable()
	g := &gen{rng: rng, tbl: tbl}
	rows := make([]sem.Row, 200)
	for i := range rows {
		rows[i] = g.row(i)
	}
	for range 500 {
		check(t, tbl, g.pred(3), rows)
	}
}

type gen struct {
	rng *rand.Rand
	tbl *catalog.Table
}

// pushCols are the positions of the pushable columns of testTable.
var pushCols = []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}

func (g *gen) row(i int) sem.Row {
	row := make(sem.Row, len(g.tbl.Columns))
	row[0], row[1] = int64(i), "k"
	for _, p := range pushCols {
		row[p] = g.value(g.tbl.Columns[p].Type, true)
	}
	return row
}

func (g *gen) value(t types.T, stored bool) types.Datum {
	if g.rng.Intn(6) == 0 {
		return nil
	}
	r := g.rng
	switch kindOf(t) {
	case kindBool:
		return r.Intn(2) == 0
	case kindInt:
		return int64(r.Intn(7) - 3)
	case kindFloat:
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 0.5, -2, 3}[r.Intn(8)]
	case kindDecimal:
		return dec([]string{"0", "-0.00", "1.5", "1.50", "-3", "NaN", "1e-5"}[r.Intn(7)])
	case kindString:
		return []string{"", "a", "A", "ab", "b", "ä"}[r.Intn(6)]
	case kindBytes:
		return []byte{byte(r.Intn(3))}[:r.Intn(2)]
	case kindInterval:
		return pgtype.Interval{Months: int32(r.Intn(3) - 1), Days: int32(r.Intn(31)), Micros: int64(r.Intn(3))}
	case kindUUID:
		return pgtype.UUID{byte(r.Intn(3))}
	}
	return g.time(t, stored)
}

func (g *gen) time(t types.T, stored bool) types.Datum {
	d := time.Date(2000, 1, 1+g.rng.Intn(3), 0, 0, 0, 0, time.UTC)
	if t.Family == types.DateFamily {
		return d
	}
	d = d.Add(time.Duration(g.rng.Intn(3)) * time.Microsecond)
	if !stored {
		d = d.Add(time.Duration(g.rng.Intn(2)) * time.Nanosecond) // constants keep their nanoseconds
	}
	return d
}

func (g *gen) pred(depth int) sem.Expr {
	r := g.rng
	if depth > 0 {
		switch r.Intn(6) {
		case 0:
			return &sem.And{L: g.pred(depth - 1), R: g.pred(depth - 1)}
		case 1:
			return &sem.Or{L: g.pred(depth - 1), R: g.pred(depth - 1)}
		case 2:
			return &sem.Not{Arg: g.pred(depth - 1)}
		case 3:
			return &sem.BoolTest{Arg: g.pred(depth - 1), Want: []types.Datum{true, false, nil}[r.Intn(3)], Not: r.Intn(2) == 0}
		}
	}
	return g.leaf()
}

func (g *gen) leaf() sem.Expr {
	r := g.rng
	p := pushCols[r.Intn(len(pushCols))]
	var c sem.Expr = col(g.tbl, p)
	typ := g.tbl.Columns[p].Type
	if kindOf(typ) == kindInt && r.Intn(3) == 0 {
		typ = []types.T{types.Int8, types.Float8, types.Numeric}[r.Intn(3)]
		c = &sem.Cast{Arg: c, T: typ}
	}
	switch r.Intn(4) {
	case 0:
		return &sem.IsNull{Arg: c, Not: r.Intn(2) == 0}
	case 1:
		in := &sem.In{Arg: c, Not: r.Intn(2) == 0}
		for range 1 + r.Intn(3) {
			in.List = append(in.List, cnst(typ, g.value(typ, false)))
		}
		return in
	}
	v := cnst(typ, g.value(typ, false))
	if r.Intn(2) == 0 {
		return &sem.Cmp{Op: cmpOps[r.Intn(len(cmpOps))], L: v, R: c}
	}
	return &sem.Cmp{Op: cmpOps[r.Intn(len(cmpOps))], L: c, R: v}
}

// TestCompileMalformed: no prefix or corruption of a valid spec panics
// Compile, or Match of what compiles.
func TestCompileMalformed(t *testing.T) {
	tbl := testTable()
	rng := rand.New(rand.NewSource(1))
	g := &gen{rng: rng, tbl: tbl}
	row := g.row(1)
	codec := rowenc.NewCodec(tableID, tbl)
	key, val := codec.PrimaryKey(row), codec.Value(row)
	for range 50 {
		spec, _, err := Encode(gatewayCtx, tableID, tbl, []sem.Expr{g.pred(3)})
		if err != nil {
			t.Fatal(err)
		}
		for n := range len(spec) {
			if _, err := Compile(spec[:n]); err == nil {
				t.Fatalf("prefix %d of %d compiled", n, len(spec))
			}
		}
		for range 100 {
			bad := append([]byte{}, spec...)
			bad[rng.Intn(len(bad))] ^= byte(1 + rng.Intn(255))
			if f, err := Compile(bad); err == nil {
				_, _ = f.Match(key, val)
			}
		}
	}
}
