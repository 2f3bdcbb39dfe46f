package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// A node that was down while the log moved past its truncation point
// catches up by snapshot after it restarts.
func TestRestartedNodeCatchesUpBySnapshot(t *testing.T) {
	c := StartInProcess(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db := c.DB(0)
	if err := db.Put(ctx, []byte("snap/first"), []byte("x")); err != nil {
		t.Fatal(err)
	}
	c.StopNode(2)
	for i := 0; i < 2500; i++ {
		if err := db.Put(ctx, []byte(fmt.Sprintf("snap/%05d", i)), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	c.Start(2)
	c.waitReplicasAgree(t, []byte("snap/"))
}
