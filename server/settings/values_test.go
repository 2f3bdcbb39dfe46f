package settings

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/kv/keys"
)

func TestDefaults(t *testing.T) {
	var nilValues *Values
	for _, v := range []*Values{Cluster.Defaults(), nilValues} {
		if got := RangeMaxBytes.Get(v); got != 64<<20 {
			t.Errorf("kv.range_max_bytes = %d", got)
		}
		if got := TimeUntilDead.Get(v); got != 5*time.Minute {
			t.Errorf("server.time_until_dead = %v", got)
		}
		if got := ReplicationFactor.Get(v); got != 3 {
			t.Errorf("kv.replication_factor = %d", got)
		}
		if got := LockTimeout.Get(v); got != 10*time.Second {
			t.Errorf("kv.lock_timeout = %v", got)
		}
		if got := StatementTimeout.Get(v); got != 0 {
			t.Errorf("sql.defaults.statement_timeout = %v", got)
		}
		if !LoadSplitEnabled.Get(v) || LoadSplitQPSThreshold.Get(v) != 2500 || ClusterOrganization.Get(v) != "" {
			t.Error("load split or organization defaults")
		}
	}
	for _, s := range Cluster.Settings() {
		if s.Description() == "" || strings.ToLower(s.Name()) != s.Name() || !strings.Contains(s.Name(), ".") {
			t.Errorf("%s: want a lower-case dotted name and a description", s.Name())
		}
	}
}

func TestValuesAreImmutable(t *testing.T) {
	v0 := Cluster.Defaults()
	v1, err := v0.With("kv.range_max_bytes", "262144")
	if err != nil {
		t.Fatal(err)
	}
	v2, err := v1.With("server.time_until_dead", "'15s'")
	if err != nil {
		t.Fatal(err)
	}
	if RangeMaxBytes.Get(v0) != 64<<20 || RangeMaxBytes.Get(v1) != 262144 || RangeMaxBytes.Get(v2) != 262144 {
		t.Error("With changed an older snapshot or lost a value")
	}
	if TimeUntilDead.Get(v1) != 5*time.Minute || TimeUntilDead.Get(v2) != 15*time.Second {
		t.Error("server.time_until_dead")
	}
	v3, err := v2.Reset("kv.range_max_bytes")
	if err != nil || RangeMaxBytes.Get(v3) != 64<<20 || RangeMaxBytes.Get(v2) != 262144 || v3.IsSet("kv.range_max_bytes") || !v3.IsSet("server.time_until_dead") {
		t.Errorf("Reset: %v", err)
	}
	if got, err := v2.Get("server.time_until_dead"); err != nil || got != DurationValue(15*time.Second) {
		t.Errorf("Get: %v, %v", got, err)
	}
	v4, err := v0.WithValue("kv.replication_factor", IntValue(5))
	if err != nil || ReplicationFactor.Get(v4) != 5 {
		t.Errorf("WithValue: %v", err)
	}
	v5, err := v0.WithEncoded("kv.replication_factor", Encode(IntValue(1)))
	if err != nil || ReplicationFactor.Get(v5) != 1 {
		t.Errorf("WithEncoded: %v", err)
	}
}

func TestValuesErrors(t *testing.T) {
	v := Cluster.Defaults()
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"With unknown", second(v.With("kv.nope", "1")), ErrUnknown},
		{"With bad value", second(v.With("kv.replication_factor", "9")), ErrInvalidValue},
		{"WithValue wrong type", second(v.WithValue("kv.replication_factor", BytesValue(3))), ErrInvalidValue},
		{"WithValue out of bounds", second(v.WithValue("kv.range_max_bytes", BytesValue(1))), ErrInvalidValue},
		{"WithValue unknown", second(v.WithValue("kv.nope", IntValue(1))), ErrUnknown},
		{"WithEncoded wrong type", second(v.WithEncoded("kv.lock_timeout", Encode(IntValue(1)))), ErrInvalidValue},
		{"Reset unknown", second(v.Reset("kv.nope")), ErrUnknown},
		{"Get unknown", second(v.Get("kv.nope")), ErrUnknown},
		{"ShowOne unknown", second(v.ShowOne("kv.nope")), ErrUnknown},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	_, err := v.WithValue("kv.replication_factor", BytesValue(3))
	var iv *InvalidValueError
	if !errors.As(err, &iv) || iv.Expected != "int between 1 and 7" {
		t.Errorf("got %v", err)
	}
	t.Log(err)
}

func second[T any](_ T, err error) error { return err }

func TestShow(t *testing.T) {
	v, err := Cluster.Defaults().With("kv.range_max_bytes", "262144")
	if err != nil {
		t.Fatal(err)
	}
	rows := v.Show()
	if len(rows) != len(Cluster.Settings()) || !slices.IsSortedFunc(rows, func(a, b Row) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatalf("rows not one per setting, sorted: %v", rows)
	}
	want := map[string]Row{
		"kv.range_max_bytes":             {"kv.range_max_bytes", "256 KiB", "bytes", RangeMaxBytes.Description()},
		"server.time_until_dead":         {"server.time_until_dead", "5m", "duration", TimeUntilDead.Description()},
		"kv.replication_factor":          {"kv.replication_factor", "3", "int", ReplicationFactor.Description()},
		"kv.range_split.by_load_enabled": {"kv.range_split.by_load_enabled", "true", "bool", LoadSplitEnabled.Description()},
		"sql.defaults.statement_timeout": {"sql.defaults.statement_timeout", "0s", "duration", StatementTimeout.Description()},
	}
	for _, r := range rows {
		if w, ok := want[r.Name]; ok && r != w {
			t.Errorf("got %+v, want %+v", r, w)
		}
		if one, err := v.ShowOne(r.Name); err != nil || one != r {
			t.Errorf("ShowOne(%s) = %+v, %v", r.Name, one, err)
		}
	}
}

