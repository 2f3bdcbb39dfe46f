package sql

import (
	"testing"
	"time"
)

func TestParseTimeout(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		show string
	}{
		{"0", 0, "0"},
		{"100", 100 * time.Millisecond, "100ms"},
		{"1000", time.Second, "1s"},
		{"100ms", 100 * time.Millisecond, "100ms"},
		{" 2 s ", 2 * time.Second, "2s"},
		{"1.5s", 1500 * time.Millisecond, "1500ms"},
		{"90s", 90 * time.Second, "90s"},
		{"120s", 2 * time.Minute, "2min"},
		{"1min", time.Minute, "1min"},
		{"1h", time.Hour, "1h"},
		{"1d", 24 * time.Hour, "1d"},
		{"1500us", 2 * time.Millisecond, "2ms"},
	} {
		d, err := parseTimeout("statement_timeout", tc.in)
		if err != nil || d != tc.want || formatTimeout(d) != tc.show {
			t.Errorf("%q: got %v %q %v, want %v %q", tc.in, d, formatTimeout(d), err, tc.want, tc.show)
		}
	}
	for _, bad := range []string{"", "abc", "-1", "1 fortnight", "1e3", "3000000000"} {
		if _, err := parseTimeout("statement_timeout", bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseOptions(t *testing.T) {
	got := parseOptions(`-c statement_timeout=100 -clock_timeout=1s --idle-in-transaction-session-timeout=5s -c search_path=a\ b -x`)
	want := [][2]string{{"statement_timeout", "100"}, {"lock_timeout", "1s"}, {"idle_in_transaction_session_timeout", "5s"}, {"search_path", "a b"}}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%d: got %q want %q", i, got[i], want[i])
		}
	}
}
