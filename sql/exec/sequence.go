package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/sql/kvapi"
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/sqlerr"
	"github.com/ordodb/ordo/sql/types"
)

// createSequence runs CREATE SEQUENCE.
func createSequence(c *Ctx, s *pg.CreateSeqStmt) (*Result, error) {
	schemaID, err := c.names().CreationSchema(c.Context, s.Sequence.Schemaname)
	if err != nil {
		return nil, withPos(err, s.Sequence.Location)
	}
	name := s.Sequence.Relname
	_, exists, err := c.Cat.LookupID(c.Context, schemaID, name, kvapi.LockExclusive)
	if err != nil {
		return nil, err
	}
	if exists {
		if s.IfNotExists {
			c.Notice(&pgcode.Error{Code: sqlerr.DuplicateTable, Severity: pgcode.SeverityNotice, Message: fmt.Sprintf("relation %q already exists, skipping", name)})
			return &Result{Tag: "CREATE SEQUENCE"}, nil
		}
		return nil, posErr(pgcode.New(sqlerr.DuplicateTable, "relation %q already exists", name), s.Sequence.Location)
	}
	seq, err := sequenceOptions(s.Options, types.Int8)
	if err != nil {
		return nil, err
	}
	d := &catalog.Descriptor{Kind: catalog.KindSequence, Name: name, Sequence: seq}
	if _, err := c.Cat.Create(c.Context, schemaID, d); err != nil {
		return nil, nameErr(err, name)
	}
	return &Result{Tag: "CREATE SEQUENCE"}, nil
}

