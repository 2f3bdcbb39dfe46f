package sem

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ordodb/ordo/pgwire/pgcode"
	"github.com/ordodb/ordo/sql/types"
)

// registerTextFuncs adds the string functions beyond the basic ones.
func registerTextFuncs() {
	txt := types.Text
	def := func(args []types.T, minArg int, ret types.T, fn func(*Ctx, []types.Datum) (types.Datum, error)) funcDef {
		return funcDef{args: args, minArg: minArg, strict: true, ret: retT(ret), fn: fn}
	}
	t1, t2, t3 := []types.T{txt}, []types.T{txt, txt}, []types.T{txt, txt, txt}
	ti := []types.T{txt, types.Int4}
	funcs["btrim"] = def(t2, 1, txt, trimFn(strings.Trim))
	funcs["ltrim"] = def(t2, 1, txt, trimFn(strings.TrimLeft))
	funcs["rtrim"] = def(t2, 1, txt, trimFn(strings.TrimRight))
	funcs["left"] = def(ti, 0, txt, leftRight(true))
	funcs["right"] = def(ti, 0, txt, leftRight(false))
	funcs["repeat"] = def(ti, 0, txt, repeat)
	funcs["reverse"] = def(t1, 0, txt, strFn(reverse))
	funcs["strpos"] = def(t2, 0, types.Int4, strpos)
	funcs["position"] = def(t2, 0, types.Int4, strpos)
	funcs["lpad"] = def([]types.T{txt, types.Int4, txt}, 2, txt, pad(true))
	funcs["rpad"] = def([]types.T{txt, types.Int4, txt}, 2, txt, pad(false))
	funcs["split_part"] = def([]types.T{txt, txt, types.Int4}, 0, txt, splitPart)
	funcs["initcap"] = def(t1, 0, txt, strFn(initcap))
	funcs["md5"] = def(t1, 0, txt, strFn(func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }))
	funcs["ascii"] = def(t1, 0, types.Int4, ascii)
	funcs["chr"] = def([]types.T{types.Int4}, 0, txt, chr)
	funcs["translate"] = def(t3, 0, txt, translate)
	funcs["to_hex"] = def([]types.T{types.Int8}, 0, txt, func(_ *Ctx, a []types.Datum) (types.Datum, error) {
		return strconv.FormatUint(uint64(a[0].(int64)), 16), nil
	})
	funcs["quote_literal"] = def(t1, 0, txt, strFn(func(s string) string {
		q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
		if strings.Contains(s, `\`) {
			q = "E" + strings.ReplaceAll(q, `\`, `\\`)
		}
		return q
	}))
}

func trimFn(f func(string, string) string) func(*Ctx, []types.Datum) (types.Datum, error) {
	return func(_ *Ctx, a []types.Datum) (types.Datum, error) {
		chars := " "
		if len(a) > 1 {
			chars = a[1].(string)
		}
		return f(a[0].(string), chars), nil
	}
}

// leftRight is left(s, n) / right(s, n); a negative n drops |n|
// characters from the other end.
func leftRight(left bool) func(*Ctx, []types.Datum) (types.Datum, error) {
	return func(_ *Ctx, a []types.Datum) (types.Datum, error) {
		rs := []rune(a[0].(string))
		n := int(a[1].(int64))
		if n < 0 {
			n = max(len(rs)+n, 0)
		}
		n = min(n, len(rs))
		if left {
			return string(rs[:n]), nil
		}
		return string(rs[len(rs)-n:]), nil
	}
}

func repeat(_ *Ctx, a []types.Datum) (types.Datum, error) {
	n := a[1].(int64)
	if n <= 0 {
		return "", nil
	}
	if int64(len(a[0].(string)))*n > 1<<30 {
		return nil, pgcode.New(pgcode.ProgramLimitExceeded, "requested length too large")
	}
	return strings.Repeat(a[0].(string), int(n)), nil
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

func strpos(_ *Ctx, a []types.Datum) (types.Datum, error) {
	s, sub := a[0].(string), a[1].(string)
	i := strings.Index(s, sub)
	if i < 0 {
		return int64(0), nil
	}
	return int64(utf8.RuneCountInString(s[:i]) + 1), nil
}

// pad is lpad/rpad: fill (default a space) repeated to length n, or s
// truncated to n.
func pad(left bool) func(*Ctx, []types.Datum) (types.Datum, error) {
	return func(_ *Ctx, a []types.Datum) (types.Datum, error) {
		rs := []rune(a[0].(string))
		n := int(max(a[1].(int64), 0))
		fill := []rune(" ")
		if len(a) > 2 {
			fill = []rune(a[2].(string))
		}
		if n <= len(rs) || len(fill) == 0 {
			return string(rs[:min(n, len(rs))]), nil
		}
		if n > 1<<30/utf8.UTFMax { // PostgreSQL's bound is the result's bytes
			return nil, pgcode.New(pgcode.ProgramLimitExceeded, "requested length too large")
		}
		p := make([]rune, 0, n-len(rs))
		for i := 0; len(p) < n-len(rs); i++ {
			p = append(p, fill[i%len(fill)])
		}
		if left {
			return string(p) + string(rs), nil
		}
		return string(rs) + string(p), nil
	}
}

func splitPart(_ *Ctx, a []types.Datum) (types.Datum, error) {
	s, sep, n := a[0].(string), a[1].(string), a[2].(int64)
	if n == 0 {
		return nil, pgcode.New(pgcode.InvalidParameterValue, "field position must not be zero")
	}
	var parts []string
	if sep == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, sep)
	}
	if n < 0 {
		n = int64(len(parts)) + n + 1
	}
	if n < 1 || n > int64(len(parts)) {
		return "", nil
	}
	return parts[n-1], nil
}

func initcap(s string) string {
	var b strings.Builder
	prevAlnum := false
	for _, r := range s {
		if prevAlnum {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
		prevAlnum = unicode.IsLetter(r) || unicode.IsDigit(r)
	}
	return b.String()
}

func ascii(_ *Ctx, a []types.Datum) (types.Datum, error) {
	r, _ := utf8.DecodeRuneInString(a[0].(string))
	if r == utf8.RuneError {
		return int64(0), nil
	}
	return int64(r), nil
}

func chr(_ *Ctx, a []types.Datum) (types.Datum, error) {
	n := a[0].(int64)
	if n == 0 {
		return nil, pgcode.New(pgcode.ProgramLimitExceeded, "null character not permitted")
	}
	if n < 0 || n > unicode.MaxRune || !utf8.ValidRune(rune(n)) {
		return nil, pgcode.New(pgcode.ProgramLimitExceeded, "requested character too large for encoding: %d", n)
	}
	return string(rune(n)), nil
}

func translate(_ *Ctx, a []types.Datum) (types.Datum, error) {
	from, to := []rune(a[1].(string)), []rune(a[2].(string))
	var b strings.Builder
	for _, r := range a[0].(string) {
		i := -1
		for j, f := range from {
			if f == r {
				i = j
				break
			}
		}
		switch {
		case i < 0:
			b.WriteRune(r)
		case i < len(to):
			b.WriteRune(to[i])
		}
	}
	return b.String(), nil
}