func TestLoad(t *testing.T) {
	stored := map[string][]byte{
		"kv.range_max_bytes":     Encode(BytesValue(8192)),
		"server.time_until_dead": Encode(DurationValue(15 * time.Second)),
		"kv.from_a_newer_node":   Encode(IntValue(1)),             // skipped
		"kv.replication_factor":  Encode(IntValue(9)),             // out of bounds: default kept
		"kv.lock_timeout":        Encode(StringValue("whatever")), // wrong type: default kept
	}
	v, err := Cluster.Load(stored)
	if RangeMaxBytes.Get(v) != 8192 || TimeUntilDead.Get(v) != 15*time.Second || ReplicationFactor.Get(v) != 3 || LockTimeout.Get(v) != 10*time.Second {
		t.Errorf("loaded %v", v.Show())
	}
	if !errors.Is(err, ErrInvalidValue) || strings.Count(err.Error(), "\n") != 1 {
		t.Errorf("want two invalid-value errors, got %v", err)
	}
	t.Log(err)
	if _, err := Cluster.Load(nil); err != nil {
		t.Error(err)
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"kv.range_max_bytes", Encode(BytesValue(1 << 20)), true},
		{"kv.range_max_bytes", nil, false},
		{"kv.range_max_bytes", []byte{byte(Bytes)}, false},
		{"kv.range_max_bytes", append(Encode(BytesValue(1<<20)), 0), false}, // trailing byte
		{"kv.range_max_bytes", Encode(IntValue(1 << 20)), false},            // type changed
		{"kv.range_max_bytes", Encode(BytesValue(1)), false},                // below the minimum
		{"kv.range_max_bytes", []byte{99, 1}, false},                        // unknown type
		{"kv.range_split.by_load_enabled", []byte{byte(Bool), 1}, true},
		{"kv.range_split.by_load_enabled", []byte{byte(Bool), 2}, false},
		{"kv.range_split.by_load_enabled", []byte{byte(Bool)}, false},
		{"cluster.organization", []byte{byte(String)}, true},
		{"no.such.setting", Encode(IntValue(1)), false},
	}
	for _, tc := range tests {
		v, err := Cluster.Decode(tc.name, tc.data)
		if (err == nil) != tc.ok {
			t.Errorf("Decode(%s, %x) = %v, %v; want ok=%v", tc.name, tc.data, v, err, tc.ok)
		}
	}
	if Encode(Value{}) != nil {
		t.Error("zero Value encodes to bytes")
	}
}

func FuzzDecode(f *testing.F) {
	for _, v := range []Value{BytesValue(64 << 20), BoolValue(true), DurationValue(time.Second), StringValue("x"), IntValue(3)} {
		f.Add(Encode(v))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range Cluster.Settings() {
			v, err := s.Decode(data)
			if err != nil {
				continue
			}
			if got, err := s.Decode(Encode(v)); err != nil || got != v {
				t.Fatalf("%s: %x decodes to %v, which does not round-trip: %v, %v", s.Name(), data, v, got, err)
			}
		}
	})
}

func TestKey(t *testing.T) {
	k := Key("kv.range_max_bytes")
	if !bytes.HasPrefix(k, keys.SettingsPrefix()) {
		t.Fatalf("%q is not under the settings prefix", k)
	}
	if name, ok := NameFromKey(k); !ok || name != "kv.range_max_bytes" {
		t.Errorf("NameFromKey = %q, %v", name, ok)
	}
	for _, k := range [][]byte{keys.SettingsPrefix(), keys.CatalogPrefix(), nil} {
		if name, ok := NameFromKey(k); ok {
			t.Errorf("NameFromKey(%q) = %q", k, name)
		}
	}
}

func TestRegisterBugsPanic(t *testing.T) {
	tests := []struct {
		name     string
		register func(r *Registry)
	}{
		{"duplicate", func(r *Registry) { r.RegisterBool("a.b", "x", true); r.RegisterInt("a.b", "x", 1) }},
		{"unnamed", func(r *Registry) { r.RegisterBool("", "x", true) }},
		{"default below min", func(r *Registry) { r.RegisterInt("a.b", "x", 0, Min(1)) }},
		{"negative bytes", func(r *Registry) { r.RegisterBytes("a.b", "x", -1) }},
		{"bounds on a bool", func(r *Registry) { r.RegisterBool("a.b", "x", true, Min(0)) }},
		{"options on an int", func(r *Registry) { r.RegisterInt("a.b", "x", 1, Options("a")) }},
		{"default not an option", func(r *Registry) { r.RegisterString("a.b", "x", "c", Options("a", "b")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.register(NewRegistry())
		})
	}
}

func TestStringOptions(t *testing.T) {
	r := NewRegistry()
	mode := r.RegisterString("x.mode", "a mode", "fast", Options("fast", "safe"))
	v, err := r.Defaults().With("x.mode", "'safe'")
	if err != nil || mode.Get(v) != "safe" {
		t.Fatalf("%v", err)
	}
	_, err = r.Defaults().With("x.mode", "'quick'")
	var iv *InvalidValueError
	if !errors.As(err, &iv) || iv.Expected != "one of 'fast', 'safe'" {
		t.Fatalf("got %v", err)
	}
}
