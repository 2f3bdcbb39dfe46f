package pgwire

import (
	"net/netip"
	"testing"
)

func TestHBAMatch(t *testing.T) {
	h, err := ParseHBA(`
# local demo
host      all  all        127.0.0.1/32  trust
hostnossl all  all        10.0.0.0/8    reject   # plaintext from the LAN: no
hostssl   all  alice,bob  10.0.0.0/8    scram-sha-256
hostssl   db2  all        10.1.2.3      password
host      all  all        ::1           trust
host      all  all        all           scram-sha-256
`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr   string
		tls    bool
		user   string
		db     string
		want   AuthMethod
		wantOK bool
	}{
		{"127.0.0.1", false, "root", "x", AuthTrust, true},
		{"127.0.0.2", false, "root", "x", AuthSCRAM, true},
		{"10.1.1.1", false, "alice", "x", AuthReject, true},
		{"10.1.1.1", true, "alice", "x", AuthSCRAM, true},
		{"10.1.2.3", true, "carol", "db2", AuthPassword, true},
		{"10.1.2.3", true, "carol", "db3", AuthSCRAM, true},
		{"::1", false, "root", "x", AuthTrust, true},
		{"::ffff:127.0.0.1", false, "root", "x", AuthTrust, true},
		{"", false, "root", "x", AuthSCRAM, true}, // non-IP peer only matches "all"
	}
	for _, tt := range tests {
		var a netip.Addr
		if tt.addr != "" {
			a = netip.MustParseAddr(tt.addr)
		}
		r, ok := h.Match(HBAConn{Addr: a, TLS: tt.tls, User: tt.user, Database: tt.db})
		if ok != tt.wantOK || r.Method != tt.want {
			t.Errorf("%+v: got %v %v, want %v %v", tt, r.Method, ok, tt.want, tt.wantOK)
		}
	}
	if _, ok := (&HBA{}).Match(HBAConn{User: "x"}); ok {
		t.Error("empty rule set must match nothing")
	}
}

func TestParseHBAErrors(t *testing.T) {
	for _, bad := range []string{
		"host all all",
		"hosts all all all trust",
		"host all all 300.0.0.1/8 trust",
		"host all all all md5",
		"host all all 10.0.0.0/40 trust",
	} {
		if _, err := ParseHBA(bad); err == nil {
			t.Errorf("ParseHBA(%q) succeeded", bad)
		}
	}
}
