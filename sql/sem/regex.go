package sem

import (
	"fmt"
	"regexp"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/types"
)

// Match is a pattern match: [NOT] LIKE / ILIKE, or the POSIX regular
// expression operators ~, !~, ~* and !~*. Patterns are compiled once per
// distinct pattern. POSIX patterns run on Go's RE2, which agrees with
// PostgreSQL's ARE on the common syntax (anchors, classes, alternation,
// repetition) but has no back-references or lookahead.
type Match struct {
	L, R     Expr
	Not, Ins bool
	// Like selects LIKE semantics; otherwise the pattern is a POSIX regex.
	Like  bool
	cache map[string]*regexp.Regexp
}

func (e *Match) Type() types.T { return types.Bool }

func (e *Match) String() string {
	op := "~"
	if e.Like {
		op = "LIKE"
	}
	return fmt.Sprintf("(%s %s %s %v %v)", e.L, op, e.R, e.Not, e.Ins)
}

func (e *Match) Eval(c *Ctx, r Row) (types.Datum, error) {
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

func (e *Match) compile(p string) (*regexp.Regexp, error) {
	if re, ok := e.cache[p]; ok {
		return re, nil
	}
	re, err := e.translate(p)
	if err != nil {
		return nil, err
	}
	if e.cache == nil {
		e.cache = map[string]*regexp.Regexp{}
	}
	e.cache[p] = re
	return re, nil
}

func (e *Match) translate(p string) (*regexp.Regexp, error) {
	if e.Like {
		return likeRegexp(p, e.Ins)
	}
	src := p
	if e.Ins {
		src = "(?i)" + p
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, pgcode.New("2201B", "invalid regular expression: %v", err)
	}
	return re, nil
}