// intRange returns the bounds of an integer type.
func intRange(t types.T) (int64, int64) {
	switch t.OID {
	case types.Int2.OID:
		return math.MinInt16, math.MaxInt16
	case types.Int4.OID:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// seqOpts are the options given, before defaults are filled in.
type seqOpts struct {
	t                types.T
	start, min, max  *int64
	increment, cache int64
	cycle            bool
	seen             map[string]bool
}

// sequenceOptions builds a sequence from CREATE SEQUENCE's (or an
// identity column's) options, with PostgreSQL's defaults for type t and
// its checks (22023).
func sequenceOptions(opts []*pg.Node, t types.T) (*catalog.Sequence, error) {
	o := &seqOpts{t: t, increment: 1, cache: 1, seen: map[string]bool{}}
	for _, n := range opts {
		if err := o.set(n.GetDefElem()); err != nil {
			return nil, err
		}
	}
	return o.sequence()
}

func (o *seqOpts) set(de *pg.DefElem) error {
	if o.seen[de.Defname] {
		return posErr(pgcode.New(pgcode.SyntaxError, "conflicting or redundant options"), de.Location)
	}
	o.seen[de.Defname] = true
	var err error
	switch de.Defname {
	case "as":
		return o.setType(de.Arg.GetTypeName())
	case "start":
		o.start, err = defInt(de)
	case "increment":
		var v *int64
		if v, err = defInt(de); v != nil {
			o.increment = *v
		}
	case "minvalue":
		o.min, err = defInt(de)
	case "maxvalue":
		o.max, err = defInt(de)
	case "cache":
		var v *int64
		if v, err = defInt(de); v != nil {
			o.cache = *v
		}
	case "cycle":
		o.cycle = de.Arg.GetBoolean().GetBoolval()
	case "owned_by":
		if names := de.Arg.GetList().GetItems(); len(names) != 1 || names[0].GetString_().GetSval() != "none" {
			return sqlerr.Unsupported("OWNED BY a column is not supported yet")
		}
	default:
		return sqlerr.Unsupported("sequence option %q is not supported", de.Defname)
	}
	return err
}

func (o *seqOpts) setType(tn *pg.TypeName) error {
	t, err := sem.ResolveType(tn)
	if err != nil {
		return err
	}
	if t.Family != types.IntFamily {
		return pgcode.New(pgcode.InvalidParameterValue, "sequence type must be smallint, integer, or bigint")
	}
	o.t = t
	return nil
}

// defInt reads an option's integer argument; nil for NO MINVALUE etc.
func defInt(de *pg.DefElem) (*int64, error) {
	if de.Arg == nil {
		return nil, nil
	}
	var s string
	switch {
	case de.Arg.GetInteger() != nil:
		v := int64(de.Arg.GetInteger().Ival)
		return &v, nil
	case de.Arg.GetFloat() != nil:
		s = de.Arg.GetFloat().Fval
	default:
		return nil, posErr(pgcode.New(pgcode.SyntaxError, "%s requires a numeric value", de.Defname), de.Location)
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, pgcode.New(pgcode.InvalidParameterValue, "%s requires an integer value", de.Defname)
	}
	return &v, nil
}

func (o *seqOpts) sequence() (*catalog.Sequence, error) {
	lo, hi := intRange(o.t)
	s := &catalog.Sequence{Increment: o.increment, Cache: o.cache, Cycle: o.cycle, Type: o.t}
	if s.Increment == 0 {
		return nil, pgcode.New(pgcode.InvalidParameterValue, "INCREMENT must not be zero")
	}
	s.Min, s.Max = 1, hi
	if s.Increment < 0 {
		s.Min, s.Max = lo, -1
	}
	if o.min != nil {
		s.Min = *o.min
	}
	if o.max != nil {
		s.Max = *o.max
	}
	tn := typeLabel(o.t)
	if s.Max < lo || s.Max > hi {
		return nil, pgcode.New(pgcode.InvalidParameterValue, "MAXVALUE (%d) is out of range for sequence data type %s", s.Max, tn)
	}
	if s.Min < lo || s.Min > hi {
		return nil, pgcode.New(pgcode.InvalidParameterValue, "MINVALUE (%d) is out of range for sequence data type %s", s.Min, tn)
	}
	if s.Min >= s.Max {
		return nil, pgcode.New(pgcode.InvalidParameterValue, "MINVALUE (%d) must be less than MAXVALUE (%d)", s.Min, s.Max)
	}
	s.Start = s.Min
	if s.Increment < 0 {
		s.Start = s.Max
	}
	if o.start != nil {
		s.Start = *o.start
	}
	return s, checkSequenceStart(s)
}

func checkSequenceStart(s *catalog.Sequence) error {
	switch {
	case s.Start < s.Min:
		return pgcode.New(pgcode.InvalidParameterValue, "START value (%d) cannot be less than MINVALUE (%d)", s.Start, s.Min)
	case s.Start > s.Max:
		return pgcode.New(pgcode.InvalidParameterValue, "START value (%d) cannot be greater than MAXVALUE (%d)", s.Start, s.Max)
	case s.Cache < 1:
		return pgcode.New(pgcode.InvalidParameterValue, "CACHE (%d) must be greater than zero", s.Cache)
	}
	return nil
}

func typeLabel(t types.T) string {
	switch t.OID {
	case types.Int2.OID:
		return "smallint"
	case types.Int4.OID:
		return "integer"
	}
	return "bigint"
}

// dropSequences runs DROP SEQUENCE.
func dropSequences(c *Ctx, s *pg.DropStmt) (*Result, error) {
	for _, o := range s.Objects {
		name, id, found, err := lookupObject(c, o, s.MissingOk, kvapi.LockExclusive)
		if err != nil {
			return nil, err
		}
		if err := dropSequence(c, name, id, found, s.MissingOk, s.Behavior == pg.DropBehavior_DROP_CASCADE); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "DROP SEQUENCE"}, nil
}

func dropSequence(c *Ctx, name string, id uint64, found, missingOK, cascade bool) error {
	var err error
	var d *catalog.Descriptor
	if found {
		if d, err = c.Cat.Get(c.Context, id, kvapi.LockExclusive); err != nil {
			return err
		}
	}
	if d == nil {
		if missingOK {
			c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion, Message: fmt.Sprintf("sequence %q does not exist, skipping", name)})
			return nil
		}
		return pgcode.New(pgcode.UndefinedTable, "sequence %q does not exist", name)
	}
	if d.Kind != catalog.KindSequence {
		e := pgcode.New(sqlerr.WrongObjectType, "%q is not a sequence", name)
		e.Hint = "Use DROP " + strings.ToUpper(string(d.Kind)) + " to remove a " + string(d.Kind) + "."
		return e
	}
	if err := dropSequenceUsers(c, d, cascade); err != nil {
		return err
	}
	return deleteSequence(c, d)
}

