package exec

import (
	"github.com/ordodb/ordo/sql/sem"
	"github.com/ordodb/ordo/sql/types"
)

// settingsLister is the part of the session pg_settings reads.
type settingsLister interface {
	SettingNames() []string
	Setting(name string) (string, bool)
}

// pg_settings: one row per setting the session knows, with its current
// value. ordo keeps no metadata about settings (units, ranges, contexts),
// so those columns are NULL, and every value is a string.
func init() {
	txt := types.Text
	cols := []vcol{{"name", txt}, {"setting", txt}, {"unit", txt}, {"category", txt}, {"short_desc", txt},
		{"extra_desc", txt}, {"context", txt}, {"vartype", txt}, {"source", txt}, {"min_val", txt},
		{"max_val", txt}, {"enumvals", textArray}, {"boot_val", txt}, {"reset_val", txt},
		{"sourcefile", txt}, {"sourceline", types.Int4}, {"pending_restart", types.Bool}}
	vtables["pg_settings"] = &vtable{cols: cols, rows: settingsRows}
}

func settingsRows(c *Ctx) ([]sem.Row, error) {
	l, ok := c.Eval.Env.(settingsLister)
	if !ok {
		return nil, nil
	}
	var out []sem.Row
	for _, n := range l.SettingNames() {
		v, _ := l.Setting(n)
		out = append(out, sem.Row{n, v, nil, nil, nil, nil, nil, "string", nil, nil, nil, nil, nil, nil, nil, nil, false})
	}
	return out, nil
}
