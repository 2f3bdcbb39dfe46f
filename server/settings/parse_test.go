package settings

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, text string
		want       Value  // when ok
		expected   string // InvalidValueError.Expected when not ok
	}{
		{"kv.range_max_bytes", "262144", BytesValue(262144), ""},
		{"kv.range_max_bytes", "'262144'", BytesValue(262144), ""},
		{"kv.range_max_bytes", "'64MiB'", BytesValue(64 << 20), ""},
		{"kv.range_max_bytes", " '64 mib' ", BytesValue(64 << 20), ""},
		{"kv.range_max_bytes", "'1.5GiB'", BytesValue(3 << 29), ""},
		{"kv.range_max_bytes", "'4 KiB'", BytesValue(4096), ""},
		{"kv.range_max_bytes", "'5KB'", BytesValue(5000), ""},
		{"kv.range_max_bytes", "'8GiB'", BytesValue(8 << 30), ""},
		{"kv.range_max_bytes", "'64 M'", BytesValue(64 << 20), ""},
		{"kv.range_max_bytes", "4095", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "'4KB'", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "'9GiB'", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "'lots'", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "-4096", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "'1.5 B'", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "'64 MiBs'", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "'99999999999 TiB'", Value{}, "bytes between 4 KiB and 8 GiB"},
		{"kv.range_max_bytes", "''", Value{}, "bytes between 4 KiB and 8 GiB"},

		{"server.time_until_dead", "'15s'", DurationValue(15 * time.Second), ""},
		{"server.time_until_dead", "15s", DurationValue(15 * time.Second), ""},
		{"server.time_until_dead", "'1h 30m'", DurationValue(90 * time.Minute), ""},
		{"server.time_until_dead", "'1s'", DurationValue(time.Second), ""},
		{"server.time_until_dead", "'500ms'", Value{}, "duration of at least 1s"},
		{"server.time_until_dead", "'15'", Value{}, "duration of at least 1s"},
		{"server.time_until_dead", "0", Value{}, "duration of at least 1s"},
		{"server.time_until_dead", "'-5m'", Value{}, "duration of at least 1s"},
		{"server.time_until_dead", "'soon'", Value{}, "duration of at least 1s"},

		{"kv.replication_factor", "5", IntValue(5), ""},
		{"kv.replication_factor", "'3'", IntValue(3), ""},
		{"kv.replication_factor", "0", Value{}, "int between 1 and 7"},
		{"kv.replication_factor", "8", Value{}, "int between 1 and 7"},
		{"kv.replication_factor", "3.5", Value{}, "int between 1 and 7"},
		{"kv.replication_factor", "true", Value{}, "int between 1 and 7"},

		{"kv.range_split.load_qps_threshold", "100", IntValue(100), ""},
		{"kv.range_split.load_qps_threshold", "0", Value{}, "int of at least 1"},

		{"kv.range_split.by_load_enabled", "true", BoolValue(true), ""},
		{"kv.range_split.by_load_enabled", "'off'", BoolValue(false), ""},
		{"kv.range_split.by_load_enabled", "FALSE", BoolValue(false), ""},
		{"kv.range_split.by_load_enabled", "1", BoolValue(true), ""},
		{"kv.range_split.by_load_enabled", "maybe", Value{}, "bool"},

		{"kv.lock_timeout", "'250ms'", DurationValue(250 * time.Millisecond), ""},
		{"sql.defaults.statement_timeout", "0", DurationValue(0), ""},
		{"sql.defaults.statement_timeout", "'2m'", DurationValue(2 * time.Minute), ""},
		{"kv.snapshot.max_rate", "0", BytesValue(0), ""},
		{"kv.snapshot.max_rate", "-1", Value{}, "bytes of at least 0 B"},

		{"cluster.organization", "'it''s ordo'", StringValue("it's ordo"), ""},
		{"cluster.organization", "acme", StringValue("acme"), ""},
		{"cluster.organization", "''", StringValue(""), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.text, func(t *testing.T) {
			got, err := Cluster.Parse(tc.name, tc.text)
			if tc.expected == "" {
				if err != nil || got != tc.want {
					t.Fatalf("got %v (%v), want %v", got, err, tc.want)
				}
				return
			}
			var iv *InvalidValueError
			if !errors.As(err, &iv) || !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("got %v, %v; want an InvalidValueError", got, err)
			}
			if iv.Name != tc.name || iv.Input != tc.text || iv.Expected != tc.expected {
				t.Fatalf("got %+v, want expected %q", iv, tc.expected)
			}
			t.Log(err)
		})
	}
}

