package cluster

import (
	"context"
	"fmt"
	"testing"

	"github.com/ordodb/ordo/txn"
)

// TestTxnSavepointTwoRanges: RollbackTo undoes, at each of two ranges, the
// writes made after the savepoint (puts, overwrites and deletes) and keeps
// the earlier ones; reads see the restored values; the commit applies
// exactly the surviving writes.
func TestTxnSavepointTwoRanges(t *testing.T) {
	c := StartInProcess(t, 1)
	c.splitAt(t, "b")
	ctx := context.Background()
	co := c.Node(0).Txns()
	tx := co.Begin()
	put := func(k, v string) {
		if err := tx.Put(ctx, []byte(k), []byte(v)); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
	}
	put("a1", "v1")
	put("b1", "v1")
	sp := tx.Savepoint()
	put("a1", "v2")
	put("a2", "v2")
	if err := tx.Delete(ctx, []byte("b1")); err != nil {
		t.Fatal(err)
	}
	put("b2", "v2")
	inner := tx.Savepoint()
	put("b3", "v3")
	if err := tx.RollbackTo(ctx, inner); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, tx, map[string]string{"a1": "v2", "a2": "v2", "b2": "v2"})
	if err := tx.RollbackTo(ctx, sp); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a1": "v1", "b1": "v1"}
	expect(t, ctx, tx, want)
	// Rolling back to the same savepoint again, after more writes, works.
	put("b4", "v4")
	if err := tx.RollbackTo(ctx, sp); err != nil {
		t.Fatal(err)
	}
	put("a3", "v3")
	want["a3"] = "v3"
	expect(t, ctx, tx, want)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err := co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
		return check(ctx, tx, want)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTxnSavepointRollbackAllWrites: a transaction whose every write is
// rolled back commits as read-only at the ranges it wrote, and a new write
// afterwards picks a new anchor.
func TestTxnSavepointRollbackAllWrites(t *testing.T) {
	c := StartInProcess(t, 1)
	c.splitAt(t, "b")
	ctx := context.Background()
	co := c.Node(0).Txns()
	tx := co.Begin()
	sp := tx.Savepoint()
	for _, k := range []string{"a1", "b1"} {
		if err := tx.Put(ctx, []byte(k), []byte("gone")); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.RollbackTo(ctx, sp); err != nil {
		t.Fatal(err)
	}
	if err := tx.Put(ctx, []byte("b2"), []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err := co.Run(ctx, func(ctx context.Context, tx *txn.Txn) error {
		return check(ctx, tx, map[string]string{"b2": "kept"})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func expect(t *testing.T, ctx context.Context, tx *txn.Txn, want map[string]string) {
	t.Helper()
	if err := check(ctx, tx, want); err != nil {
		t.Fatal(err)
	}
}

// check scans [a, c) in tx and compares with want.
func check(ctx context.Context, tx *txn.Txn, want map[string]string) error {
	rows, err := tx.Scan(ctx, []byte("a"), []byte("c"), 0, false, txn.LockShared)
	if err != nil {
		return err
	}
	got := map[string]string{}
	for _, r := range rows {
		got[string(r.Key)] = string(r.Value)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("got %v, want %v", got, want)
	}
	for k, v := range want {
		val, found, err := tx.Get(ctx, []byte(k), txn.LockShared)
		if err != nil || !found || string(val) != v {
			return fmt.Errorf("get %s = %q %t %v, want %q", k, val, found, err, v)
		}
	}
	return nil
}
