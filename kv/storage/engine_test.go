package storage_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
	"github.com/ordodb/ordo/kv/storage"
)

func openMem(t *testing.T, fs vfs.FS, onFatal func(error)) *storage.Engine {
	t.Helper()
	eng, err := storage.Open(storage.Config{Dir: "/db", FS: fs, CacheBytes: 1 << 20, OnFatal: onFatal})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func commit(t *testing.T, eng *storage.Engine, sync bool, fn func(b *storage.Batch) error) {
	t.Helper()
	b := eng.NewBatch()
	defer b.Close()
	if err := fn(b); err != nil {
		t.Fatal(err)
	}
	if err := eng.Commit(b, sync); err != nil {
		t.Fatal(err)
	}
}

// collect scans [start, end) of r and returns "k=v" strings.
func collect(t *testing.T, r storage.Reader, start, end string, reverse bool, limit int) []string {
	t.Helper()
	var out []string
	err := r.Scan([]byte(start), []byte(end), reverse, func(k, v []byte) bool {
		out = append(out, string(k)+"="+string(v))
		return limit == 0 || len(out) < limit
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEngineGetSetScan(t *testing.T) {
	eng := openMem(t, vfs.NewMem(), nil)
	defer eng.Close()
	commit(t, eng, true, func(b *storage.Batch) error {
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			if err := b.Set([]byte(k), []byte("v"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	commit(t, eng, false, func(b *storage.Batch) error {
		if err := b.Delete([]byte("b")); err != nil {
			return err
		}
		return b.DeleteRange([]byte("d"), []byte("e"))
	})
	for _, tc := range []struct {
		key   string
		val   string
		found bool
	}{{"a", "va", true}, {"b", "", false}, {"c", "vc", true}, {"d", "", false}, {"e", "ve", true}, {"z", "", false}} {
		v, found, err := eng.Get([]byte(tc.key))
		if err != nil || found != tc.found || string(v) != tc.val {
			t.Errorf("get %q = %q, %v, %v; want %q, %v", tc.key, v, found, err, tc.val, tc.found)
		}
	}
	for _, tc := range []struct {
		name       string
		start, end string
		reverse    bool
		limit      int
		want       []string
	}{
		{"all", "a", "z", false, 0, []string{"a=va", "c=vc", "e=ve"}},
		{"reverse", "a", "z", true, 0, []string{"e=ve", "c=vc", "a=va"}},
		{"bounded", "b", "e", false, 0, []string{"c=vc"}},
		{"end exclusive", "a", "c", false, 0, []string{"a=va"}},
		{"stop early", "a", "z", false, 2, []string{"a=va", "c=vc"}},
		{"reverse stop early", "a", "z", true, 1, []string{"e=ve"}},
		{"empty", "f", "z", false, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := collect(t, eng, tc.start, tc.end, tc.reverse, tc.limit); !slices.Equal(got, tc.want) {
				t.Errorf("scan = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEngineIndexedBatchAndSnapshot(t *testing.T) {
	eng := openMem(t, vfs.NewMem(), nil)
	defer eng.Close()
	commit(t, eng, true, func(b *storage.Batch) error {
		if err := b.Set([]byte("a"), []byte("1")); err != nil {
			return err
		}
		return b.Set([]byte("c"), []byte("3"))
	})
	snap := eng.NewSnapshot()
	defer snap.Close()

	b := eng.NewIndexedBatch()
	defer b.Close()
	if !b.Empty() {
		t.Fatal("new batch not empty")
	}
	for _, err := range []error{b.Set([]byte("b"), []byte("2")), b.Delete([]byte("a")), b.Set([]byte("c"), []byte("33"))} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if b.Empty() || b.Len() == 0 {
		t.Fatal("batch with writes reports empty")
	}
	// The batch sees its own writes over the engine; the engine does not yet.
	if got, want := collect(t, b, "a", "z", false, 0), []string{"b=2", "c=33"}; !slices.Equal(got, want) {
		t.Errorf("batch scan = %v, want %v", got, want)
	}
	if got, want := collect(t, b, "a", "z", true, 0), []string{"c=33", "b=2"}; !slices.Equal(got, want) {
		t.Errorf("batch reverse scan = %v, want %v", got, want)
	}
	if v, found, err := b.Get([]byte("a")); err != nil || found {
		t.Errorf("batch get deleted a = %q, %v, %v", v, found, err)
	}
	if v, _, _ := b.Get([]byte("c")); string(v) != "33" {
		t.Errorf("batch get c = %q", v)
	}
	if got, want := collect(t, eng, "a", "z", false, 0), []string{"a=1", "c=3"}; !slices.Equal(got, want) {
		t.Errorf("engine before commit = %v, want %v", got, want)
	}
	if err := eng.Commit(b, false); err != nil {
		t.Fatal(err)
	}
	if got, want := collect(t, eng, "a", "z", false, 0), []string{"b=2", "c=33"}; !slices.Equal(got, want) {
		t.Errorf("engine after commit = %v, want %v", got, want)
	}
	// The snapshot still shows the state before the batch.
	if got, want := collect(t, snap, "a", "z", false, 0), []string{"a=1", "c=3"}; !slices.Equal(got, want) {
		t.Errorf("snapshot = %v, want %v", got, want)
	}
	if v, found, err := snap.Get([]byte("a")); err != nil || !found || string(v) != "1" {
		t.Errorf("snapshot get a = %q, %v, %v", v, found, err)
	}
}

// TestBatchRollbackTo checks that a rollback drops exactly the writes made
// after the mark (point writes, deletes and range deletions), in indexed and
// write-only batches, and that the batch stays usable and committable.
func TestBatchRollbackTo(t *testing.T) {
	for _, indexed := range []bool{true, false} {
		t.Run(fmt.Sprintf("indexed=%v", indexed), func(t *testing.T) {
			eng := openMem(t, vfs.NewMem(), nil)
			defer eng.Close()
			commit(t, eng, false, func(b *storage.Batch) error { return b.Set([]byte("x"), []byte("0")) })
			b := eng.NewBatch()
			if indexed {
				b = eng.NewIndexedBatch()
			}
			defer func() { b.Close() }()
			empty := b.Mark()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(b.Set([]byte("a"), []byte("1")))
			must(b.RollbackTo(empty))
			if !b.Empty() {
				t.Fatal("batch not empty after rolling back to its start")
			}
			must(b.Set([]byte("a"), []byte("1")))
			must(b.Delete([]byte("x")))
			m := b.Mark()
			must(b.RollbackTo(m)) // nothing written since: no-op
			must(b.Set([]byte("a"), []byte("2")))
			must(b.Set([]byte("b"), []byte("2")))
			must(b.DeleteRange([]byte("a"), []byte("z")))
			must(b.RollbackTo(m))
			if got := b.Mark(); got != m {
				t.Fatalf("mark after rollback = %+v, want %+v", got, m)
			}
			if indexed {
				if got, want := collect(t, b, "a", "z", false, 0), []string{"a=1"}; !slices.Equal(got, want) {
					t.Errorf("batch after rollback = %v, want %v", got, want)
				}
			}
			must(b.Set([]byte("c"), []byte("3")))
			must(eng.Commit(b, false))
			if got, want := collect(t, eng, "a", "z", false, 0), []string{"a=1", "c=3"}; !slices.Equal(got, want) {
				t.Errorf("engine after commit = %v, want %v", got, want)
			}
		})
	}
}

// TestEngineGetCopiesValue checks that a value returned by Get stays valid
// after later writes (it must not alias Pebble's buffers).
func TestEngineGetCopiesValue(t *testing.T) {
	eng := openMem(t, vfs.NewMem(), nil)
	defer eng.Close()
	commit(t, eng, false, func(b *storage.Batch) error { return b.Set([]byte("k"), []byte("first")) })
	v, _, err := eng.Get([]byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	commit(t, eng, false, func(b *storage.Batch) error { return b.Set([]byte("k"), []byte("second")) })
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	if string(v) != "first" {
		t.Fatalf("value changed under the caller: %q", v)
	}
}

func TestEngineReopenKeepsSyncedData(t *testing.T) {
	fs := vfs.NewMem()
	eng := openMem(t, fs, nil)
	for i := 0; i < 100; i++ {
		commit(t, eng, i%10 == 9, func(b *storage.Batch) error {
			return b.Set(fmt.Appendf(nil, "k%03d", i), fmt.Appendf(nil, "v%d", i))
		})
	}
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	eng = openMem(t, fs, nil)
	defer eng.Close()
	if got := collect(t, eng, "k", "l", false, 0); len(got) != 100 {
		t.Fatalf("after reopen: %d keys, want 100", len(got))
	}
}

// TestEngineFailStop injects an I/O error into the WAL and checks the
// fail-stop contract: the failing Commit returns an error wrapping ErrFatal,
// OnFatal runs exactly once, and every later Commit fails too.
func TestEngineFailStop(t *testing.T) {
	syncs := []errorfs.OpKind{errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo}
	for _, tc := range []struct {
		name string
		ops  []errorfs.OpKind
		err  error
		// sync of the first commit under the fault.
		sync bool
	}{
		{"sync EIO", syncs, syscall.EIO, true},
		{"write EIO then sync", []errorfs.OpKind{errorfs.OpFileWrite}, syscall.EIO, true},
		{"unsynced write EIO", []errorfs.OpKind{errorfs.OpFileWrite}, syscall.EIO, false},
		{"write ENOSPC", []errorfs.OpKind{errorfs.OpFileWrite}, syscall.ENOSPC, true},
		{"sync injected", syncs, errorfs.ErrInjected, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inj := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
				if strings.HasSuffix(op.Path, ".log") && slices.Contains(tc.ops, op.Kind) {
					return tc.err
				}
				return nil
			})}
			var fatals atomic.Int32
			var fatalErr atomic.Value
			eng := openMem(t, errorfs.Wrap(vfs.NewMem(), inj), func(err error) {
				fatals.Add(1)
				fatalErr.Store(err)
			})
			commit(t, eng, true, func(b *storage.Batch) error { return b.Set([]byte("before"), []byte("x")) })

			inj.On()
			err := commitOne(eng, "during", tc.sync)
			if err == nil {
				// A write error may surface only at the next sync.
				err = commitOne(eng, "during2", true)
			}
			if !errors.Is(err, storage.ErrFatal) {
				t.Fatalf("commit under injected %s error = %v, want ErrFatal", tc.name, err)
			}
			if n := fatals.Load(); n != 1 {
				t.Fatalf("OnFatal called %d times, want 1", n)
			}
			if e, _ := fatalErr.Load().(error); !errors.Is(e, storage.ErrFatal) {
				t.Errorf("OnFatal got %v, want an ErrFatal", e)
			}
			// The fault goes away; the engine must still refuse writes.
			inj.Off()
			for i, sync := range []bool{true, false, true} {
				if err := commitOne(eng, fmt.Sprintf("after%d", i), sync); !errors.Is(err, storage.ErrFatal) {
					t.Fatalf("commit %d after failure = %v, want ErrFatal", i, err)
				}
			}
			if n := fatals.Load(); n != 1 {
				t.Fatalf("OnFatal called %d times after later commits, want 1", n)
			}
			_ = eng.Close()
		})
	}
}

func commitOne(eng *storage.Engine, key string, sync bool) error {
	b := eng.NewBatch()
	defer b.Close()
	if err := b.Set([]byte(key), []byte("v")); err != nil {
		return err
	}
	return eng.Commit(b, sync)
}

// TestEngineFailStopConcurrent arms a sync fault while several goroutines
// commit: each sees ErrFatal and nothing but ErrFatal from then on, and
// OnFatal runs once.
func TestEngineFailStopConcurrent(t *testing.T) {
	inj := &errorfs.Toggle{Injector: errorfs.InjectorFunc(func(op errorfs.Op) error {
		if strings.HasSuffix(op.Path, ".log") && op.Kind.ReadOrWrite() == errorfs.OpIsWrite {
			return syscall.EIO
		}
		return nil
	})}
	var fatals atomic.Int32
	eng := openMem(t, errorfs.Wrap(vfs.NewMem(), inj), func(error) { fatals.Add(1) })
	defer eng.Close()
	const workers, perWorker = 4, 200
	errs := make(chan error, workers)
	var warm sync.WaitGroup
	warm.Add(workers)
	armed := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			failed := false
			for i := 0; i < perWorker; i++ {
				if i == perWorker/4 {
					warm.Done()
					<-armed
				}
				err := commitOne(eng, fmt.Sprintf("w%d-%d", w, i), i%2 == 0)
				switch {
				case err != nil && !errors.Is(err, storage.ErrFatal):
					errs <- fmt.Errorf("worker %d: %v is not ErrFatal", w, err)
					return
				case err == nil && failed:
					errs <- fmt.Errorf("worker %d: commit %d succeeded after a fatal error", w, i)
					return
				}
				failed = failed || err != nil
			}
			if !failed {
				errs <- fmt.Errorf("worker %d never saw the fault", w)
				return
			}
			errs <- nil
		}()
	}
	warm.Wait()
	inj.On()
	close(armed)
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := fatals.Load(); n != 1 {
		t.Fatalf("OnFatal called %d times, want 1", n)
	}
}
