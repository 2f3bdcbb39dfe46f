package nemesis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/kv/failpoint"
	"github.com/ordodb/ordo/kv/keys"
	"github.com/ordodb/ordo/kv/keys/encoding"
	"github.com/ordodb/ordo/kv/kverr"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/sql/catalog"
	"github.com/ordodb/ordo/tests/testutil"
)

var failpointBuild struct {
	once      sync.Once
	path, out string
	err       error
}

// failpointBinary builds ordo with -tags failpoints, once per test process.
func failpointBinary(t *testing.T) string {
	t.Helper()
	failpointBuild.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir, err := os.MkdirTemp("", "ordo-failpoints-")
		if err != nil {
			failpointBuild.err = err
			return
		}
		failpointBuild.path = filepath.Join(dir, "ordo")
		cmd := exec.Command("go", "build", "-tags", "failpoints", "-o", failpointBuild.path, "./cmd/ordo")
		cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			failpointBuild.err = fmt.Errorf("go build -tags failpoints: %v\n%s", err, out)
		}
	})
	if failpointBuild.err != nil {
		t.Fatal(failpointBuild.err)
	}
	return failpointBuild.path
}

// A transaction over two ranges, its coordinator or a participant SIGKILLed
// at each of the commit protocol's failpoints: the crash happens exactly
// there; after the restart the transaction is atomic (both rows moved or
// neither), committed exactly when the crash came after the commit point
// and aborted when it came before it, and its locks are gone (the next
// transaction over both rows commits).
func TestFailpointCrashes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := StartCluster(ctx, Config{Binary: failpointBinary(t), Dir: t.TempDir(), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	url := func(i int) string { return "postgres://root@" + c.Nodes[i].SQLAddr + "/defaultdb?sslmode=disable" }
	setup, err := pgx.Connect(ctx, url(1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = setup.Close(ctx) }()
	var oid uint32
	for _, q := range []string{"CREATE TABLE acct (id INT PRIMARY KEY, bal INT NOT NULL)", "INSERT INTO acct VALUES (1, 100), (2, 100)"} {
		if _, err := setup.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := setup.QueryRow(ctx, "SELECT 'acct'::regclass::oid").Scan(&oid); err != nil {
		t.Fatal(err)
	}
	split := encoding.AppendInt(keys.IndexPrefix(uint64(oid), catalog.PrimaryIndexID), 2, encoding.Ascending)
	err = c.admin(ctx, 0, func(ctx context.Context, nc rpcpb.NodeClient) error {
		resp, err := nc.AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: split})
		if err == nil {
			err = kverr.FromProto(resp.Error)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		point string
		// participant arms the leaseholder of row 2's range (not the
		// anchor's); otherwise the failpoint is armed at the gateway n1,
		// the coordinator.
		participant bool
		// committed: the transfer must have committed; aborted: it must
		// not have; neither: either, atomically.
		committed, aborted bool
	}{
		{point: failpoint.CoordAfterPrepareAll, aborted: true},
		{point: failpoint.CoordAfterCommitBeforeResolve, committed: true},
		{point: failpoint.ParticipantAfterPrepareBeforeAck, participant: true},
	} {
		before, err := balances(ctx, url(1))
		if err != nil {
			t.Fatal(err)
		}
		armed := []int{0}
		if tc.participant {
			armed = []int{leaseholderAt(ctx, t, c, split)}
		}
		for _, i := range armed {
			if err := c.failpoint(ctx, i, http.MethodPut, tc.point, "1*crash"); err != nil {
				t.Fatal(err)
			}
		}
		txErr := transfer(ctx, url(0))
		crashed := waitCrashed(ctx, t, c, armed)
		t.Logf("%s: the transfer answered %v; n%d crashed", tc.point, txErr, crashed+1)
		if txErr == nil && !tc.participant {
			t.Errorf("%s: the coordinator crashed, yet the client was answered", tc.point)
		}
		for _, i := range armed {
			if i != crashed {
				if err := c.failpoint(ctx, i, http.MethodDelete, tc.point, ""); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := c.Start(crashed); err != nil {
			t.Fatal(err)
		}
		if err := c.WaitHealthy(ctx, crashed); err != nil {
			t.Fatal(err)
		}
		// The rows are readable once recovery resolved the transaction;
		// wait for that with a deadline.
		var after [2]int
		deadline := time.Now().Add(60 * time.Second)
		for {
			after, err = balances(ctx, url((crashed+1)%3))
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: the rows not readable 60 s after the restart: %v", tc.point, err)
		}
		moved := after[0] == before[0]-10 && after[1] == before[1]+10
		if !moved && after != before {
			t.Fatalf("%s: not atomic: balances %v before, %v after", tc.point, before, after)
		}
		if tc.committed && !moved {
			t.Errorf("%s: the transaction committed before the crash, yet it is gone: %v", tc.point, after)
		}
		if tc.aborted && moved {
			t.Errorf("%s: the transaction crashed before its commit point, yet it committed", tc.point)
		}
		if err := transfer(ctx, url(2)); err != nil {
			t.Fatalf("%s: a transfer after recovery: %v", tc.point, err)
		}
	}
}

// leaseholderAt is the node index of the leaseholder of the range that
// starts at key.
func leaseholderAt(ctx context.Context, t *testing.T, c *Cluster, key []byte) int {
	t.Helper()
	lh := -1
	testutil.SucceedsWithin(t, 20*time.Second, func() error {
		ranges, err := c.UserRanges(ctx, 0)
		if err != nil {
			return err
		}
		for _, r := range ranges {
			if bytes.Equal(r.Desc.StartKey, key) && r.Leaseholder >= 0 {
				lh = r.Leaseholder
				return nil
			}
		}
		return fmt.Errorf("no leaseholder of the range at %s", keys.Pretty(key))
	})
	return lh
}

// balances reads both rows through url, on a new connection.
func balances(ctx context.Context, url string) ([2]int, error) {
	var b [2]int
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return b, err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	err = conn.QueryRow(ctx, "SELECT (SELECT bal FROM acct WHERE id = 1), (SELECT bal FROM acct WHERE id = 2)").Scan(&b[0], &b[1])
	return b, err
}

// transfer moves 10 from row 1 to row 2 in one transaction through url.
func transfer(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	for _, q := range []string{"UPDATE acct SET bal = bal - 10 WHERE id = 1", "UPDATE acct SET bal = bal + 10 WHERE id = 2"} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// waitCrashed waits until exactly one of the nodes in armed has exited
// and returns it.
func waitCrashed(ctx context.Context, t *testing.T, c *Cluster, armed []int) int {
	t.Helper()
	crashed := -1
	testutil.SucceedsWithin(t, 20*time.Second, func() error {
		for _, i := range armed {
			if c.reapExited(i) {
				crashed = i
				return nil
			}
		}
		return errors.New("no armed node crashed")
	})
	return crashed
}
