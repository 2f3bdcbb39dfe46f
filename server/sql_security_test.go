package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The SQL port's security settings are checked when the node starts: a
// rule file that is missing, malformed, or asks for TLS without
// certificates stops it; no file means the documented trust-all default.
func TestSQLSecurityConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tlsCfg, hba, err := sqlSecurity(&Config{})
	if err != nil || tlsCfg != nil || len(hba.Rules) != 1 || hba.Rules[0].Method.String() != "trust" {
		t.Fatalf("default: %v %+v %v", tlsCfg, hba, err)
	}
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing file", Config{HBAConfFile: filepath.Join(dir, "nope")}, "hba conf"},
		{"bad method", Config{HBAConfFile: write("bad", "host all all all md5\n")}, "unknown authentication method"},
		{"hostssl without certs", Config{HBAConfFile: write("ssl", "hostssl all all all trust\n")}, "no --certs-dir"},
		{"empty certs dir", Config{CertsDir: dir}, "node certificate"},
	} {
		if _, _, err := sqlSecurity(&c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error about %q", c.name, err, c.want)
		}
	}
}
