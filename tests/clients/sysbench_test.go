package clients

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ordodb/ordo/tests/cluster"
)

// sysbench 1.0's oltp_read_write with its pgsql driver (libpq), unmodified,
// on a 3-node cluster: prepare (CREATE TABLE with SERIAL and CHAR(n), one
// multi-row INSERT per table, CREATE INDEX), a run of 2 threads over named
// prepared statements with binary results (bpchar, int8), whose conflicts
// come back as 40001 (sysbench rolls back and retries those, counting
// "ignored errors"; any other error is fatal to it), and cleanup. After the
// run each table still holds table-size rows (every transaction deletes a
// row and inserts it again) and sysbench reported committed transactions.
func TestSysbench(t *testing.T) {
	c := cluster.StartInProcessWith(t, 3, func(c *cluster.InProcess) { c.TickInterval = 100 * time.Millisecond })
	conn := connect(t, ordoURL(c, 0))
	args := func(node int, extra ...string) []string {
		host, port, err := net.SplitHostPort(c.SQLAddrs[node])
		if err != nil {
			t.Fatal(err)
		}
		return append([]string{"oltp_read_write", "--db-driver=pgsql", "--pgsql-host=" + host, "--pgsql-port=" + port,
			"--pgsql-user=root", "--pgsql-db=defaultdb", "--tables=2", "--table-size=1000"}, extra...)
	}
	out := run(t, 3*time.Minute, "sysbench", args(0, "prepare")...)
	t.Logf("sysbench prepare:\n%s", out)
	out = run(t, 3*time.Minute, "sysbench", args(1, "--threads=2", "--time=5", "run")...)
	t.Logf("sysbench run:\n%s", out)
	if strings.Contains(out, "FATAL") {
		t.Fatalf("sysbench reported a fatal error")
	}
	m := regexp.MustCompile(`transactions:\s+(\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no transaction count in sysbench's output")
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Fatalf("sysbench committed no transaction")
	}
	for i := 1; i <= 2; i++ {
		var n int
		if err := conn.QueryRow(context.Background(), fmt.Sprintf("SELECT count(*) FROM sbtest%d", i)).Scan(&n); err != nil || n != 1000 {
			t.Errorf("sbtest%d after the run: %d rows, %v; want 1000", i, n, err)
		}
	}
	run(t, time.Minute, "sysbench", args(2, "cleanup")...)
	var left int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_class WHERE relname LIKE 'sbtest%'").Scan(&left); err != nil || left != 0 {
		t.Errorf("after cleanup: %d sbtest relations, %v", left, err)
	}
}
