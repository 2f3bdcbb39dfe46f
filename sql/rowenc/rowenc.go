package rowenc

import (
	"fmt"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/pgwire/pgtype"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/types"
)

const asc = encoding.Ascending

// AppendDatum appends the key encoding of d (NULL included).
func AppendDatum(b []byte, t types.T, d types.Datum) []byte {
	if d == nil {
		return encoding.AppendNull(b, asc)
	}
	switch x := d.(type) {
	case int64:
		return encoding.AppendInt(b, x, asc)
	case float64:
		return encoding.AppendFloat(b, x, asc)
	case bool:
		return encoding.AppendBool(b, x, asc)
	case string:
		return encoding.AppendString(b, x, asc)
	case []byte:
		return encoding.AppendBytes(b, x, asc)
	case *apd.Decimal:
		return encoding.AppendDecimal(b, x, asc)
	case time.Time:
		if t.Family == types.DateFamily {
			return encoding.AppendInt(b, x.Unix()/86400, asc)
		}
		return encoding.AppendTime(b, x, asc)
	case pgtype.Interval:
		b = encoding.AppendInt(b, int64(x.Months), asc)
		b = encoding.AppendInt(b, int64(x.Days), asc)
		return encoding.AppendInt(b, x.Micros, asc)
	case pgtype.UUID:
		return encoding.AppendUUID(b, encoding.UUID(x), asc)
	case []types.Datum:
		return appendArray(b, t, x)
	}
	panic(fmt.Sprintf("rowenc: cannot encode %T", d)) // every Datum type is above
}

// appendArray encodes an array as the bytes of its elements' encodings
// (a NULL element sorts after every value, as in PostgreSQL): equal arrays
// encode equally, and arrays of one type sort element by element, a prefix
// first.
func appendArray(b []byte, t types.T, a []types.Datum) []byte {
	var elems []byte
	et := t.Elem()
	if t.Family != types.ArrayFamily {
		et = types.Unknown
	}
	for _, e := range a {
		if e == nil {
			elems = encoding.AppendNullHigh(elems, asc)
			continue
		}
		elems = AppendDatum(elems, et, e)
	}
	return encoding.AppendBytes(b, elems, asc)
}

func decodeArray(b []byte, t types.T) ([]byte, types.Datum, error) {
	rest, elems, err := encoding.DecodeBytes(b, asc)
	if err != nil {
		return nil, nil, err
	}
	out := []types.Datum{}
	for len(elems) > 0 {
		var d types.Datum
		if elems, d, err = DecodeDatum(elems, t.Elem()); err != nil {
			return nil, nil, err
		}
		out = append(out, d)
	}
	return rest, out, nil
}

// DecodeDatum reads one value of type t.
func DecodeDatum(b []byte, t types.T) ([]byte, types.Datum, error) {
	if rest, null := encoding.DecodeIfNull(b); null {
		return rest, nil, nil
	}
	switch t.Family {
	case types.IntFamily, types.OidFamily:
		return encoding.DecodeInt(b, asc)
	case types.FloatFamily:
		return encoding.DecodeFloat(b, asc)
	case types.BoolFamily:
		return encoding.DecodeBool(b, asc)
	case types.StringFamily, types.JSONBFamily, types.UnknownFamily:
		return encoding.DecodeString(b, asc)
	case types.BytesFamily:
		return encoding.DecodeBytes(b, asc)
	case types.DecimalFamily:
		rest, d, err := encoding.DecodeDecimal(b, asc)
		return rest, &d, err
	}
	return decodeMore(b, t)
}

func decodeMore(b []byte, t types.T) ([]byte, types.Datum, error) {
	switch t.Family {
	case types.DateFamily:
		rest, days, err := encoding.DecodeInt(b, asc)
		return rest, time.Unix(days*86400, 0).UTC(), err
	case types.TimestampFamily, types.TimestampTZFamily:
		rest, ts, err := encoding.DecodeTime(b, asc)
		return rest, ts.UTC(), err
	case types.IntervalFamily:
		return decodeInterval(b)
	case types.UUIDFamily:
		rest, u, err := encoding.DecodeUUID(b, asc)
		return rest, pgtype.UUID(u), err
	case types.ArrayFamily:
		return decodeArray(b, t)
	}
	return nil, nil, fmt.Errorf("rowenc: cannot decode %s", t)
}

func decodeInterval(b []byte) ([]byte, types.Datum, error) {
	var f [3]int64
	var err error
	for i := range f {
		if b, f[i], err = encoding.DecodeInt(b, asc); err != nil {
			return nil, nil, err
		}
	}
	return b, pgtype.Interval{Months: int32(f[0]), Days: int32(f[1]), Micros: f[2]}, nil
}

// Codec encodes and decodes the rows of one table. Rows are []Datum in the
// order of the table's columns.
type Codec struct {
	TableID uint64
	Table   *catalog.Table
	pkPos   []int // positions of the primary key columns
	isPK    []bool
}

// NewCodec returns a codec for the table.
func NewCodec(tableID uint64, t *catalog.Table) *Codec {
	c := &Codec{TableID: tableID, Table: t, isPK: make([]bool, len(t.Columns))}
	for _, id := range t.Primary.Columns {
		p := t.ColumnByID(id)
		c.pkPos = append(c.pkPos, p)
		c.isPK[p] = true
	}
	return c
}

// PKPositions returns the positions of the primary key columns.
func (c *Codec) PKPositions() []int { return c.pkPos }

// IndexPrefix is the key prefix of an index of the table.
func (c *Codec) IndexPrefix(indexID uint32) []byte {
	return keys.IndexPrefix(c.TableID, uint64(indexID))
}

