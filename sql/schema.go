package sql

import (
	"strings"

	"github.com/ordodb/ordo/sql/exec"
)

// searchPath returns search_path's schemas, "$user" replaced by the
// session user's name (exec.Names skips schemas that do not exist).
func (s *Session) searchPath() []string {
	v, _ := s.setting("search_path")
	var out []string
	for _, p := range splitSearchPath(v) {
		if p == "$user" {
			p = s.args.User
		}
		out = append(out, p)
	}
	return out
}

// names is the name resolver of the open transaction.
func (s *Session) names() exec.Names {
	return exec.Names{Cat: s.cat, DBID: s.dbID, Path: s.searchPath()}
}

// splitSearchPath splits a search_path value: names separated by commas,
// double-quoted ones taken as written, others folded to lower case.
func splitSearchPath(v string) []string {
	var out []string
	for _, part := range splitOutsideQuotes(v) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if len(part) >= 2 && part[0] == '"' && part[len(part)-1] == '"' {
			out = append(out, strings.ReplaceAll(part[1:len(part)-1], `""`, `"`))
			continue
		}
		out = append(out, strings.ToLower(part))
	}
	return out
}

func splitOutsideQuotes(v string) []string {
	var out []string
	start, quoted := 0, false
	for i := 0; i < len(v); i++ {
		switch {
		case v[i] == '"':
			quoted = !quoted
		case v[i] == ',' && !quoted:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// searchPathValue is the text of SET search_path's list, as PostgreSQL
// shows it: each name quoted when it is not a plain lower-case identifier.
func searchPathValue(names []string) string {
	for i, n := range names {
		if !plainIdent(n) {
			names[i] = quoteIdent(n)
		}
	}
	return strings.Join(names, ", ")
}

func plainIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			return false
		}
	}
	return true
}
