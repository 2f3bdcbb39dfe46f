package settings

import (
	"errors"
	"maps"
)

// Values is an immutable snapshot of every setting of a registry. The nil
// *Values reads every setting's default.
type Values struct {
	reg *Registry
	set map[string]Value // settings set explicitly; the others have their default
}

// Defaults returns the snapshot in which every setting has its default.
func (r *Registry) Defaults() *Values { return &Values{reg: r, set: map[string]Value{}} }

func (v *Values) get(s *Setting) Value {
	if v != nil {
		if val, ok := v.set[s.name]; ok {
			return val
		}
	}
	return s.def
}

// Registry returns the registry the snapshot belongs to.
func (v *Values) Registry() *Registry { return v.reg }

// Get returns the named setting's value.
func (v *Values) Get(name string) (Value, error) {
	s, err := v.reg.Lookup(name)
	if err != nil {
		return Value{}, err
	}
	return v.get(s), nil
}

// IsSet reports whether the named setting was set (even to its default
// value) rather than left at its default.
func (v *Values) IsSet(name string) bool {
	_, ok := v.set[name]
	return ok
}

// With returns a snapshot with the named setting parsed from text (SET
// CLUSTER SETTING name = text).
func (v *Values) With(name, text string) (*Values, error) {
	val, err := v.reg.Parse(name, text)
	if err != nil {
		return nil, err
	}
	return v.with(name, val), nil
}

// WithValue returns a snapshot with the named setting set to val, which
// must have the setting's type and be within its bounds.
func (v *Values) WithValue(name string, val Value) (*Values, error) {
	s, err := v.reg.Lookup(name)
	if err != nil {
		return nil, err
	}
	if err := s.Validate(val); err != nil {
		return nil, err
	}
	return v.with(name, val), nil
}

// WithEncoded returns a snapshot with the named setting set from its stored
// encoding.
func (v *Values) WithEncoded(name string, data []byte) (*Values, error) {
	val, err := v.reg.Decode(name, data)
	if err != nil {
		return nil, err
	}
	return v.with(name, val), nil
}

// Reset returns a snapshot with the named setting back at its default
// (RESET CLUSTER SETTING name).
func (v *Values) Reset(name string) (*Values, error) {
	if _, err := v.reg.Lookup(name); err != nil {
		return nil, err
	}
	out := &Values{reg: v.reg, set: maps.Clone(v.set)}
	delete(out.set, name)
	return out, nil
}

func (v *Values) with(name string, val Value) *Values {
	out := &Values{reg: v.reg, set: maps.Clone(v.set)}
	out.set[name] = val
	return out
}

// Load builds a snapshot from stored settings, name → encoding (as read
// from keys under keys.SettingsPrefix(), named by NameFromKey). Names this
// binary does not know are skipped (a newer node may have stored them); a
// value that does not decode keeps its default and is reported in the
// returned error, which joins one error per such value. The snapshot is
// always usable.
func (r *Registry) Load(stored map[string][]byte) (*Values, error) {
	v := r.Defaults()
	var errs []error
	for _, name := range r.names {
		data, ok := stored[name]
		if !ok {
			continue
		}
		val, err := r.Decode(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v.set[name] = val
	}
	return v, errors.Join(errs...)
}

// Row is one row of SHOW CLUSTER SETTINGS.
type Row struct {
	Name, Value, Type, Description string
}

// Show returns every setting's row, sorted by name.
func (v *Values) Show() []Row {
	rows := make([]Row, 0, len(v.reg.names))
	for _, s := range v.reg.Settings() {
		rows = append(rows, Row{Name: s.name, Value: v.get(s).String(), Type: s.typ.String(), Description: s.desc})
	}
	return rows
}

// ShowOne returns the row of one setting (SHOW CLUSTER SETTING name).
func (v *Values) ShowOne(name string) (Row, error) {
	s, err := v.reg.Lookup(name)
	if err != nil {
		return Row{}, err
	}
	return Row{Name: s.name, Value: v.get(s).String(), Type: s.typ.String(), Description: s.desc}, nil
}