func deleteSequence(c *Ctx, d *catalog.Descriptor) error {
	if err := c.Cat.DeleteName(c.Context, d.ParentID, d.Name); err != nil {
		return err
	}
	if err := c.Cat.Delete(c.Context, d.ID); err != nil {
		return err
	}
	forgetSequence(c, d.ID)
	return c.Cat.DeleteSequenceValue(c.Context, d.ID)
}

// forgetSequence drops this node's cached block of a dropped sequence;
// other nodes' blocks are never used again (the descriptor is gone and
// IDs are not reused).
func forgetSequence(c *Ctx, id uint64) {
	if f, ok := c.Eval.Env.(interface{ ForgetSequence(uint64) }); ok {
		f.ForgetSequence(id)
	}
}

// defaultSequence returns the sequence a column default draws from.
func defaultSequence(def string) (string, bool) {
	name, ok := strings.CutPrefix(def, "nextval('")
	if !ok {
		return "", false
	}
	name, _, _ = strings.Cut(name, "'")
	_, name = SplitQualified(name)
	return name, true
}

// dropSequenceUsers fails with 2BP01 when a column default uses the
// sequence, or with cascade drops those defaults (a SERIAL or identity
// column's sequence is dropped only with its column or table).
func dropSequenceUsers(c *Ctx, seq *catalog.Descriptor, cascade bool) error {
	ds, err := descsIn(c, seq.ParentID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if d.Table == nil {
			continue
		}
		if err := dropSequenceUser(c, seq, d, cascade); err != nil {
			return err
		}
	}
	return nil
}

func dropSequenceUser(c *Ctx, seq, d *catalog.Descriptor, cascade bool) error {
	for i, col := range d.Table.Columns {
		if name, ok := defaultSequence(col.Default); !ok || name != seq.Name {
			continue
		}
		if col.Identity != "" {
			e := pgcode.New(sqlerr.DependentObjectsExist, "cannot drop sequence %s because column %s of table %s requires it", seq.Name, col.Name, d.Name)
			e.Hint = fmt.Sprintf("You can drop column %s of table %s instead.", col.Name, d.Name)
			return e
		}
		if !cascade {
			e := pgcode.New(sqlerr.DependentObjectsExist, "cannot drop sequence %s because other objects depend on it", seq.Name)
			e.Detail = fmt.Sprintf("default value for column %s of table %s depends on sequence %s", col.Name, d.Name, seq.Name)
			e.Hint = "Use DROP ... CASCADE to drop the dependent objects too."
			return e
		}
		m, err := c.Cat.Mutable(c.Context, d.ID)
		if err != nil {
			return err
		}
		m.Table.Columns[i].Default = ""
		c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion,
			Message: fmt.Sprintf("drop cascades to default value for column %s of table %s", col.Name, d.Name)})
		if err := c.Cat.Put(c.Context, m); err != nil {
			return err
		}
	}
	return nil
}

// alterSequence runs ALTER SEQUENCE: the options given replace the
// sequence's in a new version of its descriptor, which retires every
// node's cached block once it commits (as setval does); RESTART sets the
// value in a transaction of its own, as setval does.
func alterSequence(c *Ctx, s *pg.AlterSeqStmt) (*Result, error) {
	rv := s.Sequence
	_, id, found, err := c.names().Lookup(c.Context, rv.Schemaname, rv.Relname, kvapi.LockExclusive)
	if e, ok := err.(*pgcode.Error); ok && s.MissingOk && e.Code == sqlerr.InvalidSchemaName {
		err, found = nil, false
	}
	if err != nil {
		return nil, withPos(err, rv.Location)
	}
	var d *catalog.Descriptor
	if found {
		if d, err = c.Cat.Get(c.Context, id, kvapi.LockExclusive); err != nil {
			return nil, err
		}
	}
	if d == nil {
		if s.MissingOk {
			c.Notice(&pgcode.Error{Severity: pgcode.SeverityNotice, Code: pgcode.SuccessfulCompletion,
				Message: fmt.Sprintf("relation %q does not exist, skipping", rv.Relname)})
			return &Result{Tag: "ALTER SEQUENCE"}, nil
		}
		return nil, posErr(sqlerr.UndefinedTable(relName(rv)), rv.Location)
	}
	if d.Kind != catalog.KindSequence {
		return nil, posErr(pgcode.New(sqlerr.WrongObjectType, "%q is not a sequence", rv.Relname), rv.Location)
	}
	seq, restart, err := alterSequenceOptions(d.Sequence, s.Options)
	if err != nil {
		return nil, err
	}
	m, err := c.Cat.Mutable(c.Context, d.ID)
	if err != nil {
		return nil, err
	}
	m.Sequence = seq
	if err := c.Cat.Put(c.Context, m); err != nil {
		return nil, err
	}
	if n, ok := c.Eval.Env.(interface{ NoteSequenceWrite(uint64) }); ok {
		n.NoteSequenceWrite(d.ID)
	}
	forgetSequence(c, d.ID)
	if restart != nil {
		if err := catalog.SetVal(c.Context, c.DB, d.ID, *restart, false); err != nil {
			return nil, err
		}
	}
	return &Result{Tag: "ALTER SEQUENCE"}, nil
}

