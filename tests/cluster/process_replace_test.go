package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/ordodb/ordo/rpc/rpcpb"
	"github.com/ordodb/ordo/tests/testutil"
)

// Five real processes, replication factor 3: one is SIGKILLed under a
// write load; once it has been silent for server.time_until_dead (set to
// 3 s through SQL) every range is back at three replicas on live nodes,
// no range is reported under-replicated, every acknowledged write is
// readable, and the replicas agree.
func TestReplaceKilledProcess(t *testing.T) {
	p := StartSQLProcesses(t, 5).Processes
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://root@%s/defaultdb?sslmode=disable", p.SQLAddrs[0]))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SET CLUSTER SETTING server.time_until_dead = '3s'`); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"w/1", "w/2", "w/3"} {
		if _, err := p.NodeClient(0).AdminSplit(ctx, &rpcpb.AdminSplitRequest{SplitKey: []byte(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// The victim holds replicas: the initial ranges live on the first three.
	const victim = 1
	loadCtx, stopLoad := context.WithCancel(ctx)
	w := &ackedWriter{acked: map[string]string{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.run(loadCtx, 0, func(i int) *RoutedClient { return p.Client([]int{0, 2, 3, 4}[i]) }, 4)
	}()
	waitFor(ctx, 2*time.Second)
	p.Kill(victim)
	killed := time.Now()
	testutil.SucceedsWithin(t, 90*time.Second, func() error {
		ranges, replicas := rangeCounts(ctx, t, p)
		if n := replicas[victim+1]; n > 0 {
			return fmt.Errorf("killed n%d still holds %d replicas", victim+1, n)
		}
		for _, r := range ranges {
			if len(r.Desc.Replicas) != 3 || r.UnderReplicated || r.Unavailable {
				return fmt.Errorf("range %d: %d replicas, under-replicated %v", r.Desc.RangeId, len(r.Desc.Replicas), r.UnderReplicated)
			}
		}
		return nil
	})
	t.Logf("re-replicated %v after the SIGKILL (time_until_dead 3s)", time.Since(killed).Round(time.Millisecond))
	stopLoad()
	<-done
	w.verify(t, p.Client(0))
	testutil.SucceedsSoon(t, func() error { return ReplicasAgree(ctx, p.dialer, p.Addrs[0]) })
	// Decommissioning the dead node confirms at once: it cannot report
	// its counts, so the command counts the descriptors that name it.
	out, err := exec.CommandContext(ctx, p.bin, "node", "decommission", strconv.Itoa(victim+1),
		"--host", p.Addrs[0], "--wait-timeout", "60s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "can be stopped") {
		t.Fatalf("ordo node decommission of the dead node: %v\n%s", err, out)
	}
}
