package sql

import "sort"

// SettingNames lists every setting the session knows (reported
// parameters, session settings and the defaults SHOW knows), sorted: the
// rows of pg_settings.
func (e *env) SettingNames() []string {
	seen := map[string]string{} // lower case → as reported (DateStyle)
	for n := range e.s.settings {
		seen[n] = n
	}
	for n := range defaultSettings {
		seen[n] = n
	}
	for _, p := range e.s.params {
		seen[lower(p.Name)] = p.Name
	}
	out := make([]string, 0, len(seen))
	for _, n := range seen {
		if _, ok := e.s.setting(lower(n)); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
