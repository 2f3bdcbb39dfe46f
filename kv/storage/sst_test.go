package storage

import (
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// An ingested sstable replaces its span at once: its range deletion removes
// what the engine held there, its keys appear, keys outside stay; the file
// is gone from the auxiliary directory once ingested.
func TestIngestSST(t *testing.T) {
	e, err := Open(Config{Dir: "/s", FS: vfs.NewMem(), CacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	b := e.NewBatch()
	for _, k := range []string{"a", "m1", "m5", "m9", "z"} {
		_ = b.Set([]byte(k), []byte("old"))
	}
	if err := e.Commit(b, true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	w, err := e.NewSSTWriter("snap.sst")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteRange([]byte("m"), []byte("n")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1000; i++ {
		if err := w.Set([]byte(fmt.Sprintf("m%04d", i)), []byte("new")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Set([]byte("m0000"), nil); err == nil {
		t.Fatal("a key out of order was accepted")
	}
	path, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	{
		round := 0
		if files, _ := e.AuxFiles(); len(files) != 1 {
			t.Fatalf("aux files before ingestion: %v", files)
		}
		if err := e.IngestSST(path); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		_ = e.Scan([]byte("a"), []byte("zz"), false, func(k, v []byte) bool {
			got[string(k)] = string(v)
			return true
		})
		if len(got) != 1002 || got["a"] != "old" || got["z"] != "old" || got["m0500"] != "new" || got["m5"] != "" {
			t.Fatalf("round %d: %d keys, a=%q z=%q m0500=%q m5=%q", round, len(got), got["a"], got["z"], got["m0500"], got["m5"])
		}
	}
	if files, err := e.AuxFiles(); err != nil || len(files) != 0 || e.FileExists(path) {
		t.Fatalf("aux files after ingestion: %v %v", files, err)
	}
}