func TestParseUnknown(t *testing.T) {
	tests := []struct{ name, suggestion string }{
		{"kv.range_max_byte", "kv.range_max_bytes"},
		{"server.time_until_ded", "server.time_until_dead"},
		{"kv.replicationfactor", "kv.replication_factor"},
		{"no.such.thing", ""},
		{"", ""},
	}
	for _, tc := range tests {
		_, err := Cluster.Parse(tc.name, "1")
		var ue *UnknownError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnknown) || ue.Name != tc.name || ue.Suggestion != tc.suggestion {
			t.Errorf("%q: got %v (%+v), want suggestion %q", tc.name, err, ue, tc.suggestion)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		v         Value
		show, sql string
	}{
		{BytesValue(64 << 20), "64 MiB", "'64 MiB'"},
		{BytesValue(262144), "256 KiB", "'256 KiB'"},
		{BytesValue(3 << 29), "1536 MiB", "'1536 MiB'"},
		{BytesValue(1000), "1000 B", "'1000 B'"},
		{BytesValue(0), "0 B", "'0 B'"},
		{BytesValue(2 << 40), "2 TiB", "'2 TiB'"},
		{DurationValue(5 * time.Minute), "5m", "'5m'"},
		{DurationValue(time.Hour), "1h", "'1h'"},
		{DurationValue(90 * time.Minute), "1h30m", "'1h30m'"},
		{DurationValue(time.Hour + 5*time.Second), "1h0m5s", "'1h0m5s'"},
		{DurationValue(10 * time.Second), "10s", "'10s'"},
		{DurationValue(250 * time.Millisecond), "250ms", "'250ms'"},
		{DurationValue(0), "0s", "'0s'"},
		{IntValue(-3), "-3", "-3"},
		{BoolValue(true), "true", "true"},
		{StringValue("it's"), "it's", "'it''s'"},
		{Value{}, "<unset>", "'<unset>'"},
	}
	for _, tc := range tests {
		if got := tc.v.String(); got != tc.show {
			t.Errorf("%#v: String %q, want %q", tc.v, got, tc.show)
		}
		if got := tc.v.SQL(); got != tc.sql {
			t.Errorf("%#v: SQL %q, want %q", tc.v, got, tc.sql)
		}
	}
}

// TestRoundTrip: for every setting, its default and a few other values
// survive format → Parse and Encode → Decode.
func TestRoundTrip(t *testing.T) {
	extra := map[Type][]Value{
		Bool:     {BoolValue(false), BoolValue(true)},
		Int:      {IntValue(1), IntValue(7), IntValue(100)},
		Bytes:    {BytesValue(4096), BytesValue(262144), BytesValue(5000), BytesValue(1 << 30)},
		Duration: {DurationValue(time.Second), DurationValue(90 * time.Minute), DurationValue(1500 * time.Millisecond)},
		String:   {StringValue("'quoted'"), StringValue(" x "), StringValue("")},
	}
	for _, s := range Cluster.Settings() {
		for _, v := range append([]Value{s.Default()}, extra[s.Type()]...) {
			if s.Validate(v) != nil {
				continue
			}
			for _, text := range []string{v.SQL(), v.String()} {
				if s.Type() == String && text == v.String() {
					continue // bare text loses surrounding quotes and spaces; SQL() is the exact form
				}
				if got, err := s.Parse(text); err != nil || got != v {
					t.Errorf("%s: Parse(%q) = %v, %v; want %v", s.Name(), text, got, err, v)
				}
			}
			if got, err := s.Decode(Encode(v)); err != nil || got != v {
				t.Errorf("%s: Decode(Encode(%v)) = %v, %v", s.Name(), v, got, err)
			}
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"262144", "'64MiB'", "'1.5 GiB'", "'15s'", "true", "'it''s'", "-1", "'1h 30m'", "1e3", "'.5k'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, s := range Cluster.Settings() {
			v, err := s.Parse(text)
			if err != nil {
				if !errors.Is(err, ErrInvalidValue) {
					t.Fatalf("%s: Parse(%q): %v is not ErrInvalidValue", s.Name(), text, err)
				}
				continue
			}
			if got, err := s.Parse(v.SQL()); err != nil || got != v {
				t.Fatalf("%s: Parse(%q) = %v, but Parse(%q) = %v, %v", s.Name(), text, v, v.SQL(), got, err)
			}
		}
	})
}
