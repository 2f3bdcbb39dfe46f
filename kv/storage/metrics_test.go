package storage_test

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/ordodb/ordo/kv/storage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestCollector: the engine's collector exports Pebble's metrics, WAL
// fsyncs included, under names promlint accepts; a closed engine exports
// nothing.
func TestCollector(t *testing.T) {
	eng := openMem(t, vfs.NewMem(), nil)
	for i := range 5 {
		commit(t, eng, true, func(b *storage.Batch) error { return b.Set([]byte{'k', byte(i)}, []byte("v")) })
	}
	if err := eng.Flush(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(eng.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		switch {
		case m.GetHistogram() != nil:
			got[f.GetName()] = float64(m.GetHistogram().GetSampleCount())
		case m.GetCounter() != nil:
			got[f.GetName()] = m.GetCounter().GetValue()
		default:
			got[f.GetName()] = m.GetGauge().GetValue()
		}
	}
	if got["ordo_storage_wal_fsync_duration_seconds"] < 5 {
		t.Errorf("WAL fsyncs observed = %v, want at least 5 (one per synced commit)", got["ordo_storage_wal_fsync_duration_seconds"])
	}
	if got["ordo_storage_flushes_total"] < 1 {
		t.Errorf("flushes = %v after a flush", got["ordo_storage_flushes_total"])
	}
	if got["ordo_storage_disk_usage_bytes"] <= 0 || got["ordo_storage_sstables"] < 1 {
		t.Errorf("disk usage %v, sstables %v after a flush", got["ordo_storage_disk_usage_bytes"], got["ordo_storage_sstables"])
	}
	if problems, err := testutil.CollectAndLint(eng.Collector()); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	if n, err := eng.EstimateDiskUsage([]byte("k"), []byte("l")); err != nil || n == 0 {
		t.Errorf("EstimateDiskUsage = %d, %v after a flush", n, err)
	}
	_ = eng.Close()
	if n := testutil.CollectAndCount(eng.Collector()); n != 0 {
		t.Errorf("a closed engine exported %d series", n)
	}
}
