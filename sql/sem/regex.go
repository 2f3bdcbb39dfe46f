package sem

import (
	"fmt"
	"regexp"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/types"
)

// Regex is the POSIX regular expression match operators ~, !~, ~* and
// !~*. Patterns run on Go's RE2, which agrees with PostgreSQL's ARE on the
// common syntax (anchors, classes, alternation, repetition) but has no
// back-references or lookahead.
type Regex struct {
	L, R     Expr
	Not, Ins bool
	cache    map[string]*regexp.Regexp
}

func (e *Regex) Type() types.T  { return types.Bool }
func (e *Regex) String() string { return fmt.Sprintf("(%s ~ %s %v %v)", e.L, e.R, e.Not, e.Ins) }
func (e *Regex) Eval(c *Ctx, r Row) (types.Datum, error) {
	l, err := e.L.Eval(c, r)
	if err != nil || l == nil {
		return nil, err
	}
	p, err := e.R.Eval(c, r)
	if err != nil || p == nil {
		return nil, err
	}
	re, err := e.compile(p.(string))
	if err != nil {
		return nil, err
	}
	return re.MatchString(l.(string)) != e.Not, nil
}

func (e *Regex) compile(p string) (*regexp.Regexp, error) {
	if re, ok := e.cache[p]; ok {
		return re, nil
	}
	src := p
	if e.Ins {
		src = "(?i)" + p
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, pgcode.New("2201B", "invalid regular expression: %v", err)
	}
	if e.cache == nil {
		e.cache = map[string]*regexp.Regexp{}
	}
	e.cache[p] = re
	return re, nil
}