// alterSequenceOptions applies ALTER SEQUENCE's options to old, with
// PostgreSQL's rules: NO MINVALUE / NO MAXVALUE restore the defaults for
// the type and direction; a new AS type moves a bound that was the old
// type's limit to the new type's; RESTART without a value restarts at
// START. restart is the value to restart at, nil if none.
func alterSequenceOptions(old *catalog.Sequence, opts []*pg.Node) (*catalog.Sequence, *int64, error) {
	oldT := old.Type
	if oldT.OID == 0 {
		oldT = types.Int8
	}
	o := &seqOpts{t: oldT, increment: old.Increment, cache: old.Cache, cycle: old.Cycle, seen: map[string]bool{}}
	var restart *int64
	restartGiven := false
	for _, n := range opts {
		de := n.GetDefElem()
		if de.Defname == "restart" {
			if restartGiven {
				return nil, nil, posErr(pgcode.New(pgcode.SyntaxError, "conflicting or redundant options"), de.Location)
			}
			restartGiven = true
			v, err := defInt(de)
			if err != nil {
				return nil, nil, err
			}
			restart = v
			continue
		}
		if err := o.set(de); err != nil {
			return nil, nil, err
		}
	}
	s := *old
	s.Type, s.Increment, s.Cache, s.Cycle = o.t, o.increment, o.cache, o.cycle
	if s.Increment == 0 {
		return nil, nil, pgcode.New(pgcode.InvalidParameterValue, "INCREMENT must not be zero")
	}
	lo, hi := intRange(o.t)
	if o.t.OID != oldT.OID {
		oldLo, oldHi := intRange(oldT)
		if s.Max == oldHi {
			s.Max = hi
		}
		if s.Min == oldLo {
			s.Min = lo
		}
	}
	if o.seen["minvalue"] {
		switch {
		case o.min != nil:
			s.Min = *o.min
		case s.Increment > 0:
			s.Min = 1
		default:
			s.Min = lo
		}
	}
	if o.seen["maxvalue"] {
		switch {
		case o.max != nil:
			s.Max = *o.max
		case s.Increment > 0:
			s.Max = hi
		default:
			s.Max = -1
		}
	}
	if o.start != nil {
		s.Start = *o.start
	}
	tn := typeLabel(o.t)
	if s.Max < lo || s.Max > hi {
		return nil, nil, pgcode.New(pgcode.InvalidParameterValue, "MAXVALUE (%d) is out of range for sequence data type %s", s.Max, tn)
	}
	if s.Min < lo || s.Min > hi {
		return nil, nil, pgcode.New(pgcode.InvalidParameterValue, "MINVALUE (%d) is out of range for sequence data type %s", s.Min, tn)
	}
	if s.Min >= s.Max {
		return nil, nil, pgcode.New(pgcode.InvalidParameterValue, "MINVALUE (%d) must be less than MAXVALUE (%d)", s.Min, s.Max)
	}
	if err := checkSequenceStart(&s); err != nil {
		return nil, nil, err
	}
	if restartGiven {
		v := s.Start
		if restart != nil {
			v = *restart
		}
		if v < s.Min {
			return nil, nil, pgcode.New(pgcode.InvalidParameterValue, "RESTART value (%d) cannot be less than MINVALUE (%d)", v, s.Min)
		}
		if v > s.Max {
			return nil, nil, pgcode.New(pgcode.InvalidParameterValue, "RESTART value (%d) cannot be greater than MAXVALUE (%d)", v, s.Max)
		}
		restart = &v
	}
	return &s, restart, nil
}