// appendCols appends the key encodings of the columns at positions.
func (c *Codec) appendCols(b []byte, row []types.Datum, ids []uint32) []byte {
	for _, id := range ids {
		p := c.Table.ColumnByID(id)
		b = AppendDatum(b, c.Table.Columns[p].Type, row[p])
	}
	return b
}

// PrimaryKey returns the row's primary index key.
func (c *Codec) PrimaryKey(row []types.Datum) []byte {
	return c.appendCols(c.IndexPrefix(catalog.PrimaryIndexID), row, c.Table.Primary.Columns)
}

// PKSuffix returns the encoded primary key columns alone.
func (c *Codec) PKSuffix(row []types.Datum) []byte {
	return c.appendCols(nil, row, c.Table.Primary.Columns)
}

// Value returns the primary index value of the row.
func (c *Codec) Value(row []types.Datum) []byte {
	var b []byte
	for i, col := range c.Table.Columns {
		if c.isPK[i] || row[i] == nil {
			continue
		}
		b = encoding.EncodeUvarintAscending(b, uint64(col.ID))
		b = appendValueDatum(b, col.Type, row[i])
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

// DecodeRow decodes a primary index entry into a new row.
func (c *Codec) DecodeRow(key, value []byte) ([]types.Datum, error) {
	row := make([]types.Datum, len(c.Table.Columns))
	prefix := c.IndexPrefix(catalog.PrimaryIndexID)
	if len(key) < len(prefix) {
		return nil, fmt.Errorf("rowenc: key too short")
	}
	if err := c.decodeKeyCols(key[len(prefix):], row); err != nil {
		return nil, err
	}
	return row, c.decodeValue(value, row)
}

func (c *Codec) decodeKeyCols(b []byte, row []types.Datum) error {
	var err error
	for _, p := range c.pkPos {
		if b, row[p], err = DecodeDatum(b, c.Table.Columns[p].Type); err != nil {
			return fmt.Errorf("rowenc: key column %s: %w", c.Table.Columns[p].Name, err)
		}
	}
	return nil
}

func (c *Codec) decodeValue(b []byte, row []types.Datum) error {
	for len(b) > 0 {
		rest, id, err := encoding.DecodeUvarintAscending(b)
		if err != nil {
			return fmt.Errorf("rowenc: column id: %w", err)
		}
		p := c.Table.ColumnByID(uint32(id))
		if p < 0 {
			if rest, err = encoding.Skip(rest); err != nil {
				return err
			}
			b = rest
			continue
		}
		if b, row[p], err = decodeValueDatum(rest, c.Table.Columns[p].Type); err != nil {
			return fmt.Errorf("rowenc: column %s: %w", c.Table.Columns[p].Name, err)
		}
	}
	return nil
}

// IndexEntry returns the key and value of the row's entry in a secondary
// index, and whether it must be written with Insert (a unique index with
// no NULL indexed value).
func (c *Codec) IndexEntry(idx *catalog.Index, row []types.Datum) (key, value []byte, unique bool) {
	key = c.appendCols(c.IndexPrefix(idx.ID), row, idx.Columns)
	pk := c.PKSuffix(row)
	unique = idx.Unique && !c.anyNull(idx, row)
	if !unique {
		key = append(key, pk...)
	}
	return key, pk, unique
}

func (c *Codec) anyNull(idx *catalog.Index, row []types.Datum) bool {
	for _, id := range idx.Columns {
		if row[c.Table.ColumnByID(id)] == nil {
			return true
		}
	}
	return false
}

// PrimaryKeyFromSuffix rebuilds a primary key from an index entry's value.
func (c *Codec) PrimaryKeyFromSuffix(pk []byte) []byte {
	return append(c.IndexPrefix(catalog.PrimaryIndexID), pk...)
}

// appendValueDatum is AppendDatum except that a decimal is stored as its
// text, since the key encoding drops the scale (1.50 would read as 1.5).
func appendValueDatum(b []byte, t types.T, d types.Datum) []byte {
	switch x := d.(type) {
	case *apd.Decimal:
		return encoding.AppendString(b, types.DecimalText(x), asc)
	case []types.Datum:
		return appendValueArray(b, t, x)
	}
	return AppendDatum(b, t, d)
}

// appendValueArray is an array column's value: its elements' value
// encodings (a numeric element keeps its scale, which the key encoding
// drops), NULL elements as NULLs.
func appendValueArray(b []byte, t types.T, a []types.Datum) []byte {
	var elems []byte
	for _, e := range a {
		if e == nil {
			elems = encoding.AppendNull(elems, asc)
			continue
		}
		elems = appendValueDatum(elems, t.Elem(), e)
	}
	return encoding.AppendBytes(b, elems, asc)
}

func decodeValueArray(b []byte, t types.T) ([]byte, types.Datum, error) {
	rest, elems, err := encoding.DecodeBytes(b, asc)
	if err != nil {
		return nil, nil, err
	}
	out := []types.Datum{}
	for len(elems) > 0 {
		var d types.Datum
		if r, null := encoding.DecodeIfNull(elems); null {
			elems = r
		} else if elems, d, err = decodeValueDatum(elems, t.Elem()); err != nil {
			return nil, nil, err
		}
		out = append(out, d)
	}
	return rest, out, nil
}

func decodeValueDatum(b []byte, t types.T) ([]byte, types.Datum, error) {
	if t.Family == types.ArrayFamily {
		return decodeValueArray(b, t)
	}
	if t.Family != types.DecimalFamily {
		return DecodeDatum(b, t)
	}
	rest, s, err := encoding.DecodeString(b, asc)
	if err != nil {
		return nil, nil, err
	}
	d, _, err := apd.NewFromString(s)
	return rest, d, err
}
