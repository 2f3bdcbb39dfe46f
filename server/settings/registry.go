package settings

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/ordodb/ordo/kv/keys"
)

// Registry holds settings by name. Settings are registered at init; a
// Registry is read-only afterwards and safe to share.
type Registry struct {
	byName map[string]*Setting
	names  []string // sorted
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*Setting{}} }

// register adds s. A duplicate name, a default of the wrong type or outside
// the bounds, or a bound on a type without bounds is a bug: it panics.
func (r *Registry) register(s *Setting, opts []Option) *Setting {
	for _, o := range opts {
		o(s)
	}
	if _, dup := r.byName[s.name]; dup || s.name == "" {
		panic(fmt.Sprintf("settings: %q registered twice or unnamed", s.name))
	}
	if ((s.hasMin || s.hasMax) && !s.def.numeric()) || (s.options != nil && s.typ != String) {
		panic(fmt.Sprintf("settings: %s: bounds or options do not fit type %s", s.name, s.typ))
	}
	if err := s.Validate(s.def); err != nil {
		panic(fmt.Sprintf("settings: default of %s: %v", s.name, err))
	}
	r.byName[s.name] = s
	i, _ := slices.BinarySearch(r.names, s.name)
	r.names = slices.Insert(r.names, i, s.name)
	return s
}

// BoolSetting, IntSetting, BytesSetting, DurationSetting and StringSetting
// are typed handles: Get reads the setting from a snapshot.
type (
	BoolSetting     struct{ *Setting }
	IntSetting      struct{ *Setting }
	BytesSetting    struct{ *Setting }
	DurationSetting struct{ *Setting }
	StringSetting   struct{ *Setting }
)

// RegisterBool registers a bool setting.
func (r *Registry) RegisterBool(name, desc string, def bool, opts ...Option) BoolSetting {
	return BoolSetting{r.register(&Setting{name: name, desc: desc, typ: Bool, def: BoolValue(def)}, opts)}
}

// RegisterInt registers an int setting.
func (r *Registry) RegisterInt(name, desc string, def int64, opts ...Option) IntSetting {
	return IntSetting{r.register(&Setting{name: name, desc: desc, typ: Int, def: IntValue(def)}, opts)}
}

// RegisterBytes registers a byte-size setting; it is never negative.
func (r *Registry) RegisterBytes(name, desc string, def int64, opts ...Option) BytesSetting {
	s := &Setting{name: name, desc: desc, typ: Bytes, def: BytesValue(def), hasMin: true}
	return BytesSetting{r.register(s, opts)}
}

// RegisterDuration registers a duration setting; it is never negative.
func (r *Registry) RegisterDuration(name, desc string, def time.Duration, opts ...Option) DurationSetting {
	s := &Setting{name: name, desc: desc, typ: Duration, def: DurationValue(def), hasMin: true}
	return DurationSetting{r.register(s, opts)}
}

// RegisterString registers a string setting.
func (r *Registry) RegisterString(name, desc, def string, opts ...Option) StringSetting {
	return StringSetting{r.register(&Setting{name: name, desc: desc, typ: String, def: StringValue(def)}, opts)}
}

// Get returns the setting's value in v (its default if v is nil).
func (s BoolSetting) Get(v *Values) bool { return v.get(s.Setting).Bool() }

// Get returns the setting's value in v (its default if v is nil).
func (s IntSetting) Get(v *Values) int64 { return v.get(s.Setting).Int() }

// Get returns the setting's value in v (its default if v is nil).
func (s BytesSetting) Get(v *Values) int64 { return v.get(s.Setting).Int() }

// Get returns the setting's value in v (its default if v is nil).
func (s DurationSetting) Get(v *Values) time.Duration { return v.get(s.Setting).Duration() }

// Get returns the setting's value in v (its default if v is nil).
func (s StringSetting) Get(v *Values) string { return v.get(s.Setting).Text() }

// Lookup returns the named setting.
func (r *Registry) Lookup(name string) (*Setting, error) {
	if s, ok := r.byName[name]; ok {
		return s, nil
	}
	return nil, &UnknownError{Name: name, Suggestion: r.suggest(name)}
}

// Settings returns every setting, sorted by name.
func (r *Registry) Settings() []*Setting {
	out := make([]*Setting, len(r.names))
	for i, n := range r.names {
		out[i] = r.byName[n]
	}
	return out
}

// Parse parses text as a value of the named setting (see Setting.Parse).
func (r *Registry) Parse(name, text string) (Value, error) {
	s, err := r.Lookup(name)
	if err != nil {
		return Value{}, err
	}
	return s.Parse(text)
}

// Decode decodes a stored value of the named setting and validates it.
func (r *Registry) Decode(name string, data []byte) (Value, error) {
	s, err := r.Lookup(name)
	if err != nil {
		return Value{}, err
	}
	return s.Decode(data)
}

// suggest returns the registered name closest to name if it is close
// (edit distance at most a third of its length), else "".
func (r *Registry) suggest(name string) string {
	best, bestDist := "", len(name)/3+1
	for _, n := range r.names {
		if d := editDistance(name, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Key is the system key a setting is stored at: keys.SettingsPrefix() +
// name.
func Key(name string) []byte { return append(keys.SettingsPrefix(), name...) }

// NameFromKey returns the setting name of a key made by Key.
func NameFromKey(key []byte) (string, bool) {
	prefix := keys.SettingsPrefix()
	if !bytes.HasPrefix(key, prefix) || len(key) == len(prefix) {
		return "", false
	}
	return string(key[len(prefix):]), true
}
