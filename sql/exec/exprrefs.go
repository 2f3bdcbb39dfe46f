package exec

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// walkProto calls fn on m and every message below it.
func walkProto(m protoreflect.Message, fn func(proto.Message)) {
	fn(m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() || fd.Message() == nil:
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkProto(l.Get(i).Message(), fn)
			}
		default:
			walkProto(v.Message(), fn)
		}
		return true
	})
}

// parseStored parses an expression stored as SQL text (a default or a
// CHECK) into a one-target SELECT.
func parseStored(text string) (*pg.ParseResult, error) {
	return pg.Parse("SELECT " + text)
}

// columnRefs calls fn on every column reference in a stored expression.
func columnRefs(tree *pg.ParseResult, fn func(*pg.ColumnRef)) {
	walkProto(tree.ProtoReflect(), func(m proto.Message) {
		if cr, ok := m.(*pg.ColumnRef); ok {
			fn(cr)
		}
	})
}

func refName(cr *pg.ColumnRef) *pg.String {
	if len(cr.Fields) == 0 {
		return nil
	}
	return cr.Fields[len(cr.Fields)-1].GetString_()
}

// exprMentions reports whether a stored expression refers to the column.
func exprMentions(text, col string) (bool, error) {
	tree, err := parseStored(text)
	if err != nil {
		return false, err
	}
	found := false
	columnRefs(tree, func(cr *pg.ColumnRef) {
		if s := refName(cr); s != nil && s.Sval == col {
			found = true
		}
	})
	return found, nil
}

// renameInExpr rewrites a stored expression's references to column from
// as references to to.
func renameInExpr(text, from, to string) (string, error) {
	tree, err := parseStored(text)
	if err != nil {
		return "", err
	}
	columnRefs(tree, func(cr *pg.ColumnRef) {
		if s := refName(cr); s != nil && s.Sval == from {
			s.Sval = to
		}
	})
	out, err := pg.Deparse(tree)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(out, "SELECT "), nil
}
