package clients

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ordodb/ordo/tests/cluster"
)

// ordoURL is the libpq URL of node i of c.
func ordoURL(c *cluster.InProcess, i int) string {
	return fmt.Sprintf("postgresql://root@%s/defaultdb?sslmode=disable", c.SQLAddrs[i])
}

// clientBin returns the path of a client binary, failing if it is missing.
func clientBin(t *testing.T, name string) string {
	t.Helper()
	p := "/usr/bin/" + name
	if _, err := os.Stat(p); err != nil {
		pkg := "postgresql-client-15"
		if name == "sysbench" {
			pkg = "sysbench"
		}
		t.Fatalf("%s is missing (install the Debian package %s): %v", name, pkg, err)
	}
	return p
}

// run runs a client binary with a deadline and returns its combined output.
func run(t *testing.T, timeout time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, clientBin(t, name), args...)
	cmd.Env = append(os.Environ(), "PGTZ=Etc/UTC", "LC_ALL=C.UTF-8", "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
